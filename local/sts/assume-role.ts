/**
 * The local STS's AssumeRole: its parameters validated as AWS documents them (session name,
 * duration, policy, tags, source identity, packed size), the session it issues, and STS's XML
 * answers and errors. The server (server.ts) authenticates the caller first.
 */
import { deflateRawSync } from 'node:zlib';
import { SANDBOX_VENDING_ROLE_ARN, SANDBOX_VENDING_ROLE_ID, assumedRoleArn } from '../names';
import { newSecretAccessKey, newSessionToken, newTemporaryAccessKeyId, type StsSession } from './session-store';
import { xmlElements } from '../shared/xml';
import { SESSION_TAG_KEYS } from '../../lambda/credentials/session-tags';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';
/** A larger form than this is not an STS request. */
export const MAX_FORM_BYTES = 64 * 1024;
/** AssumeRole's API limit on the plaintext session policy. */
const MAX_POLICY_CHARACTERS = 2048;
/** The vending role is assumed by a Lambda role session: role chaining caps sessions at one hour. */
const ROLE_CHAINING_MAX_SECONDS = 3600;
const MAX_SESSION_TAGS = 50;
/** STS's limit on the packed (compressed) form of policy and tags; reported as a percentage. */
const PACKED_POLICY_LIMIT_BYTES = 2048;

/** An STS error as AWS answers it. */
export class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** STS's 400 ValidationError. */
export function validationError(message: string): StsError {
  return new StsError(400, 'ValidationError', message);
}

const SESSION_NAME = /^[\w+=,.@-]*$/;
// AWS's tag pattern: letters, separators, numbers and _.:/=+-@
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
// AWS's pattern for Policy: tab, line feed, carriage return and U+0020-U+00FF.
// eslint-disable-next-line no-control-regex
const POLICY_CHARACTERS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;

/** Checks that a session policy is JSON shaped like an IAM policy, as STS does before accepting it. */
function checkPolicyDocument(text: string): void {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new StsError(400, 'MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
  }
  const malformed = (why: string) => new StsError(400, 'MalformedPolicyDocument', why);
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw malformed('The policy must be a JSON object.');
  const { Version, Statement } = document as { Version?: unknown; Statement?: unknown };
  if (Version !== undefined && Version !== '2012-10-17' && Version !== '2008-10-17')
    throw malformed('The policy must contain a valid version string.');
  const statements = Array.isArray(Statement) ? Statement : Statement === undefined ? [] : [Statement];
  if (statements.length === 0) throw malformed('Syntax errors in policy.');
  for (const statement of statements as unknown[]) {
    if (statement === null || typeof statement !== 'object') throw malformed('Syntax errors in policy.');
    const s = statement as Record<string, unknown>;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
      throw malformed('Syntax errors in policy: Effect must be Allow or Deny.');
    if ((s.Action === undefined) === (s.NotAction === undefined))
      throw malformed('Syntax errors in policy: a statement needs Action or NotAction.');
    if ((s.Resource === undefined) === (s.NotResource === undefined))
      throw malformed('Syntax errors in policy: a statement needs Resource or NotResource.');
    if (s.Principal !== undefined || s.NotPrincipal !== undefined)
      throw malformed('Policy document should not specify a principal.');
  }
}

/** The member list `Prefix.member.N.Field` of a query-protocol request, in N order. */
function memberList(
  params: ReadonlyMap<string, string>,
  prefix: string,
  fields: readonly string[],
): Record<string, string | undefined>[] {
  const members = new Map<number, Record<string, string | undefined>>();
  for (const [name, value] of params) {
    const m = new RegExp(`^${prefix}\\.member\\.(\\d+)\\.(\\w+)$`).exec(name);
    if (!m || !fields.includes(m[2] as string)) continue;
    const index = Number(m[1]);
    const member = members.get(index) ?? {};
    member[m[2] as string] = value;
    members.set(index, member);
  }
  return [...members.entries()].sort(([a], [b]) => a - b).map(([, member]) => member);
}

/** Validates AssumeRole's parameters and returns the session it would create. */
export function assumeRole(
  params: ReadonlyMap<string, string>,
  callerArn: string,
  now: number,
): { session: StsSession; packedPercent: number } {
  const roleArn = params.get('RoleArn');
  const roleSessionName = params.get('RoleSessionName');
  if (roleArn === undefined)
    throw validationError(
      "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
  if (roleSessionName === undefined) {
    throw validationError(
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    );
  }
  if (roleArn.length < 20 || roleArn.length > 2048) {
    throw validationError(
      `1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048`,
    );
  }
  if (roleSessionName.length < 2 || roleSessionName.length > 64) {
    throw validationError(
      `1 validation error detected: Value '${roleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64`,
    );
  }
  if (!SESSION_NAME.test(roleSessionName)) {
    throw validationError(
      `1 validation error detected: Value '${roleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }

  const durationText = params.get('DurationSeconds');
  let durationSeconds = 3600;
  if (durationText !== undefined) {
    if (!/^\d{1,9}$/.test(durationText))
      throw validationError(
        `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`,
      );
    durationSeconds = Number(durationText);
    if (durationSeconds < 900) {
      throw validationError(
        `1 validation error detected: Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    }
    if (durationSeconds > 43200) {
      throw validationError(
        `1 validation error detected: Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
      );
    }
    if (durationSeconds > ROLE_CHAINING_MAX_SECONDS) {
      throw validationError(
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
  }

  const policy = params.get('Policy');
  if (policy !== undefined) {
    if (policy.length < 1 || policy.length > MAX_POLICY_CHARACTERS) {
      throw validationError(
        `1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to ${MAX_POLICY_CHARACTERS}`,
      );
    }
    if (!POLICY_CHARACTERS.test(policy)) {
      throw validationError(
        "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
      );
    }
    checkPolicyDocument(policy);
  }
  if ([...params.keys()].some((name) => name.startsWith('PolicyArns.'))) {
    throw new StsError(
      400,
      'InvalidParameterValue',
      'The sandbox STS does not resolve managed policy ARNs; pass an inline session policy.',
    );
  }

  const sourceIdentity = params.get('SourceIdentity');
  if (sourceIdentity !== undefined) {
    if (sourceIdentity.length < 2 || sourceIdentity.length > 64) {
      throw validationError(
        `1 validation error detected: Value '${sourceIdentity}' at 'sourceIdentity' failed to satisfy constraint: Member must have length between 2 and 64`,
      );
    }
    if (!SESSION_NAME.test(sourceIdentity)) {
      throw validationError(
        `1 validation error detected: Value '${sourceIdentity}' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    if (sourceIdentity.toLowerCase().startsWith('aws:'))
      throw validationError('SourceIdentity must not start with the text aws:.');
  }

  const tagMembers = memberList(params, 'Tags', ['Key', 'Value']);
  if (tagMembers.length > MAX_SESSION_TAGS) {
    throw validationError(
      `1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SESSION_TAGS}`,
    );
  }
  const tags: Record<string, string> = {};
  const seenKeys = new Set<string>();
  for (const { Key: key, Value: value } of tagMembers) {
    if (key === undefined || value === undefined) throw validationError('Each session tag needs a Key and a Value.');
    if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key)) {
      throw validationError(
        `1 validation error detected: Value '${key}' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+`,
      );
    }
    if (value.length > 256 || !TAG_TEXT.test(value)) {
      throw validationError(
        `1 validation error detected: Value '${value}' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`,
      );
    }
    if (key.toLowerCase().startsWith('aws:'))
      throw new StsError(400, 'InvalidParameterValue', 'Tag keys must not start with aws:.');
    if (seenKeys.has(key.toLowerCase())) {
      throw new StsError(
        400,
        'InvalidParameterValue',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    }
    seenKeys.add(key.toLowerCase());
    tags[key] = value;
  }
  const packedBytes = deflateRawSync(JSON.stringify([policy ?? '', tags])).length;
  if (packedBytes > PACKED_POLICY_LIMIT_BYTES) {
    throw new StsError(
      400,
      'PackedPolicyTooLarge',
      `Packed policy consumes ${Math.ceil((packedBytes / PACKED_POLICY_LIMIT_BYTES) * 100)}% of allotted space, please use smaller policy.`,
    );
  }

  if (roleArn !== SANDBOX_VENDING_ROLE_ARN) {
    throw new StsError(
      403,
      'AccessDenied',
      `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  }
  // The vending role's trust policy (policies/vending-role-trust-policy.json) requires a source
  // identity and allows only the TVM's session tag keys; AWS refuses anything else as here.
  if (sourceIdentity === undefined) {
    throw new StsError(
      403,
      'AccessDenied',
      `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  }
  if (Object.keys(tags).some((key) => !(SESSION_TAG_KEYS as readonly string[]).includes(key))) {
    throw new StsError(
      403,
      'AccessDenied',
      `User: ${callerArn} is not authorized to perform: sts:TagSession on resource: ${roleArn}`,
    );
  }
  const session: StsSession = {
    accessKeyId: newTemporaryAccessKeyId(),
    secretAccessKey: newSecretAccessKey(),
    sessionToken: newSessionToken(),
    issuedAt: now,
    // AWS reports expiry to the second.
    expiresAt: Math.floor(now / 1000) * 1000 + durationSeconds * 1000,
    roleArn,
    roleSessionName,
    assumedRoleArn: assumedRoleArn(roleSessionName),
    assumedRoleId: `${SANDBOX_VENDING_ROLE_ID}:${roleSessionName}`,
    sourceIdentity,
    ...(policy !== undefined ? { sessionPolicy: policy } : {}),
    tags,
  };
  return { session, packedPercent: Math.max(1, Math.ceil((packedBytes / PACKED_POLICY_LIMIT_BYTES) * 100)) };
}

/** An instant as STS writes it (ISO 8601, whole seconds). */
export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** AssumeRole's XML answer. */
export function assumeRoleXml(session: StsSession, packedPercent: number, requestId: string): string {
  return (
    `<AssumeRoleResponse xmlns="${STS_NAMESPACE}"><AssumeRoleResult>` +
    (session.sourceIdentity !== undefined ? xmlElements({ SourceIdentity: session.sourceIdentity }) : '') +
    `<AssumedRoleUser>${xmlElements({ Arn: session.assumedRoleArn, AssumedRoleId: session.assumedRoleId })}</AssumedRoleUser>` +
    `<Credentials>${xmlElements({
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: isoSeconds(session.expiresAt),
    })}</Credentials>` +
    `<PackedPolicySize>${packedPercent}</PackedPolicySize>` +
    `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`
  );
}

/** STS's XML error answer. */
export function errorXml(error: StsError, requestId: string): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>${type}</Type>` +
    `${xmlElements({ Code: error.code, Message: error.message })}</Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/**
 * The S3 gate's authorisation stage: what the request asks (its operation and the IAM checks
 * it needs, operations.ts), and whether its signer may: the vending role's policy, its inline
 * policies (the operator's revocations) and the session's own policy, evaluated together by a
 * real IAM policy engine (@cloud-copilot/iam-simulate) for every check. The operator's key is
 * the bucket owner: anything on the sandbox's bucket, nothing elsewhere.
 */
import type { IncomingMessage } from 'node:http';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../policies';
import { accessDeniedReason } from '../iam/server';
import { SANDBOX_ACCOUNT_ID, SANDBOX_BUCKET, SANDBOX_LOG_BUCKET, SANDBOX_REGION } from '../names';
import { AwsAuthError, type SignatureClaim } from '../shared/sigv4';
import { parseAmzDate } from '../shared/sigv4-claim';
import type { StsSession } from '../sts/session-store';
import type { Authenticated, Principal } from './authenticate';
import { readDeletePlan } from './body';
import type { Exchange } from './exchange';
import type { AuthorisationCheck, DeleteObjectsPlan } from './checks';
import { describeS3Operation, type S3Operation } from './operations';
import type { ParsedS3Request } from './request';
import { requesterArn } from './request-record';
import type { XmlReader } from './xml-thread';

/** The policies the gate evaluates, and how it reports a refusal. */
export interface GatePolicies {
  /** The vending role's own policy (its identity policy). */
  readonly vendingRolePolicy: PolicyDocument;
  /** The role's other inline policies as they are now, read on every request. */
  readonly inlineRolePolicies?: () => readonly { readonly name: string; readonly policy: PolicyDocument }[];
  /** Print one line per refused request. */
  readonly log?: boolean;
  /**
   * What the functions' execution roles may do in S3 (S3GateOptions.functionsMay): the
   * stack's grants, e.g. the access-log processor reading the log bucket. Default: nothing.
   */
  readonly functionsMay?: (check: AuthorisationCheck) => boolean;
  /** The key a multipart upload was started for, as the emulator recorded it (see S3GateOptions). */
  readonly multipartUploadKey?: (bucket: string, uploadId: string) => Promise<string | undefined>;
}

/** An authorised request: its operation, and for DeleteObjects the keys it deletes. */
export interface Authorised {
  readonly operation: S3Operation;
  readonly deletePlan?: DeleteObjectsPlan;
}

/** s3rver's upload ids: 16 random bytes in hex. Anything else never reaches a file path. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** Works out the operation and authorises every check it needs; throws S3's AccessDenied (or NoSuchUpload) otherwise. */
export async function authorise(
  exchange: Exchange,
  parsed: ParsedS3Request,
  signed: Authenticated,
  policies: GatePolicies,
  xml: XmlReader,
): Promise<Authorised> {
  const header = (name: string) => parsed.headers.get(name);
  const operation = describeS3Operation({
    method: parsed.method,
    ...(parsed.bucket !== undefined ? { bucket: parsed.bucket } : {}),
    ...(parsed.key !== undefined ? { key: parsed.key } : {}),
    query: parsed.query,
    header,
  });
  exchange.resource =
    operation.key !== undefined
      ? `/${operation.bucket}/${operation.key}`
      : operation.bucket !== undefined
        ? `/${operation.bucket}`
        : '/';
  const context = (session: StsSession) => requestContext(session, signed.claim, exchange.req, exchange.now);
  if (operation.needsDeleteKeysFromBody) {
    const deletePlan = await readDeletePlan(exchange, signed, operation, xml);
    await authoriseChecks(deletePlan.checks, signed.principal, context, policies);
    return { operation, deletePlan };
  }
  // S3 authorises before it reads the body: a refused upload costs nothing.
  await authoriseChecks(operation.checks, signed.principal, context, policies);
  // Only after authorisation, as S3 does: the upload must belong to the key just authorised.
  const uploadId = parsed.query.get('uploadId');
  if (uploadId !== undefined && operation.key !== undefined) {
    const recordedKey =
      UPLOAD_ID.test(uploadId) && policies.multipartUploadKey
        ? await policies.multipartUploadKey(operation.bucket ?? '', uploadId)
        : undefined;
    if (recordedKey !== operation.key) {
      throw new AwsAuthError(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        {
          UploadId: uploadId,
        },
      );
    }
  }
  return { operation };
}

/** Evaluates each check in turn; the first refused throws AccessDenied as AWS words it. */
export async function authoriseChecks(
  checks: readonly AuthorisationCheck[],
  principal: Principal,
  context: (session: StsSession) => Record<string, string>,
  policies: GatePolicies,
  /** Added to the log line. */
  note = '',
): Promise<void> {
  for (const check of checks) {
    const reason =
      principal.kind === 'operator'
        ? ownerMayDo(check)
          ? undefined
          : accessDeniedReason(check.action, {})
        : principal.kind === 'functions'
          ? policies.functionsMay?.(check)
            ? undefined
            : accessDeniedReason(check.action, {})
          : await denial(check, principal.session, identityPolicies(policies), context(principal.session));
    if (reason === undefined) continue;
    const who = requesterArn(principal);
    if (policies.log)
      console.log(`[sandbox s3 gate] AccessDenied ${who} ${check.action} ${check.displayResource}${note}`);
    throw new AwsAuthError(
      403,
      'AccessDenied',
      `User: ${who} is not authorized to perform: ${check.action} on resource: "${check.displayResource}" ${reason}`,
    );
  }
}

/** The bucket owner may do anything to the sandbox's buckets (files and logs) and their objects, nothing elsewhere. */
function ownerMayDo(check: AuthorisationCheck): boolean {
  return (
    check.resource === '*' ||
    [SANDBOX_BUCKET, SANDBOX_LOG_BUCKET].some((name) => {
      const bucket = `arn:aws:s3:::${name}`;
      return check.resource === bucket || check.resource.startsWith(`${bucket}/`);
    })
  );
}

/** The vending role's policies as they are now. */
function identityPolicies(policies: GatePolicies): { name: string; policy: PolicyDocument }[] {
  return [{ name: 'tvm-vending', policy: policies.vendingRolePolicy }, ...(policies.inlineRolePolicies?.() ?? [])];
}

/** Request-wide condition keys: who is asking, how and when. */
export function requestContext(
  session: StsSession,
  claim: SignatureClaim,
  req: IncomingMessage,
  now: number,
): Record<string, string> {
  const context: Record<string, string> = {
    'aws:CurrentTime': new Date(now).toISOString(),
    'aws:EpochTime': String(Math.floor(now / 1000)),
    // The sandbox speaks plain HTTP on loopback.
    'aws:SecureTransport': 'false',
    'aws:PrincipalArn': session.roleArn,
    'aws:PrincipalAccount': SANDBOX_ACCOUNT_ID,
    'aws:PrincipalType': 'AssumedRole',
    'aws:userid': session.assumedRoleId,
    'aws:TokenIssueTime': new Date(session.issuedAt).toISOString(),
    'aws:MultiFactorAuthPresent': 'false',
    'aws:ViaAWSService': 'false',
    'aws:RequestedRegion': SANDBOX_REGION,
    'aws:SourceIp': req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    's3:authType': claim.kind === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:signatureAge': String(Math.max(0, now - parseAmzDate(claim.amzDate))),
  };
  if (claim.contentSha256 !== undefined) context['s3:x-amz-content-sha256'] = claim.contentSha256;
  const userAgent = req.headers['user-agent'];
  if (userAgent !== undefined) context['aws:UserAgent'] = userAgent;
  if (session.sourceIdentity !== undefined) context['aws:SourceIdentity'] = session.sourceIdentity;
  for (const [key, value] of Object.entries(session.tags)) context[`aws:PrincipalTag/${key}`] = value;
  return context;
}

/**
 * Evaluates one check: undefined when allowed, else the AccessDenied reason as AWS words it
 * (local/iam/server.ts). Anything but Allowed (including an engine error) refuses.
 */
async function denial(
  check: AuthorisationCheck,
  session: StsSession,
  identityPolicies: readonly { readonly name: string; readonly policy: PolicyDocument }[],
  context: Record<string, string>,
): Promise<string | undefined> {
  const result = await runSimulation(
    {
      request: {
        principal: session.assumedRoleArn,
        action: check.action,
        resource: { resource: check.resource, accountId: SANDBOX_ACCOUNT_ID },
        contextVariables: { ...context, ...check.context },
      },
      identityPolicies: identityPolicies.map(({ name, policy }) => ({ name, policy })),
      sessionPolicy: session.sessionPolicy === undefined ? undefined : JSON.parse(session.sessionPolicy),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    console.error(
      `[sandbox s3 gate] policy engine refused to evaluate ${check.action} on ${check.displayResource}: ${result.errors.message}`,
    );
    return accessDeniedReason(check.action, {});
  }
  if (result.overallResult === 'Allowed') return undefined;
  const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
  return accessDeniedReason(check.action, {
    identity: analysis?.identityAnalysis?.result,
    session: analysis?.sessionAnalysis?.result,
  });
}

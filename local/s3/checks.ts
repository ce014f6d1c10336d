/**
 * The building blocks of the S3 gate's authorisation checks (operations.ts puts them
 * together per operation): one IAM check, what a write needs besides its action (condition
 * keys from its headers, ACL and tagging side effects, the copy source read strictly), and
 * DeleteObjects' plan, one check per key of its body.
 */
import { AwsAuthError } from '../shared/sigv4';
import { assertBucketName, assertRepresentableKey, strictDecode } from './request';
import { parseDeleteObjectsBody, type DeleteObjectsBody } from './xml-bodies';

/** Reads one request header (lower-case name), undefined when absent. */
export type HeaderReader = (name: string) => string | undefined;

/** One IAM check: every check of an operation must be allowed. */
export interface AuthorisationCheck {
  /** `s3:GetObject`, ... */
  readonly action: string;
  /** The ARN as IAM sees it (keys decoded, never wildcards: see {@link literalForIam}). */
  readonly resource: string;
  /** The same resource as S3 reports it in messages. */
  readonly displayResource: string;
  /** Operation-specific condition keys. */
  readonly context: Readonly<Record<string, string>>;
}

/**
 * iam-simulate treats `*` in a request resource as a pattern to expand and `?` may be read
 * as a wildcard. In a request, S3 keys are literal: replacing each with a private-use
 * character that no policy contains keeps IAM's semantics (a policy `*` still matches it,
 * no literal in a policy can) and keeps the engine in single-resource mode.
 */
export function literalForIam(text: string): string {
  return text.replace(/\*/g, '\uE000').replace(/\?/g, '\uE001');
}

function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/** The check of one action on a bucket, or on a key in it. */
export function check(
  action: string,
  bucket: string,
  key: string | undefined,
  context: Record<string, string> = {},
): AuthorisationCheck {
  const display = key === undefined ? bucketArn(bucket) : `${bucketArn(bucket)}/${key}`;
  return {
    action,
    resource:
      key === undefined
        ? bucketArn(literalForIam(bucket))
        : `${bucketArn(literalForIam(bucket))}/${literalForIam(key)}`,
    displayResource: display,
    context,
  };
}

/**
 * Reads `x-amz-copy-source` (`[/]bucket/key`, URL-encoded) once, strictly, as the request
 * path is read. The emulator gets a header rebuilt from the result, never this one.
 */
export function copySource(raw: string): { bucket: string; key: string } {
  // Versions do not exist in the sandbox, and a `?` left raw would be read as part of the key by the emulator.
  if (raw.includes('?'))
    throw new AwsAuthError(
      501,
      'NotImplemented',
      'The sandbox has no object versions: copy sources cannot carry a versionId.',
    );
  if (!RAW_COPY_SOURCE.test(raw))
    throw new AwsAuthError(400, 'InvalidArgument', 'Invalid copy source encoding.', {
      ArgumentName: 'x-amz-copy-source',
    });
  const decoded = strictDecode(raw);
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1)
    throw new AwsAuthError(
      400,
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.',
    );
  const key = trimmed.slice(slash + 1);
  const bucket = trimmed.slice(0, slash);
  assertBucketName(bucket);
  assertRepresentableKey(key);
  return { bucket, key };
}

// As for request paths: RFC 3986 characters, no raw `+` or `;`.
const RAW_COPY_SOURCE = /^[A-Za-z0-9\-._~!$&'()*,=:@/%]+$/;

/**
 * Canned ACLs a bucket with Object Ownership "bucket owner enforced" accepts on a write: AWS
 * documents `bucket-owner-full-control`; `private` grants the same single grant (full control
 * to the object owner, who is the bucket owner) and is what rclone sends by default.
 */
const OWNER_ONLY_CANNED_ACLS = new Set(['bucket-owner-full-control', 'private']);

/** As S3 with ACLs disabled answers an ACL that grants anyone but the bucket owner. */
export function aclNotSupported(): AwsAuthError {
  return new AwsAuthError(400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs');
}

/** Refuses ACL headers other than an owner-only canned ACL, as a BucketOwnerEnforced bucket does. */
export function assertOwnerOnlyAcl(header: HeaderReader): void {
  const canned = header('x-amz-acl');
  if (canned !== undefined && !OWNER_ONLY_CANNED_ACLS.has(canned)) throw aclNotSupported();
  if (
    [
      'x-amz-grant-read',
      'x-amz-grant-write',
      'x-amz-grant-read-acp',
      'x-amz-grant-write-acp',
      'x-amz-grant-full-control',
    ].some((name) => header(name) !== undefined)
  ) {
    throw aclNotSupported();
  }
}

/** Condition keys S3 sets from request headers on writes. */
export function writeHeaderContext(header: HeaderReader): Record<string, string> {
  const context: Record<string, string> = {};
  for (const name of [
    'x-amz-acl',
    'x-amz-server-side-encryption',
    'x-amz-server-side-encryption-aws-kms-key-id',
    'x-amz-storage-class',
    'x-amz-copy-source',
    'x-amz-metadata-directive',
    'x-amz-grant-read',
    'x-amz-grant-write',
    'x-amz-grant-read-acp',
    'x-amz-grant-write-acp',
    'x-amz-grant-full-control',
    'x-amz-object-lock-mode',
    'x-amz-object-lock-retain-until-date',
    'x-amz-object-lock-legal-hold',
    'x-amz-website-redirect-location',
  ]) {
    const value = header(name);
    if (value !== undefined) context[`s3:${name}`] = value;
  }
  return context;
}

/** Extra actions a write needs when it also sets an ACL or tags through headers. */
export function writeSideEffects(bucket: string, key: string, header: HeaderReader): AuthorisationCheck[] {
  const extra: AuthorisationCheck[] = [];
  const setsAcl = [
    'x-amz-acl',
    'x-amz-grant-read',
    'x-amz-grant-read-acp',
    'x-amz-grant-write-acp',
    'x-amz-grant-full-control',
  ].some((name) => header(name) !== undefined);
  if (setsAcl) extra.push(check('s3:PutObjectAcl', bucket, key));
  if (header('x-amz-tagging') !== undefined) extra.push(check('s3:PutObjectTagging', bucket, key));
  if (header('x-amz-object-lock-retain-until-date') !== undefined)
    extra.push(check('s3:PutObjectRetention', bucket, key));
  if (header('x-amz-object-lock-legal-hold') !== undefined) extra.push(check('s3:PutObjectLegalHold', bucket, key));
  return extra;
}

/**
 * DeleteObjects as the gate checked it: one check per key, and exactly those keys to delete.
 * The gate acts on this list, never on the client's XML, so no difference between how the
 * gate and the emulator parse a body (repeated Key elements, attributes, comments, CDATA)
 * can delete an unchecked key.
 */
export interface DeleteObjectsPlan {
  readonly checks: AuthorisationCheck[];
  /** The keys, in request order. */
  readonly keys: readonly string[];
  /** Whether the client asked for Quiet mode (only errors reported). */
  readonly quiet: boolean;
}

/** The checks of DeleteObjects: s3:DeleteObject (or DeleteObjectVersion) on every key in the body (read by xml-bodies.ts, here or already). */
export function planDeleteObjects(bucket: string, xml: Buffer | string | DeleteObjectsBody): DeleteObjectsPlan {
  const body = typeof xml === 'string' || Buffer.isBuffer(xml) ? parseDeleteObjectsBody(xml) : xml;
  const checks: AuthorisationCheck[] = [];
  const keys: string[] = [];
  for (const { key, versionId } of body.objects) {
    assertRepresentableKey(key);
    checks.push(check(versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject', bucket, key));
    if (versionId !== undefined) throw new AwsAuthError(501, 'NotImplemented', 'The sandbox has no object versions.');
    keys.push(key);
  }
  return { checks, keys, quiet: body.quiet };
}

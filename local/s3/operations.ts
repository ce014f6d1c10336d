/**
 * Maps an S3 REST request (path-style) to the IAM authorisation checks S3 makes for it:
 * action, resource ARN and the S3 condition keys. Follows the "Actions, resources, and
 * condition keys for Amazon S3" reference. Anything it does not recognise is refused, so
 * a request can never reach the emulator without a matching check.
 */
import { AwsAuthError } from '../shared/sigv4';
import {
  assertOwnerOnlyAcl,
  check,
  copySource,
  literalForIam,
  writeHeaderContext,
  writeSideEffects,
  type AuthorisationCheck,
  type HeaderReader,
} from './checks';

/** The operation behind a request. */
export interface S3Operation {
  /** S3's operation name, for logs. */
  readonly name: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly checks: readonly AuthorisationCheck[];
  /** POST ?delete: each key needs s3:DeleteObject; the gate reads them from the body. */
  readonly needsDeleteKeysFromBody?: boolean;
  /** CopyObject and UploadPartCopy: the source as authorised, from which the gate rebuilds x-amz-copy-source. */
  readonly copySource?: { readonly bucket: string; readonly key: string };
  /**
   * Authorised, then answered by the gate itself, as a bucket with ACLs disabled answers:
   * `acl-unchanged` (PutObjectAcl of an owner-only ACL) or `owner-acl` (GetObjectAcl: full
   * control for the bucket owner, always).
   */
  readonly answeredByGate?: 'acl-unchanged' | 'owner-acl';
}

/** The parsed request the mapper needs. */
export interface S3RequestShape {
  readonly method: string;
  /** Already parsed and checked (request.ts). */
  readonly bucket?: string;
  readonly key?: string;
  readonly query: ReadonlyMap<string, string>;
  readonly header: HeaderReader;
}

const BUCKET_SUBRESOURCES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  GET: {
    uploads: 's3:ListBucketMultipartUploads',
    versions: 's3:ListBucketVersions',
    location: 's3:GetBucketLocation',
    acl: 's3:GetBucketAcl',
    cors: 's3:GetBucketCORS',
    policy: 's3:GetBucketPolicy',
    policyStatus: 's3:GetBucketPolicyStatus',
    website: 's3:GetBucketWebsite',
    tagging: 's3:GetBucketTagging',
    versioning: 's3:GetBucketVersioning',
    lifecycle: 's3:GetLifecycleConfiguration',
    encryption: 's3:GetEncryptionConfiguration',
    publicAccessBlock: 's3:GetBucketPublicAccessBlock',
    logging: 's3:GetBucketLogging',
    notification: 's3:GetBucketNotification',
    'object-lock': 's3:GetBucketObjectLockConfiguration',
    ownershipControls: 's3:GetBucketOwnershipControls',
    replication: 's3:GetReplicationConfiguration',
    requestPayment: 's3:GetBucketRequestPayment',
    accelerate: 's3:GetAccelerateConfiguration',
    analytics: 's3:GetAnalyticsConfiguration',
    inventory: 's3:GetInventoryConfiguration',
    metrics: 's3:GetMetricsConfiguration',
    'intelligent-tiering': 's3:GetIntelligentTieringConfiguration',
  },
  PUT: {
    acl: 's3:PutBucketAcl',
    cors: 's3:PutBucketCORS',
    policy: 's3:PutBucketPolicy',
    website: 's3:PutBucketWebsite',
    tagging: 's3:PutBucketTagging',
    versioning: 's3:PutBucketVersioning',
    lifecycle: 's3:PutLifecycleConfiguration',
    encryption: 's3:PutEncryptionConfiguration',
    publicAccessBlock: 's3:PutBucketPublicAccessBlock',
    logging: 's3:PutBucketLogging',
    notification: 's3:PutBucketNotification',
    'object-lock': 's3:PutBucketObjectLockConfiguration',
    ownershipControls: 's3:PutBucketOwnershipControls',
    replication: 's3:PutReplicationConfiguration',
    requestPayment: 's3:PutBucketRequestPayment',
    accelerate: 's3:PutAccelerateConfiguration',
    analytics: 's3:PutAnalyticsConfiguration',
    inventory: 's3:PutInventoryConfiguration',
    metrics: 's3:PutMetricsConfiguration',
    'intelligent-tiering': 's3:PutIntelligentTieringConfiguration',
  },
  DELETE: {
    cors: 's3:PutBucketCORS',
    policy: 's3:DeleteBucketPolicy',
    website: 's3:DeleteBucketWebsite',
    tagging: 's3:PutBucketTagging',
    lifecycle: 's3:PutLifecycleConfiguration',
    encryption: 's3:PutEncryptionConfiguration',
    publicAccessBlock: 's3:PutBucketPublicAccessBlock',
    ownershipControls: 's3:PutBucketOwnershipControls',
    replication: 's3:PutReplicationConfiguration',
    analytics: 's3:PutAnalyticsConfiguration',
    inventory: 's3:PutInventoryConfiguration',
    metrics: 's3:PutMetricsConfiguration',
    'intelligent-tiering': 's3:PutIntelligentTieringConfiguration',
  },
};

/** Query parameters that name a sub-resource (anything else is an ordinary parameter). */
const SUBRESOURCES = new Set([
  ...Object.values(BUCKET_SUBRESOURCES).flatMap((table) => Object.keys(table)),
  'delete',
  'uploadId',
  'partNumber',
  'restore',
  'select',
  'attributes',
  'legal-hold',
  'retention',
  'torrent',
  'versionId',
  'renameObject',
]);

function notImplemented(what: string): AwsAuthError {
  return new AwsAuthError(
    501,
    'NotImplemented',
    `A header or parameter you provided implies functionality that is not implemented: ${what}`,
  );
}

function methodNotAllowed(): AwsAuthError {
  return new AwsAuthError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

/** The operation and its IAM checks for one path-style S3 request. */
export function describeS3Operation(request: S3RequestShape): S3Operation {
  const { method, query, header } = request;
  const { bucket, key } = request;
  const subresources = [...query.keys()].filter((name) => SUBRESOURCES.has(name));
  const has = (name: string) => query.has(name);
  const versioned = has('versionId');

  if (bucket === undefined) {
    if (method === 'GET' || method === 'HEAD') {
      return {
        name: 'ListBuckets',
        checks: [{ action: 's3:ListAllMyBuckets', resource: '*', displayResource: '*', context: {} }],
      };
    }
    throw methodNotAllowed();
  }

  if (key === undefined) {
    const sub = subresources[0];
    if (subresources.length > 1)
      throw new AwsAuthError(400, 'InvalidArgument', `Conflicting query string parameters: ${subresources.join(', ')}`);
    if ((method === 'GET' || method === 'HEAD') && sub === undefined) {
      const context: Record<string, string> = {};
      for (const name of ['prefix', 'delimiter', 'max-keys']) {
        const value = query.get(name);
        if (value !== undefined) context[`s3:${name}`] = literalForIam(value);
      }
      // HeadBucket is authorised as ListBucket without a prefix.
      if (method === 'HEAD') return { name: 'HeadBucket', bucket, checks: [check('s3:ListBucket', bucket, undefined)] };
      return {
        name: query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects',
        bucket,
        checks: [check('s3:ListBucket', bucket, undefined, context)],
      };
    }
    if (method === 'PUT' && sub === undefined)
      return { name: 'CreateBucket', bucket, checks: [check('s3:CreateBucket', bucket, undefined)] };
    if (method === 'DELETE' && sub === undefined)
      return { name: 'DeleteBucket', bucket, checks: [check('s3:DeleteBucket', bucket, undefined)] };
    if (method === 'POST' && sub === 'delete')
      return { name: 'DeleteObjects', bucket, checks: [], needsDeleteKeysFromBody: true };
    if (method === 'POST' && sub === undefined) throw notImplemented('browser POST uploads');
    const action = sub === undefined ? undefined : BUCKET_SUBRESOURCES[method === 'HEAD' ? 'GET' : method]?.[sub];
    if (action === undefined) throw methodNotAllowed();
    return { name: `${method} ?${sub}`, bucket, checks: [check(action, bucket, undefined)] };
  }

  const versionedAction = (plain: string, version: string) => (versioned ? version : plain);
  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (has('uploadId'))
        return { name: 'ListParts', bucket, key, checks: [check('s3:ListMultipartUploadParts', bucket, key)] };
      if (has('acl')) {
        return {
          name: 'GetObjectAcl',
          bucket,
          key,
          answeredByGate: 'owner-acl',
          checks: [check(versionedAction('s3:GetObjectAcl', 's3:GetObjectVersionAcl'), bucket, key)],
        };
      }
      if (has('tagging'))
        return {
          name: 'GetObjectTagging',
          bucket,
          key,
          checks: [check(versionedAction('s3:GetObjectTagging', 's3:GetObjectVersionTagging'), bucket, key)],
        };
      if (has('attributes')) {
        return {
          name: 'GetObjectAttributes',
          bucket,
          key,
          checks: [check(versionedAction('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'), bucket, key)],
        };
      }
      if (has('legal-hold'))
        return { name: 'GetObjectLegalHold', bucket, key, checks: [check('s3:GetObjectLegalHold', bucket, key)] };
      if (has('retention'))
        return { name: 'GetObjectRetention', bucket, key, checks: [check('s3:GetObjectRetention', bucket, key)] };
      if (has('torrent'))
        return { name: 'GetObjectTorrent', bucket, key, checks: [check('s3:GetObjectTorrent', bucket, key)] };
      if (subresources.some((s) => s !== 'versionId' && s !== 'partNumber')) throw methodNotAllowed();
      return {
        name: method === 'HEAD' ? 'HeadObject' : 'GetObject',
        bucket,
        key,
        checks: [check(versionedAction('s3:GetObject', 's3:GetObjectVersion'), bucket, key)],
      };
    }
    case 'PUT': {
      if (has('acl')) {
        // ACLs are disabled (BucketOwnerEnforced): only an owner-only ACL is accepted (a canned one
        // here, one in the body checked by the gate once it has read it), and it changes nothing.
        assertOwnerOnlyAcl(header);
        return {
          name: 'PutObjectAcl',
          bucket,
          key,
          answeredByGate: 'acl-unchanged',
          checks: [
            check(
              versionedAction('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
              bucket,
              key,
              writeHeaderContext(header),
            ),
          ],
        };
      }
      if (has('tagging'))
        return {
          name: 'PutObjectTagging',
          bucket,
          key,
          checks: [check(versionedAction('s3:PutObjectTagging', 's3:PutObjectVersionTagging'), bucket, key)],
        };
      if (has('legal-hold'))
        return { name: 'PutObjectLegalHold', bucket, key, checks: [check('s3:PutObjectLegalHold', bucket, key)] };
      if (has('retention'))
        return { name: 'PutObjectRetention', bucket, key, checks: [check('s3:PutObjectRetention', bucket, key)] };
      const isPart = has('uploadId') || has('partNumber');
      if (isPart && !(has('uploadId') && has('partNumber')))
        throw new AwsAuthError(400, 'InvalidArgument', 'UploadPart needs both uploadId and partNumber.');
      if (subresources.some((s) => s !== 'uploadId' && s !== 'partNumber')) throw methodNotAllowed();
      const checks = [check('s3:PutObject', bucket, key, writeHeaderContext(header))];
      const source = header('x-amz-copy-source');
      const from = source === undefined ? undefined : copySource(source);
      if (from) checks.push(check('s3:GetObject', from.bucket, from.key));
      if (!isPart) {
        assertOwnerOnlyAcl(header);
        checks.push(...writeSideEffects(bucket, key, header));
      }
      const name = isPart ? (from ? 'UploadPartCopy' : 'UploadPart') : from ? 'CopyObject' : 'PutObject';
      return { name, bucket, key, checks, ...(from ? { copySource: from } : {}) };
    }
    case 'POST': {
      if (has('uploads')) {
        assertOwnerOnlyAcl(header);
        return {
          name: 'CreateMultipartUpload',
          bucket,
          key,
          checks: [
            check('s3:PutObject', bucket, key, writeHeaderContext(header)),
            ...writeSideEffects(bucket, key, header),
          ],
        };
      }
      if (has('uploadId'))
        return { name: 'CompleteMultipartUpload', bucket, key, checks: [check('s3:PutObject', bucket, key)] };
      if (has('restore'))
        return { name: 'RestoreObject', bucket, key, checks: [check('s3:RestoreObject', bucket, key)] };
      if (has('select'))
        return { name: 'SelectObjectContent', bucket, key, checks: [check('s3:GetObject', bucket, key)] };
      throw methodNotAllowed();
    }
    case 'DELETE': {
      if (has('uploadId'))
        return { name: 'AbortMultipartUpload', bucket, key, checks: [check('s3:AbortMultipartUpload', bucket, key)] };
      if (has('tagging'))
        return {
          name: 'DeleteObjectTagging',
          bucket,
          key,
          checks: [check(versionedAction('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'), bucket, key)],
        };
      if (subresources.some((s) => s !== 'versionId')) throw methodNotAllowed();
      return {
        name: 'DeleteObject',
        bucket,
        key,
        checks: [check(versionedAction('s3:DeleteObject', 's3:DeleteObjectVersion'), bucket, key)],
      };
    }
    default:
      throw methodNotAllowed();
  }
}

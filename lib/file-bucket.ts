import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  ObjectOwnership,
  type CorsRule,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKET_CORS } from '../lambda/contract/cors';
import { ACCESS_LOG_PREFIX } from '../lambda/usage/access-log';

/** Props of {@link FileBucket}. */
export interface FileBucketProps {
  /** Browser origins allowed to call S3 directly with vended credentials; `['*']` for any. */
  readonly allowedOrigins: readonly string[];
  /**
   * Whether the buckets and their objects are deleted with the stack (a `dev` stage).
   * @default false (both buckets are retained)
   */
  readonly disposable?: boolean;
  /**
   * Days an overwritten or deleted object version is kept before S3 expires it.
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Days the server access logs are kept.
   * @default 365
   */
  readonly accessLogDays?: number;
}

/**
 * The bucket holding every user's folder, plus the bucket receiving its server access logs.
 * Both block all public access, refuse plain HTTP by bucket policy and are encrypted with
 * S3-managed keys (SSE-S3: a KMS key would need kms:* rights in the vending role and the
 * session policy, and would bill per request).
 */
export class FileBucket extends Construct {
  /** The users' file bucket. */
  readonly bucket: Bucket;
  /** Receives the file bucket's server access logs. */
  readonly accessLogBucket: Bucket;

  constructor(scope: Construct, id: string, props: FileBucketProps) {
    super(scope, id);
    const disposable = props.disposable ?? false;
    // A versioned bucket, and a log bucket that receives a log of every request (the
    // deletion's own included), are never empty: CloudFormation cannot delete them unless a
    // custom resource first denies new writes and deletes every object version.
    const removal = {
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: disposable,
    };

    this.accessLogBucket = new Bucket(this, 'AccessLogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Server access log delivery supports SSE-S3 only.
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // No access logs of its own: cdk-nag's S1 accepts a bucket that is another's log target.
      lifecycleRules: [
        { id: 'ExpireAccessLogs', expiration: Duration.days(props.accessLogDays ?? 365) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      ...removal,
    });

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: ACCESS_LOG_PREFIX,
      cors: props.allowedOrigins.length > 0 ? [browserCorsRule(props.allowedOrigins)] : undefined,
      lifecycleRules: [
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          expiredObjectDeleteMarker: true,
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      ...removal,
    });

    // A retained bucket keeps its bucket policy (TLS only, log delivery), so what stays
    // behind after `cdk destroy` is still refused over plain HTTP.
    if (!disposable) {
      for (const bucket of [this.accessLogBucket, this.bucket]) bucket.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }
}

/** What a browser app may do against its own folder with vended credentials (lambda/contract/cors.ts). */
function browserCorsRule(allowedOrigins: readonly string[]): CorsRule {
  return {
    allowedOrigins: [...allowedOrigins],
    allowedMethods: BUCKET_CORS.allowedMethods.map((method) => HttpMethods[method]),
    allowedHeaders: [...BUCKET_CORS.allowedHeaders],
    exposedHeaders: [...BUCKET_CORS.exposedHeaders],
    maxAge: BUCKET_CORS.maxAgeSeconds,
  };
}

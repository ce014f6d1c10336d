import * as path from 'node:path';
import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EventType, type Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { settingsEnvironment } from '../lambda/platform/settings';
import { ACCESS_LOG_PREFIX } from '../lambda/usage/access-log';
import { ACCESS_LOG_PROCESSOR } from '../lambda/workers';
import type { TvmSettings } from './settings';
import { BUNDLING, RUNTIME } from './tvm-api';

/** Props of {@link AccessLogProcessing}. */
export interface AccessLogProcessingProps {
  readonly table: ITable;
  /** The file bucket (its name tells the processor which lines count). */
  readonly bucket: IBucket;
  /** The bucket S3 delivers the file bucket's server access logs to. */
  readonly logBucket: Bucket;
  /** The vending role: requests are attributed by its session names. */
  readonly vendingRole: IRole;
  readonly settings: TvmSettings;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** The processor's timeout: a log object of a busy hour is read and counted in seconds. */
const TIMEOUT = Duration.minutes(2);

/**
 * Counts the file bucket's S3 server access logs per user and day (docs/operating.md#usage-report):
 * the log bucket notifies each new log object under the file bucket's prefix to an SQS queue
 * (dead-letter queue after 5 receives, kept 14 days), and a function reads it and adds its
 * counts to the table. Its role may read those log objects, write the usage-day items and the
 * done markers, and consume the queue; nothing else.
 */
export class AccessLogProcessing extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly function: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: AccessLogProcessingProps) {
    super(scope, id);
    const { table, bucket, logBucket, vendingRole, settings } = props;
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Lambda's advice: six times the function's timeout, so a slow batch is not handed out twice.
      visibilityTimeout: Duration.seconds(TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    logBucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue), {
      prefix: ACCESS_LOG_PREFIX,
    });
    // CDK's stack-wide bucket-notifications function is acknowledged once, in lib/usage-meter.ts.

    const role = (this.role = new Role(this, 'Role', {
      description: 'TVM access-log processor: reads the file bucket access logs, writes per-user daily counts.',
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    }));
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'UsageDays',
        actions: ACCESS_LOG_PROCESSOR.tableActions.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'AccessLogObjects',
        actions: ['s3:GetObject'],
        resources: [logBucket.arnForObjects(`${ACCESS_LOG_PREFIX}*`)],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(logBucket.node.defaultChild as never)}.Arn>/${ACCESS_LOG_PREFIX}*]`,
      reason:
        'S3 names each log object by its delivery time and a random suffix, so the processor must read any object under the file bucket log prefix; it reads nothing else and writes nothing to S3.',
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: settings.logRetentionDays as RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    logGroup.grantWrite(role);
    const projectRoot = path.resolve(__dirname, '..');
    this.function = new NodejsFunction(this, 'Function', {
      description: 'TVM: counts the file bucket S3 access logs per user and day',
      entry: path.join(projectRoot, ACCESS_LOG_PROCESSOR.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: TIMEOUT,
      role,
      logGroup,
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: bucket.bucketName,
        VENDING_ROLE_ARN: vendingRole.roleArn,
        [ACCESS_LOG_PROCESSOR.bucketVariable]: logBucket.bucketName,
        ...settingsEnvironment(settings),
        POWERTOOLS_SERVICE_NAME: 'tvm',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: BUNDLING,
    });
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
  }
}

import * as path from 'node:path';
import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EventType, type Bucket } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CUT_OFF_WORKER_VARIABLE } from '../lambda/platform/config';
import { settingsEnvironment } from '../lambda/platform/settings';
import { USAGE_METER, USAGE_RECONCILE } from '../lambda/workers';
import type { TvmSettings } from './settings';
import { BUNDLING, RUNTIME } from './tvm-api';

/** Props of {@link UsageMeter}. */
export interface UsageMeterProps {
  readonly table: ITable;
  /** The file bucket whose events are metered (its notification configuration is set here). */
  readonly bucket: Bucket;
  /** The vending role (its ARN is part of every function's configuration). */
  readonly vendingRole: IRole;
  /** The cut-off worker, invoked when a folder crosses its quota. */
  readonly cutOffWorker: IFunction;
  readonly settings: TvmSettings;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * The storage meter (docs/operating.md#usage-meter): the file bucket's event notifications
 * (`ObjectCreated:*`, `ObjectRemoved:*`, `LifecycleExpiration:*`) go to an SQS queue (with a
 * dead-letter queue that keeps a message 14 days), whose batches the meter function applies
 * to each user's totals; a second function reconciles every folder once a day. Each function
 * has its own role: the table items it writes, the cut-off worker's Invoke, and for the
 * reconcile, listing the bucket. Neither reads or writes an object.
 */
export class UsageMeter extends Construct {
  /** Receives the file bucket's event notifications. */
  readonly queue: Queue;
  /** Where a message goes after {@link USAGE_METER.maxReceiveCount} failed deliveries. */
  readonly deadLetterQueue: Queue;
  readonly meterFunction: NodejsFunction;
  readonly reconcileFunction: NodejsFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: UsageMeterProps) {
    super(scope, id);
    const { table, bucket, settings } = props;
    // SQS-managed encryption: S3 can deliver to it (a queue under the AWS-managed KMS key it cannot).
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(USAGE_METER.deadLetterDays),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice for a Lambda event source: six times the function's timeout.
      visibilityTimeout: Duration.seconds(6 * USAGE_METER.timeoutSeconds),
      retentionPeriod: Duration.days(USAGE_METER.deadLetterDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: USAGE_METER.maxReceiveCount },
    });
    const destination = new SqsDestination(this.queue);
    for (const event of [EventType.OBJECT_CREATED, EventType.OBJECT_REMOVED, EventType.LIFECYCLE_EXPIRATION])
      bucket.addEventNotification(event, destination);
    // CDK sets a bucket's notifications with its own custom resource, a stack-wide singleton.
    const notificationsHandler = Stack.of(this)
      .node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'))
      ?.node.tryFindChild('Role');
    if (notificationsHandler)
      Validations.of(notificationsHandler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's bucket-notifications custom resource (runs only at deployment, sets the file bucket's and the log bucket's notification configurations): AWS's basic execution policy lets it write its own logs and nothing else.",
      });

    const environment = {
      TABLE_NAME: table.tableName,
      BUCKET_NAME: bucket.bucketName,
      VENDING_ROLE_ARN: props.vendingRole.roleArn,
      [CUT_OFF_WORKER_VARIABLE]: props.cutOffWorker.functionName,
      ...settingsEnvironment(settings),
      POWERTOOLS_SERVICE_NAME: 'tvm',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const projectRoot = path.resolve(__dirname, '..');
    const functionDefaults = {
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      environment,
      bundling: BUNDLING,
    };

    const meterRole = this.role(
      'MeterRole',
      "TVM storage meter: applies the file bucket events to the users' usage totals.",
      {
        tableActions: USAGE_METER.tableActions,
        table,
        cutOffWorker: props.cutOffWorker,
      },
    );
    this.meterFunction = new NodejsFunction(this, 'MeterFunction', {
      ...functionDefaults,
      description: "TVM: the storage meter (S3 event notifications from SQS to each user's usage totals)",
      entry: path.join(projectRoot, USAGE_METER.entry),
      timeout: Duration.seconds(USAGE_METER.timeoutSeconds),
      role: meterRole,
      logGroup: this.logGroup('MeterLogs', meterRole, props),
    });
    this.meterFunction.addEventSource(
      new SqsEventSource(this.queue, { batchSize: USAGE_METER.batchSize, reportBatchItemFailures: true }),
    );

    const reconcileRole = this.role(
      'ReconcileRole',
      'TVM usage reconcile: lists each user folder and fixes the usage totals.',
      {
        tableActions: USAGE_RECONCILE.tableActions,
        table,
        cutOffWorker: props.cutOffWorker,
      },
    );
    reconcileRole.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListFileBucket',
        // ListObjectsV2 of one folder at a time; no object is read.
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
    this.reconcileFunction = new NodejsFunction(this, 'ReconcileFunction', {
      ...functionDefaults,
      description: 'TVM: the daily usage reconcile (lists each folder, fixes the meter)',
      entry: path.join(projectRoot, USAGE_RECONCILE.entry),
      timeout: Duration.minutes(USAGE_RECONCILE.timeoutMinutes),
      role: reconcileRole,
      logGroup: this.logGroup('ReconcileLogs', reconcileRole, props),
    });
    this.schedule = new Rule(this, 'ReconcileSchedule', {
      description: 'Runs the TVM usage reconcile once a day',
      schedule: Schedule.cron({ hour: String(USAGE_RECONCILE.hourUtc), minute: String(USAGE_RECONCILE.minuteUtc) }),
      targets: [new LambdaFunction(this.reconcileFunction, { retryAttempts: 0 })],
    });
  }

  /** A function's own role: the table actions it needs and the cut-off worker's Invoke. */
  private role(
    id: string,
    description: string,
    grants: { tableActions: readonly string[]; table: ITable; cutOffWorker: IFunction },
  ): Role {
    const role = new Role(this, id, { description, assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'UserTable',
        actions: grants.tableActions.map((action) => `dynamodb:${action}`),
        resources: [grants.table.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'InvokeCutOffWorker',
        actions: ['lambda:InvokeFunction'],
        resources: [grants.cutOffWorker.functionArn],
      }),
    );
    return role;
  }

  private logGroup(id: string, role: Role, props: UsageMeterProps): LogGroup {
    const group = new LogGroup(this, id, {
      retention: props.settings.logRetentionDays as RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    group.grantWrite(role);
    return group;
  }
}

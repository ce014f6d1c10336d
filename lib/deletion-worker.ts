import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_LAYOUT } from '../lambda/adapters/dynamo/table-layout';
import { settingsEnvironment } from '../lambda/platform/settings';
import { DELETION_WORKER } from '../lambda/workers';
import { BUNDLING, RUNTIME } from './tvm-api';
import type { TvmSettings } from './settings';

/** Props of {@link DeletionWorker}. */
export interface DeletionWorkerProps {
  readonly table: ITable;
  readonly bucket: IBucket;
  /** The vending role: its cut-off list is the one inline policy the worker writes. */
  readonly vendingRole: IRole;
  readonly settings: TvmSettings;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Finishes self-service deletions (`DELETE /account`): a function on a one-minute schedule
 * that puts each queued user's cut-off on the vending role, waits out IAM's propagation, then
 * deletes every object version under the user's folder, the user's shares and links, and the
 * records, as `tvm-admin users delete --delete-files` does. It is also the cut-off worker: each
 * run first puts pending share cut-offs on the vending role, and the function behind
 * `DELETE /shares/{id}` invokes it at once (TvmApi.connectCutOffWorker). Its role may do exactly that: the table, the vending role's
 * inline policies, and listing and deleting object versions and uploads in the file bucket.
 */
export class DeletionWorker extends Construct {
  /** The worker function. */
  readonly function: NodejsFunction;
  /** Its execution role. */
  readonly role: Role;
  /** The schedule. */
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: DeletionWorkerProps) {
    super(scope, id);
    const { table, bucket, vendingRole, settings } = props;
    const role = (this.role = new Role(this, 'Role', {
      description:
        'TVM deletion worker: finishes self-service account deletions (table, the vending role cut-off, the file bucket).',
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    }));
    const itemActions = DELETION_WORKER.tableActions
      .filter((action) => action !== 'Query')
      .map((action) => `dynamodb:${action}`);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'UserTable',
        actions: [...itemActions, 'dynamodb:Query'],
        resources: [table.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'SessionsByOwnerIndex',
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${TABLE_LAYOUT.sessionsByOwnerIndex.name}`],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'VendingRoleCutOffList',
        // The revocation list reads, puts and (when empty) deletes its inline policy; nothing else of IAM.
        actions: ['iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
        resources: [vendingRole.roleArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'FileBucketListings',
        actions: ['s3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'FileBucketPurge',
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(bucket.node.defaultChild as never)}.Arn>/*]`,
      reason:
        'The worker deletes the folder of whichever user asked to delete their account, so it needs delete rights on every key; it never reads or writes objects, and each run deletes only under <username>/ of a queued request whose record it re-checked.',
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: settings.logRetentionDays as RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    logGroup.grantWrite(role);
    const projectRoot = path.resolve(__dirname, '..');
    this.function = new NodejsFunction(this, 'Function', {
      description: 'TVM: finishes self-service account deletions (cut-off, IAM propagation wait, files, records)',
      entry: path.join(projectRoot, DELETION_WORKER.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      // A run that ends early is completed by the next one (every step is idempotent); the
      // revocation list's lock wait (90 s) and a large folder's purge fit in three minutes.
      timeout: Duration.minutes(3),
      role,
      logGroup,
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: bucket.bucketName,
        VENDING_ROLE_ARN: vendingRole.roleArn,
        ...settingsEnvironment(settings),
        POWERTOOLS_SERVICE_NAME: 'tvm',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: BUNDLING,
    });
    this.schedule = new Rule(this, 'Schedule', {
      description: 'Runs the TVM deletion worker',
      schedule: Schedule.rate(Duration.minutes(DELETION_WORKER.everyMinutes)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}

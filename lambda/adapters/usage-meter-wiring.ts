/**
 * The storage meter and its reconcile on the TVM's own resources (the table, the file
 * bucket): the one wiring the meter function, the reconcile function, `tvm-admin usage
 * reconcile` and the sandbox's event queue share, so they all run the same code.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Username } from '../accounts/username';
import type { DomainLog } from '../platform/audit';
import { systemClock, type Clock } from '../platform/clock';
import { UsageMeter, type MeterBatchResult, type NotificationMessage } from '../usage/meter';
import type { QuotaSync, UserDirectory } from '../usage/ports';
import { Reconciler } from '../usage/reconcile';
import { DynamoUsageStore } from './dynamo/usage-store';
import { DynamoUserStore } from './dynamo/user-store';
import { S3FolderLister } from './folder-lister';

/** What the meter is built from. */
export interface UsageMeterWiring {
  readonly dynamo: DynamoDBClient;
  readonly tableName: string;
  /** The file bucket: the one whose events count. */
  readonly bucketName: string;
  /** The over-quota cut-off the meter keeps in line (QuotaEnforcer). */
  readonly quota: QuotaSync;
  readonly log: DomainLog;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Waits `ms` for a lease; default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The name this process holds leases by (for the operator reading a stuck lease). */
function leaseHolder(): string {
  return `${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Whether a user exists, and which registration, from the user record. */
export function userDirectory(dynamo: DynamoDBClient, tableName: string): UserDirectory {
  const users = new DynamoUserStore(dynamo, tableName);
  return { registration: async (username: Username) => (await users.getUser(username))?.userId };
}

/** The meter's store on the table (also read by the vend and the report for `storage.usage`). */
export function usageStore(dynamo: DynamoDBClient, tableName: string, clock: Clock = systemClock): DynamoUsageStore {
  return new DynamoUsageStore(dynamo, tableName, clock);
}

/** The meter over the table. */
export function createUsageMeter(wiring: UsageMeterWiring): UsageMeter {
  const clock = wiring.clock ?? systemClock;
  return new UsageMeter({
    store: usageStore(wiring.dynamo, wiring.tableName, clock),
    users: userDirectory(wiring.dynamo, wiring.tableName),
    quota: wiring.quota,
    log: wiring.log,
    clock,
    bucket: wiring.bucketName,
    holder: leaseHolder(),
    ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
  });
}

/** The reconcile over the table and the file bucket. */
export function createReconciler(wiring: UsageMeterWiring & { readonly s3: S3Client }): Reconciler {
  const clock = wiring.clock ?? systemClock;
  return new Reconciler({
    store: usageStore(wiring.dynamo, wiring.tableName, clock),
    lister: new S3FolderLister(wiring.s3, wiring.bucketName),
    users: userDirectory(wiring.dynamo, wiring.tableName),
    quota: wiring.quota,
    clock,
    holder: leaseHolder(),
    ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
  });
}

/** An SQS event's records, as Lambda (and the sandbox's queue) delivers them: only what the meter reads. */
export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
}

/** SQS's partial batch response: the messages to retry. */
export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/**
 * Runs one SQS batch of S3 notifications through the meter and answers SQS's partial batch
 * response (the queue retries only the failed messages): the entry point the meter function
 * and the sandbox's queue both call.
 */
export async function handleS3Notifications(
  meter: UsageMeter,
  records: readonly SqsRecordLike[],
): Promise<SqsBatchResponse & { readonly result: MeterBatchResult }> {
  const messages: NotificationMessage[] = records.map(({ messageId, body }) => ({ messageId, body }));
  const result = await meter.handle(messages);
  return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })), result };
}

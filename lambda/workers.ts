/**
 * The TVM's scheduled functions (not routes): what each runs and the table rights it needs.
 * The stack (lib/deletion-worker.ts) grants exactly these; test/integration checks them.
 */
import type { TableAction } from './contract/routes';

/**
 * The self-service deletion worker (lambda/accounts/account-deletion.ts, `sweep`), which is also
 * the cut-off worker: each run first puts pending share cut-offs on the vending role.
 */
export const DELETION_WORKER = {
  /** The handler module, relative to the repository root; it exports `handler`. */
  entry: 'lambda/handlers/deletion-worker.ts',
  /**
   * On the table: the queue (Query on the DELETIONS partition, Get, Put, Delete), the user
   * record and name hold, the revocation list (users' and shares' entries, lock and DynamoDB's
   * clock), the shares and links a deletion removes (Query of the user's partition, BatchGet of
   * the canonical shares the received pointers name) and the records the operator's delete
   * removes. `Query` here is on the table itself; the sessions-by-owner index is queried too,
   * for the sessions a delete removes.
   */
  tableActions: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] as readonly TableAction[],
  /** How often the schedule runs it, in minutes: a deletion completes within this after the propagation wait. */
  everyMinutes: 1,
} as const;

/** DynamoDB actions the meter's functions are granted on the table itself (`Query` within one user's partition, `Scan` for the user list). */
export type MeterTableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'Query' | 'Scan';

/**
 * The storage meter (lambda/handlers/usage-meter.ts): SQS batches of the file bucket's event
 * notifications. On the table: the user record (GetItem), the meter's object states and
 * totals (GetItem, PutItem, UpdateItem) and, through the quota sync, the over-quota entry and DynamoDB's clock (GetItem,
 * PutItem, UpdateItem). It also invokes the cut-off worker when a folder crosses its quota.
 */
export const USAGE_METER = {
  entry: 'lambda/handlers/usage-meter.ts',
  tableActions: ['GetItem', 'PutItem', 'UpdateItem'] as readonly MeterTableAction[],
  /** Messages per invocation (the SQS event source's batch size). */
  batchSize: 10,
  /** The function's timeout, in seconds: well under the meter's lease (lambda/usage/meter.ts, METER_LEASE_MS). */
  timeoutSeconds: 60,
  /** Deliveries of one message before it goes to the dead-letter queue. */
  maxReceiveCount: 5,
  /** Days the dead-letter queue keeps a message (SQS's maximum): the tombstones outlive it. */
  deadLetterDays: 14,
} as const;

/**
 * The daily reconcile (lambda/handlers/usage-reconcile.ts): lists every user (Scan of the
 * user items) and each folder, and rewrites the meter's states (Query, GetItem, PutItem,
 * UpdateItem) and totals, then syncs the quota cut-off (as the meter does).
 */
export const USAGE_RECONCILE = {
  entry: 'lambda/handlers/usage-reconcile.ts',
  tableActions: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'Scan'] as readonly MeterTableAction[],
  /** When it runs each day, UTC (a quiet hour for most apps). */
  hourUtc: 3,
  minuteUtc: 17,
  /** The function's timeout, in minutes (Lambda's maximum): it stops a minute before and leaves the rest to the next run. */
  timeoutMinutes: 15,
} as const;

/**
 * The access-log processor (lambda/handlers/access-log-processor.ts): fed the log bucket's
 * ObjectCreated notifications through an SQS queue, it reads each log object of the file
 * bucket (GetObject under the log prefix) and adds its counts to the per-user daily items.
 */
export const ACCESS_LOG_PROCESSOR = {
  /** Its name in the sandbox's function threads. */
  name: 'access-log-processor',
  entry: 'lambda/handlers/access-log-processor.ts',
  /** The usage-day items (UpdateItem with ADD), the done markers (GetItem, PutItem). */
  tableActions: ['GetItem', 'PutItem', 'UpdateItem'] as readonly TableAction[],
  /** The environment variable naming the log bucket, the only one it reads. */
  bucketVariable: 'ACCESS_LOG_BUCKET',
} as const;

/** The meter's name in the sandbox's function threads. */
export const USAGE_METER_FUNCTION_NAME = 'usage-meter';

/** The functions fed by an SQS queue (not routes), by their names in the sandbox's function threads. */
export const SQS_FUNCTIONS = [
  { name: USAGE_METER_FUNCTION_NAME, entry: USAGE_METER.entry, tableActions: USAGE_METER.tableActions },
  ACCESS_LOG_PROCESSOR,
] as const;

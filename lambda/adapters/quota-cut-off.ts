/**
 * The {@link QuotaSync} port on the TVM's resources: the user record and the meter's totals in
 * the table, the over-quota entry in the `REVOCATIONS` partition, and the cut-off worker, which
 * renders it into the vending role's `tvm-revoked-users` policy (as for a share cut-off,
 * lambda/adapters/share-cut-off.ts). The meter function, the scheduled reconcile and tvm-admin
 * build it here.
 *
 * A function that builds it needs, on the table: GetItem (user, USAGE, the entry, and DynamoDB's
 * clock), PutItem and UpdateItem (the entry); and lambda:InvokeFunction on the worker
 * (CUT_OFF_WORKER_FUNCTION). tvm-admin passes its own trigger (it applies the list itself).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { CUT_OFF_MARGIN_MS } from '../credentials/revocation';
import { DynamoRevocationStore } from '../operator/revocation-store';
import type { DomainLog } from '../platform/audit';
import { requireCutOffWorker, type TvmConfig } from '../platform/config';
import { QuotaEnforcer, type CutOffWorkerTrigger, type QuotaSync } from '../usage/quota-enforcer';
import { lambdaClientConfig } from './aws-clients';
import { DynamoUsageTotals } from './dynamo/usage-totals';
import { DynamoUserStore } from './dynamo/user-store';

/** The payload the worker is invoked with (it applies every pending entry on every run anyway). */
export const QUOTA_CUT_OFF_WORKER_EVENT = { reason: 'quota-cut-off' } as const;

/** What {@link createQuotaSync} needs. */
export interface QuotaSyncDependencies {
  /**
   * `tableName`, `region`, `defaultQuotaBytes`, and `cutOffWorkerFunction`
   * (CUT_OFF_WORKER_FUNCTION) unless a `worker` is given: without either,
   * {@link createQuotaSync} throws ConfigurationError, so build it at cold start.
   */
  readonly config: Pick<TvmConfig, 'tableName' | 'region' | 'defaultQuotaBytes' | 'cutOffWorkerFunction'>;
  readonly dynamo: DynamoDBClient;
  /** Where a failed Invoke is reported (warn). */
  readonly log: DomainLog;
  /** @default an asynchronous Invoke of the cut-off worker */
  readonly worker?: CutOffWorkerTrigger;
  /** @default a Lambda client for `config.region`, built on the first trigger */
  readonly lambda?: Pick<LambdaClient, 'send'>;
  /** @default CUT_OFF_MARGIN_MS (revocation.ts) */
  readonly cutOffMarginMs?: number;
}

/** The quota cut-off wired to the table and the cut-off worker. */
export function createQuotaSync(deps: QuotaSyncDependencies): QuotaSync {
  const { config, dynamo } = deps;
  return new QuotaEnforcer({
    users: new DynamoUserStore(dynamo, config.tableName),
    usage: new DynamoUsageTotals(dynamo, config.tableName),
    entries: new DynamoRevocationStore(dynamo, config.tableName),
    worker: deps.worker ?? workerInvoke(deps),
    defaultQuotaBytes: config.defaultQuotaBytes,
    marginMs: deps.cutOffMarginMs ?? CUT_OFF_MARGIN_MS,
  });
}

/**
 * An asynchronous Invoke of the cut-off worker. In the sandbox the worker has run when the
 * Invoke answers; on AWS it runs within seconds, then IAM propagates. A failed Invoke is only
 * logged: the entry is written and pending, and the worker's one-minute schedule applies it.
 */
function workerInvoke(deps: QuotaSyncDependencies): CutOffWorkerTrigger {
  const functionName = requireCutOffWorker(deps.config);
  let lambda = deps.lambda;
  return {
    async trigger(reason) {
      try {
        // Loaded here, not at cold start: most syncs change nothing and invoke nothing.
        const sdk = await import('@aws-sdk/client-lambda');
        lambda ??= new sdk.LambdaClient(lambdaClientConfig(deps.config.region));
        await lambda.send(
          new sdk.InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(JSON.stringify({ ...QUOTA_CUT_OFF_WORKER_EVENT, change: reason })),
          }),
        );
      } catch (error) {
        deps.log.warn('could not invoke the cut-off worker; its schedule applies the quota cut-off', {
          reason,
          error: { name: error instanceof Error ? error.name : String(error) },
        });
      }
    },
  };
}

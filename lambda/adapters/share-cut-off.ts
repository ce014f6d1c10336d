/**
 * The {@link ShareCutOff} port on the TVM's resources: a cut-off entry per revoked share in the
 * table (the `REVOCATIONS` partition, table-layout.ts), then an asynchronous Invoke of the
 * cut-off worker (the deletion worker's function), which renders the whole list into the
 * vending role's `tvm-revoked-users` policy. The API functions have no IAM rights: the worker
 * alone writes the role. If the Invoke fails, the worker's one-minute schedule applies the
 * entry anyway (it applies whenever an entry is pending), so the failure is only logged.
 *
 * The cut-off instant comes from DynamoDB's clock with the same margin as a user's
 * (revocation.ts): a share-credentials call that read the share before it was removed may still
 * reach STS up to the margin later, and its credentials are covered too.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CUT_OFF_MARGIN_MS, cutOffInstant, revocationExpiresAt } from '../credentials/revocation';
import { isGrantId } from '../sharing/requests';
import type { DomainLog } from '../platform/audit';
import { requireCutOffWorker, type TvmConfig } from '../platform/config';
import { CREDENTIAL_MAX_SECONDS } from '../platform/settings';
import { DynamoRevocationStore } from '../operator/revocation-store';
import type { ShareCutOff } from '../sharing/ports';
import { createLambdaClient } from './aws-clients';

/** The payload the worker is invoked with: it says why (the worker applies pending entries on every run anyway). */
export const CUT_OFF_WORKER_EVENT = { reason: 'share-cut-off' } as const;

/** How many entries are written at once. */
const WRITES_AT_ONCE = 10;

/** What {@link recordShareCutOffs} needs to compute and keep entries. */
export interface ShareCutOffTiming {
  /** How long after its checks a vending call may still reach STS, plus clock skew. */
  readonly cutOffMarginMs: number;
  /** The longest credential lifetime the TVM vends (an entry is kept until all it covers have expired). */
  readonly maxCredentialSeconds: number;
}

/**
 * Records a cut-off entry for every share id, all with one instant from DynamoDB's clock, pending
 * until the worker has put them on the role. Idempotent (a later cut-off already there wins).
 * Returns the instant, or undefined when there was nothing to record.
 */
export async function recordShareCutOffs(
  store: Pick<DynamoRevocationStore, 'serverDate' | 'recordShare'>,
  shareIds: readonly string[],
  timing: ShareCutOffTiming,
): Promise<number | undefined> {
  const ids = [...new Set(shareIds)];
  if (ids.length === 0) return undefined;
  // An id of another shape would make the list unreadable (every later render refuses it).
  const malformed = ids.find((id) => !isGrantId(id));
  if (malformed !== undefined) throw new TypeError('recordShareCutOffs needs well-formed share ids');
  const cutOffAt = cutOffInstant(await store.serverDate(), timing.cutOffMarginMs);
  const expiresAt = revocationExpiresAt(cutOffAt, timing.maxCredentialSeconds);
  for (let start = 0; start < ids.length; start += WRITES_AT_ONCE) {
    await Promise.all(
      ids.slice(start, start + WRITES_AT_ONCE).map((shareId) => store.recordShare({ shareId, cutOffAt }, expiresAt)),
    );
  }
  return cutOffAt;
}

/** What {@link createShareCutOff} needs. */
export interface ShareCutOffDependencies {
  /**
   * `tableName` and `region`, and `cutOffWorkerFunction` (CUT_OFF_WORKER_FUNCTION): the stack
   * sets it only on the functions that revoke shares; when it is missing,
   * {@link createShareCutOff} throws ConfigurationError, so build it at cold start only in those.
   */
  readonly config: Pick<TvmConfig, 'tableName' | 'region' | 'cutOffWorkerFunction'>;
  /** The table's client (the runtime's). */
  readonly dynamo: DynamoDBClient;
  /** Where a failed Invoke is reported (warn); never a client. */
  readonly log: DomainLog;
  /** @default a Lambda client for `config.region` (endpoint from AWS_ENDPOINT_URL_LAMBDA in the sandbox) */
  readonly lambda?: Pick<LambdaClient, 'send'>;
  /** @default CUT_OFF_MARGIN_MS (revocation.ts) */
  readonly cutOffMarginMs?: number;
  /** @default CREDENTIAL_MAX_SECONDS (settings.ts) */
  readonly maxCredentialSeconds?: number;
}

/**
 * The share cut-off of the API functions: `cutOff(ids)` writes the entries (a failure there is a
 * BackendUnavailableError, so the caller answers 503 and removes nothing), then asks the worker
 * to apply them. In the sandbox the worker has run when the Invoke answers, so the cut-off is in
 * force when `cutOff` resolves; on AWS the worker runs within seconds, then IAM propagates.
 */
export function createShareCutOff(deps: ShareCutOffDependencies): ShareCutOff {
  const functionName = requireCutOffWorker(deps.config);
  const store = new DynamoRevocationStore(deps.dynamo, deps.config.tableName);
  const lambda = deps.lambda ?? createLambdaClient(deps.config.region);
  const timing: ShareCutOffTiming = {
    cutOffMarginMs: deps.cutOffMarginMs ?? CUT_OFF_MARGIN_MS,
    maxCredentialSeconds: deps.maxCredentialSeconds ?? CREDENTIAL_MAX_SECONDS,
  };
  return {
    async cutOff(shareIds) {
      const cutOffAt = await recordShareCutOffs(store, shareIds, timing);
      if (cutOffAt === undefined) return;
      try {
        await lambda.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(JSON.stringify(CUT_OFF_WORKER_EVENT)),
          }),
        );
      } catch (error) {
        // The entries are written: the worker's schedule puts them on the role within a minute.
        deps.log.warn('could not invoke the cut-off worker; its schedule applies the cut-off', {
          shares: shareIds.length,
          cutOffAt: new Date(cutOffAt).toISOString(),
          error: { name: error instanceof Error ? error.name : String(error) },
        });
      }
    },
  };
}

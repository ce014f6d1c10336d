/**
 * `tvm-admin usage reconcile [<user>]`: lists each folder (or one) and makes the storage
 * meter's states and totals match it (lambda/usage/reconcile.ts, the code the stack's daily
 * reconcile runs), then brings the user's over-quota cut-off in line, applying the cut-off
 * list on the vending role itself when it changed.
 */
import { createQuotaSync } from '../lambda/adapters/quota-cut-off';
import { DynamoUserStore } from '../lambda/adapters/dynamo/user-store';
import { createReconciler } from '../lambda/adapters/usage-meter-wiring';
import type { Username } from '../lambda/accounts/username';
import type { DomainLog } from '../lambda/platform/audit';
import type { FolderReconciled } from '../lambda/usage/reconcile';
import { revocationList } from './operations';
import { AdminError, type AdminTarget } from './target';

/** The usage line tvm-admin prints for this command. */
export const USAGE_RECONCILE_USAGE = `  usage reconcile [<user>]           list each folder (or one) and fix the storage meter to match:
                                     exact for a folder nobody writes meanwhile; then apply the
                                     quota cut-off the fixed totals call for (--dry-run: only say)`;

/** One folder's line of the answer. */
export interface ReconcileLine extends FolderReconciled {
  /** Bytes the meter was off by (after − before). */
  readonly driftBytes: number;
}

/**
 * Reconciles `username`'s folder, or every user's; failures are reported after the rest ran.
 * With `dryRun`, answers what it would fix and changes nothing.
 */
export async function reconcileUsage(
  target: AdminTarget,
  username: Username | undefined,
  log: DomainLog,
  progress: (message: string) => void,
  dryRun = false,
): Promise<ReconcileLine[]> {
  if (target.defaultQuotaBytes === undefined)
    throw new AdminError(
      `${target.description} does not say its default quota (a stack deployed before the storage meter): deploy the current stack first.`,
    );
  const quota = createQuotaSync({
    config: { tableName: target.tableName, region: target.region, defaultQuotaBytes: target.defaultQuotaBytes },
    dynamo: target.dynamo,
    log,
    // tvm-admin applies the cut-off list itself, as its other commands do.
    worker: {
      async trigger() {
        await revocationList(target, progress).applyPending();
      },
    },
  });
  const reconciler = createReconciler({
    dynamo: target.dynamo,
    s3: target.s3,
    tableName: target.tableName,
    bucketName: target.bucketName,
    quota,
    log,
  });
  const lines = (outcomes: readonly FolderReconciled[]) =>
    outcomes.map((outcome) => ({ ...outcome, driftBytes: outcome.after.bytes - outcome.before.bytes }));
  if (username !== undefined) {
    const outcome = await reconciler.reconcile(username, { dryRun });
    if (!outcome) throw new AdminError(`No user ${username}.`);
    return lines([outcome]);
  }
  const users = new DynamoUserStore(target.dynamo, target.tableName);
  async function* usernames(): AsyncIterable<Username> {
    for await (const user of users.listUsers()) {
      progress(`reconciling ${user.username}...`);
      yield user.username;
    }
  }
  const run = await reconciler.reconcileAll(usernames(), Number.POSITIVE_INFINITY, { dryRun });
  if (run.failed.length > 0) {
    for (const { username: failed, error } of run.failed)
      progress(`${failed}: ${error instanceof Error ? error.message : String(error)}`);
    throw new AdminError(
      `${run.failed.length} folder(s) not reconciled (${run.failed.map((failed) => failed.username).join(', ')}); run the command again.`,
    );
  }
  return lines(run.reconciled);
}

/**
 * The account commands that cut off issued AWS credentials: revoke-credentials, disable,
 * enable and delete. Each first commits the change in the table (so no new session or
 * credential is vended), then puts the cut-off on the vending role, and says what is done
 * if a later step fails: every step can be run again.
 */
import type { AccountAdmin } from '../lambda/operator/account-admin';
import { COMMIT_ALLOWANCE_MS, nameHeldUntil } from '../lambda/credentials/revocation';
import type { Username } from '../lambda/accounts/username';
import { folderEntries, purgeFolder } from './folder-purge';
import type { RevocationList } from './revocations';
import type { SharingLifecycle } from '../lambda/sharing/share-lifecycle';
import { AdminError, type AdminTarget } from './target';

/** What the lifecycle commands need. */
export interface LifecycleContext {
  readonly admin: AccountAdmin;
  readonly revocations: RevocationList;
  /** The user's shares and links (admin/sharing.ts, sharingLifecycle): disable and delete cut them off. */
  readonly sharing: SharingLifecycle;
  readonly target: Pick<AdminTarget, 's3' | 'bucketName' | 'maxCredentialSeconds' | 'propagationMs' | 'clockSkewMs'>;
  readonly progress: (message: string) => void;
}

/** A credential cut-off that is in force. */
export interface CutOffResult {
  /** Epoch ms: AWS credentials issued to the user before it are denied. */
  readonly cutOffAt: number;
  /** How many users the vending role's list holds now. */
  readonly revokedUsers: number;
  /** How the list matches them (`groups` when too many are revoked to name). */
  readonly matchedBy: 'users' | 'groups';
}

/**
 * Runs `commit` (the write that revokes the sessions) with the cut-off instant it stores on
 * the user record, so from that write on no route vends credentials the cut-off denies. The
 * instant is kept if the commit completed within COMMIT_ALLOWANCE_MS of reading the clock
 * (it then covers the commit); otherwise undefined, and the cut-off takes a later one.
 */
async function commitWithCutOff(
  context: Omit<LifecycleContext, 'sharing'>,
  commit: (cutOffAt: number) => Promise<unknown>,
): Promise<number | undefined> {
  const started = performance.now();
  const cutOffAt = await context.revocations.provisionalCutOff();
  await commit(cutOffAt);
  return performance.now() - started <= COMMIT_ALLOWANCE_MS ? cutOffAt : undefined;
}

/** Runs the cut-off after `committed` describes what is already done, so a failure says so. */
async function cutOff(
  context: Omit<LifecycleContext, 'sharing'>,
  username: Username,
  committed: string,
  committedCutOffAt?: number,
): Promise<CutOffResult> {
  let result;
  try {
    result = await context.revocations.cutOff(username, committedCutOffAt);
  } catch (error) {
    const cause = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new AdminError(
      `${committed}, but the AWS credentials already issued are NOT cut off yet (${cause}). ` +
        'Run the same command again: every step is safe to repeat.',
    );
  }
  await context.admin.recordCredentialsRevoked(username, result.cutOffAt);
  return {
    cutOffAt: result.cutOffAt,
    revokedUsers: result.applied.entries.length,
    matchedBy: result.applied.matchedBy,
  };
}

/** Revokes every session of the user, then cuts off every AWS credential issued to them. */
export async function revokeCredentials(
  context: Omit<LifecycleContext, 'sharing'>,
  username: Username,
): Promise<CutOffResult & { revokedSessions: number }> {
  let revokedSessions = 0;
  const committedCutOffAt = await commitWithCutOff(
    context,
    async (at) => (revokedSessions = await context.admin.revokeSessions(username, 'all', at)),
  );
  return {
    revokedSessions,
    ...(await cutOff(context, username, `${username}: every session is revoked`, committedCutOffAt)),
  };
}

/**
 * Refuses the user's logins and sessions, then cuts off their issued AWS credentials and those
 * issued to others for the shares the user gave (the shares are kept; nothing is vended for them
 * while the user is disabled).
 */
export async function disableUser(
  context: LifecycleContext,
  username: Username,
): Promise<CutOffResult & { cutOffShares: number }> {
  const committedCutOffAt = await commitWithCutOff(context, (at) => context.admin.disable(username, at));
  // Recorded first: the user's cut-off below puts them on the role in the same write.
  const cutOffShares = await context.sharing.cutOffGiven(username);
  return {
    ...(await cutOff(context, username, `${username}: disabled and every session revoked`, committedCutOffAt)),
    cutOffShares,
  };
}

/**
 * Allows logins again. If the user's cut-off instant, or that of a share they gave, is still
 * ahead (a recent disable), waits for it, so credentials from the next login, and those vended
 * for their shares, work at once.
 */
export async function enableUser(context: LifecycleContext, username: Username): Promise<void> {
  await context.admin.enable(username);
  const [own, listed, given] = await Promise.all([
    context.revocations.cutOffOf(username),
    context.revocations.list(),
    context.sharing.given(username),
  ]);
  // The disable also cut off the shares the user gave, at instants of their own: credentials
  // vended for them before those pass would be refused too.
  const ids = new Set(given.map((share) => share.id));
  const shareCutOffs = listed.shares.filter((entry) => ids.has(entry.shareId)).map((entry) => entry.cutOffAt);
  const cutOffAt = own === undefined && shareCutOffs.length === 0 ? undefined : Math.max(own ?? 0, ...shareCutOffs);
  // STS stamps the issue time with its own clock, which may trail DynamoDB's by the skew.
  if (cutOffAt !== undefined) {
    await context.revocations.waitUntil(
      cutOffAt + context.target.clockSkewMs,
      'for the cut-off instant to pass, so new credentials work',
    );
  }
}

/** What `users delete` did. */
export interface DeleteResult {
  readonly deletedEntries: number;
  /** Epoch ms until which the name stays taken. */
  readonly heldUntil: number;
}

/**
 * Deletes an account without a gap: (1) disable and revoke every session; (2) cut off every
 * issued credential, the user's and those of every share they gave or received; (3) wait until
 * the cut-off applies everywhere; (4) delete every object version, delete marker and unfinished
 * upload under `<username>/`; (5) remove the shares and links; (6) delete the records, holding
 * the name until every credential ever issued to it has expired. A user with files
 * needs `deleteFiles`. Run again after a failure, it completes the deletion.
 */
export async function deleteUser(
  context: LifecycleContext,
  username: Username,
  deleteFiles: boolean,
): Promise<DeleteResult> {
  const { admin, revocations, target, progress } = context;
  const heldUntil = await admin.nameHeldUntil(username);
  if (heldUntil !== undefined) return { deletedEntries: 0, heldUntil };
  await admin.showUser(username);
  const entries = await folderEntries(target.s3, target.bucketName, username);
  if (entries > 0 && !deleteFiles) {
    throw new AdminError(
      `${username}/ still holds files (or earlier versions of files); pass --delete-files to delete them with the account.`,
    );
  }
  progress(`${username}: disabling and revoking every session...`);
  const committedCutOffAt = await commitWithCutOff(context, (at) => admin.disable(username, at));
  progress(`${username}: cutting off issued AWS credentials, theirs and those of every share they gave or received...`);
  await context.sharing.cutOffAll(username);
  const { cutOffAt } = await cutOff(
    context,
    username,
    `${username}: disabled and every session revoked`,
    committedCutOffAt,
  );
  // From here no credential of the account can write once IAM applies the Deny everywhere.
  if (target.propagationMs > 0)
    await revocations.waitFor(target.propagationMs, 'for IAM to apply the cut-off everywhere before deleting files');
  progress(`${username}: deleting every object version under ${username}/...`);
  const deletedEntries = await purgeFolder(target.s3, target.bucketName, username, progress);
  const held = nameHeldUntil(cutOffAt, target.maxCredentialSeconds);
  progress(`${username}: removing their shares and links...`);
  // A later account under the freed name must inherit none of them.
  await context.sharing.removeAll(username);
  await revocations.applyPending();
  progress(`${username}: deleting the records...`);
  await admin.deleteUser(username, held);
  return { deletedEntries, heldUntil: held };
}

/**
 * The credential cut-off as tvm-admin and the cut-off worker run it: entries in the TVM's table
 * (revoked users and revoked shares), rendered together into the vending role's
 * `tvm-revoked-users` inline policy under a lock, with cut-off instants from DynamoDB's clock
 * (never the operator's).
 *
 * Why each step is safe to repeat: an entry only ever moves to a later cut-off; the policy is
 * always rendered from every live entry, never patched; the lock has a lease, so a crashed
 * holder blocks others for at most a minute; and a holder that finds its lease taken when it
 * releases renders again, so a stale write never stands.
 */
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { randomUUID } from 'node:crypto';
import { REVOKED_USERS_POLICY_NAME, type PolicyDocument } from '../../policies';
import type { DynamoRevocationStore } from '../operator/revocation-store';
import {
  cutOffInstant,
  liveRevocations,
  liveShareRevocations,
  provisionalCutOff,
  revocationBudget,
  revocationExpiresAt,
  type RevokedUser,
} from '../credentials/revocation';
import { isUsername, type Username } from '../accounts/username';
import { AdminError } from './admin-error';
import type { RevokedShare } from '../sharing/ports';
import { recordShareCutOffs } from './share-cut-off';
import {
  liveOverQuota,
  renderCutOffPolicy,
  type OverQuotaFolder,
  type RenderedCutOffs,
} from '../credentials/over-quota-policy';

/** How long one holder may keep the revocation lock before others may take it. */
export const LOCK_LEASE_MS = 60_000;
/** How long to keep asking for a lock someone else holds before giving up. */
const LOCK_WAIT_MS = 90_000;
const LOCK_RETRY_MS = 250;
/** How often to render again after losing the lease mid-write. */
const MAX_LOST_LEASES = 3;

/** What a {@link RevocationList} needs. */
export interface RevocationListDependencies {
  readonly store: Pick<
    DynamoRevocationStore,
    | 'serverDate'
    | 'record'
    | 'get'
    | 'list'
    | 'remove'
    | 'acquireLock'
    | 'releaseLock'
    | 'recordShare'
    | 'listShares'
    | 'markShareApplied'
    | 'removeShare'
    | 'listQuotaEntries'
    | 'markQuotaApplied'
    | 'removeQuotaEntry'
  >;
  readonly iam: Pick<IAMClient, 'send'>;
  readonly vendingRoleName: string;
  /** The role's own inline policy, which shares IAM's size budget with the revocations. */
  readonly vendingRolePolicy: PolicyDocument;
  /** The longest credential lifetime the TVM vends. */
  readonly maxCredentialSeconds: number;
  /** How long after its session check a /token call may still reach STS, plus clock skew. */
  readonly cutOffMarginMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly progress: (message: string) => void;
}

/** What {@link RevocationList.apply} did. */
export interface AppliedRevocations extends RenderedCutOffs {
  readonly entries: readonly RevokedUser[];
  /** The live share entries now on the role. */
  readonly shares: readonly RevokedShare[];
  /** The folders over quota whose earlier credentials lose their writes (listed or under the fallback). */
  readonly overQuota: readonly OverQuotaFolder[];
  /** Expired entries removed, users' and shares' together. */
  readonly pruned: number;
}

/** The vending role's cut-off list. */
export class RevocationList {
  constructor(private readonly deps: RevocationListDependencies) {}

  /**
   * Cuts off every credential issued to the user so far, and any a /token call already past
   * its session check may still get: call it after the session revocation committed, with the
   * instant that commit carried if it covers it (otherwise a new one is taken now). Returns
   * the cut-off instant.
   */
  async cutOff(
    username: Username,
    committedCutOffAt?: number,
  ): Promise<{ cutOffAt: number; applied: AppliedRevocations }> {
    const { store, maxCredentialSeconds, cutOffMarginMs } = this.deps;
    // An instant the commit carried is used as it is (the caller checked it covers the commit).
    const cutOffAt = committedCutOffAt ?? cutOffInstant(await store.serverDate(), cutOffMarginMs);
    await store.record({ username, cutOffAt }, revocationExpiresAt(cutOffAt, maxCredentialSeconds));
    // A later entry already there wins; report the cut-off that is in force.
    const inForce = (await store.get(username))?.cutOffAt ?? cutOffAt;
    return { cutOffAt: inForce, applied: await this.apply() };
  }

  /**
   * Cuts off every credential issued so far for these shares (and any a share-credentials call
   * already past its checks may still get), and puts the list on the role. Returns the instant,
   * or undefined for no shares (nothing is written then).
   */
  async cutOffShares(shareIds: readonly string[]): Promise<{ cutOffAt?: number; applied?: AppliedRevocations }> {
    const cutOffAt = await recordShareCutOffs(this.deps.store, shareIds, this.deps);
    if (cutOffAt === undefined) return {};
    return { cutOffAt, applied: await this.apply() };
  }

  /**
   * The worker's step: puts the list on the role when a share entry or an over-quota entry waits
   * for it (an API function or the meter recorded one and invoked the worker, or the Invoke failed
   * and this is the schedule's run). Returns what it applied, or undefined when nothing was pending.
   */
  async applyPending(): Promise<AppliedRevocations | undefined> {
    const [shares, quota] = await Promise.all([this.deps.store.listShares(), this.deps.store.listQuotaEntries()]);
    return shares.some((entry) => entry.pending) || quota.some((entry) => entry.pending) ? this.apply() : undefined;
  }

  /**
   * A cut-off instant for a revocation whose commit is about to be sent, from DynamoDB's clock
   * read now (see {@link provisionalCutOff}): it covers the commit if that completes within
   * COMMIT_ALLOWANCE_MS of this call's start.
   */
  async provisionalCutOff(): Promise<number> {
    return provisionalCutOff(await this.deps.store.serverDate(), this.deps.cutOffMarginMs);
  }

  /**
   * Renders the policy from every live entry and puts it on the role (or deletes it when no
   * entry is left), pruning entries whose credentials have all expired. Serialised by the lock.
   */
  async apply(): Promise<AppliedRevocations> {
    for (let attempt = 0; attempt < MAX_LOST_LEASES; attempt++) {
      const owner = randomUUID();
      await this.lock(owner);
      let applied: AppliedRevocations;
      try {
        applied = await this.renderAndPut();
      } catch (error) {
        await this.deps.store.releaseLock(owner).catch(() => undefined);
        throw error;
      }
      if (await this.deps.store.releaseLock(owner)) return applied;
      this.deps.progress('the revocation lock was taken over while this command wrote; writing again...');
    }
    throw new AdminError('Lost the revocation lock repeatedly (IAM answered too slowly); run the command again.');
  }

  /** Every entry (users' and shares') with its state at DynamoDB's `now`. */
  async list(): Promise<{ now: number; entries: RevokedUser[]; shares: RevokedShare[] }> {
    const [now, entries, shares] = await Promise.all([
      this.deps.store.serverDate(),
      this.deps.store.list(),
      this.deps.store.listShares(),
    ]);
    return {
      now,
      entries: entries.sort((a, b) => a.username.localeCompare(b.username)),
      shares: shares
        .map(({ shareId, cutOffAt }) => ({ shareId, cutOffAt }))
        .sort((a, b) => a.cutOffAt - b.cutOffAt || (a.shareId < b.shareId ? -1 : 1)),
    };
  }

  /** The user's cut-off, if one is on the list. */
  async cutOffOf(username: Username): Promise<number | undefined> {
    return (await this.deps.store.get(username))?.cutOffAt;
  }

  /** Waits until DynamoDB's clock has reached `instant`, reporting once what it waits for and how long. */
  async waitUntil(instant: number, reason: string): Promise<void> {
    let reported = false;
    for (;;) {
      // The Date header is truncated to the second: the true time is at least this, so a
      // header equal to a whole-second instant means it has come (credentials issued at it pass).
      const remaining = instant - (await this.deps.store.serverDate());
      if (remaining <= 0) return;
      if (!reported) this.deps.progress(`waiting ${Math.ceil(remaining / 1000)} s ${reason}...`);
      reported = true;
      await this.deps.sleep(Math.min(remaining, 30_000));
    }
  }

  /** Waits `ms` by DynamoDB's clock. */
  async waitFor(ms: number, reason: string): Promise<void> {
    await this.waitUntil((await this.deps.store.serverDate()) + ms, reason);
  }

  private async lock(owner: string): Promise<void> {
    const { store, sleep, progress } = this.deps;
    let waited = 0;
    for (;;) {
      const now = await store.serverDate();
      if (await store.acquireLock(owner, now, now + LOCK_LEASE_MS)) return;
      if (waited === 0) progress('another revocation is being written; waiting for it...');
      if (waited >= LOCK_WAIT_MS)
        throw new AdminError('Another tvm-admin holds the revocation lock; run the command again in a minute.');
      await sleep(LOCK_RETRY_MS);
      waited += LOCK_RETRY_MS;
    }
  }

  /**
   * Entries that exist only in the role's policy, written by a tvm-admin from before the list
   * moved into the table (one statement per user, the username as a single string): recorded
   * in the table, so rendering from the table never drops them.
   */
  private async adoptLegacyEntries(): Promise<void> {
    const { store, iam, vendingRoleName, maxCredentialSeconds } = this.deps;
    let text: string | undefined;
    try {
      text = (
        await iam.send(new GetRolePolicyCommand({ RoleName: vendingRoleName, PolicyName: REVOKED_USERS_POLICY_NAME }))
      ).PolicyDocument;
    } catch (error) {
      if (error instanceof NoSuchEntityException || (error as Error).name === 'NoSuchEntity') return;
      throw error;
    }
    const policy = text ? (JSON.parse(decodeURIComponent(text)) as PolicyDocument) : undefined;
    for (const statement of policy?.Statement ?? []) {
      const username = statement.Condition?.StringEquals?.['aws:PrincipalTag/username'];
      const before = statement.Condition?.DateLessThan?.['aws:TokenIssueTime'];
      if (statement.Effect !== 'Deny' || typeof username !== 'string' || typeof before !== 'string') continue;
      const cutOffAt = Date.parse(before);
      if (!isUsername(username) || Number.isNaN(cutOffAt)) continue;
      await store.record({ username, cutOffAt }, revocationExpiresAt(cutOffAt, maxCredentialSeconds));
    }
  }

  private async renderAndPut(): Promise<AppliedRevocations> {
    const { store, iam, vendingRoleName, vendingRolePolicy, maxCredentialSeconds } = this.deps;
    await this.adoptLegacyEntries();
    const [now, stored, storedShares, storedQuota] = await Promise.all([
      store.serverDate(),
      store.list(),
      store.listShares(),
      store.listQuotaEntries(),
    ]);
    const live = liveRevocations(stored, now, maxCredentialSeconds);
    const expired = stored.filter(
      (entry) => !live.some((kept) => kept.username === entry.username && kept.cutOffAt === entry.cutOffAt),
    );
    const liveShares = liveShareRevocations(storedShares, now, maxCredentialSeconds);
    const kept = new Set(liveShares.map((entry) => `${entry.shareId}@${entry.cutOffAt}`));
    const expiredShares = storedShares.filter((entry) => !kept.has(`${entry.shareId}@${entry.cutOffAt}`));
    // Entries marked under are left off: their folder writes again (new credentials already do).
    const overQuota = liveOverQuota(
      storedQuota.filter((entry) => !entry.under),
      now,
      maxCredentialSeconds,
    );
    const rendered = renderCutOffPolicy(
      live,
      liveShares,
      overQuota,
      revocationBudget(vendingRolePolicy),
      fileBucketArnOf(vendingRolePolicy),
    );
    if (rendered.policy) {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: vendingRoleName,
          PolicyName: REVOKED_USERS_POLICY_NAME,
          PolicyDocument: JSON.stringify(rendered.policy),
        }),
      );
    } else {
      try {
        await iam.send(
          new DeleteRolePolicyCommand({ RoleName: vendingRoleName, PolicyName: REVOKED_USERS_POLICY_NAME }),
        );
      } catch (error) {
        if (!(error instanceof NoSuchEntityException || (error as Error).name === 'NoSuchEntity')) throw error;
      }
    }
    // Only once the policy no longer needs them (or carries them).
    for (const entry of expired) await store.remove(entry);
    for (const entry of expiredShares) await store.removeShare(entry);
    for (const entry of storedShares) {
      if (entry.pending && kept.has(`${entry.shareId}@${entry.cutOffAt}`)) await store.markShareApplied(entry);
    }
    // An over entry is kept (it says the folder is over) once applied; an under one goes.
    for (const entry of storedQuota) {
      if (entry.under) await store.removeQuotaEntry(entry);
      else if (entry.pending) await store.markQuotaApplied(entry);
    }
    return {
      ...rendered,
      entries: live,
      shares: liveShares,
      overQuota,
      pruned: expired.length + expiredShares.length,
    };
  }
}

/**
 * The file bucket's ARN, read from the vending role's own policy (its ListBucket statement names
 * the bucket), so the list needs no second source for it.
 */
export function fileBucketArnOf(vendingRolePolicy: PolicyDocument): string {
  for (const statement of vendingRolePolicy.Statement) {
    const actions = [statement.Action].flat();
    const resources = [statement.Resource].flat();
    if (statement.Effect === 'Allow' && actions.includes('s3:ListBucket') && resources.length === 1)
      return resources[0]!;
  }
  throw new Error('The vending role policy names no bucket (no ListBucket statement).');
}

/**
 * The over-quota cut-off of credentials already issued: when a folder goes over its quota, an
 * entry (`REVOCATIONS / QUOTA#<username>`, `since`) asks the cut-off worker to deny every write
 * into that folder to credentials issued before `since`; when it comes back under, the entry is
 * marked `under` and the worker takes the statement off the role. New credentials need no entry:
 * a vend reads the totals and leaves the writes out of the session policy itself.
 *
 * `since` lies `marginMs` after the moment the entry is written (DynamoDB's clock), so it also
 * covers a vend that read the totals just before the meter moved them over (it reaches STS at
 * most a function timeout later). Pure: the stores, the clock and the worker are ports.
 */
import type { Username } from '../accounts/username';
import { cutOffInstant } from '../credentials/revocation';
import { EMPTY_USAGE, effectiveQuotaBytes, isOverQuota, type UsageTotals } from './quota';

/**
 * What the meter, reconcile and `tvm-admin users quota` call after a folder's totals or its
 * quota may have changed (the port M1's meter calls; {@link QuotaEnforcer} implements it).
 */
export interface QuotaSync {
  /**
   * Brings the user's over-quota entry in line with the folder's totals and quota as stored now,
   * and asks the cut-off worker to apply a change. Idempotent; safe to call concurrently.
   */
  sync(username: Username): Promise<QuotaSyncResult>;
}

/** What {@link QuotaSync.sync} found and did. */
export interface QuotaSyncResult {
  /** Whether the folder is over its quota now (false for a user that no longer exists). */
  readonly overQuota: boolean;
  /** `over`: an entry was written; `under`: the entry was marked for removal; undefined: nothing to change. */
  readonly changed?: 'over' | 'under';
  /** The entry's instant when the folder is over quota: credentials issued before it lose their writes. */
  readonly since?: number;
}

/** A user's over-quota entry as stored. */
export interface OverQuotaEntry {
  readonly username: Username;
  /** Epoch ms, a whole second: credentials issued before it lose every write into the folder. */
  readonly since: number;
  /** True once the folder came back under: the worker takes the statement off the role, then removes the entry. */
  readonly under: boolean;
  /** True until the worker has put the entry's current state on the role. */
  readonly pending: boolean;
}

/** The over-quota entries in the revocation list, and DynamoDB's clock. */
export interface OverQuotaEntryStore {
  /** DynamoDB's clock (epoch ms, whole seconds). */
  serverDate(): Promise<number>;
  getQuotaEntry(username: Username): Promise<OverQuotaEntry | undefined>;
  /**
   * Writes `{since, under: false, pending: true}` only if the entry is still `previous` as read
   * (absent, or `under` with that `since`). Returns whether it did.
   */
  recordOverQuota(username: Username, since: number, previous: OverQuotaEntry | undefined): Promise<boolean>;
  /** Marks the entry `under` (pending) only if it is still `entry` as read. Returns whether it did. */
  recordUnderQuota(entry: OverQuotaEntry): Promise<boolean>;
}

/** What the enforcer reads of a user: whether they exist and their own quota. */
export interface QuotaSubjectReader {
  getUser(username: Username): Promise<{ readonly userId: string; readonly quotaBytes?: number | null } | undefined>;
}

/** A folder's totals as the meter last wrote them (the USAGE item; nothing counted yet: empty). */
export interface UsageTotalsReader {
  /** Totals left by an earlier account of the same name (another `registration`, the user's `userId`) read as empty. */
  usageTotals(username: Username, registration: string): Promise<UsageTotals>;
}

/** A folder's USAGE item as stored: its totals and the registration (`userId`) they count for. */
export interface StoredUsage {
  readonly registration: string;
  readonly totals: UsageTotals;
}

/**
 * The USAGE item read before the user is known (a login reads it beside the password check),
 * so the caller matches its registration afterwards: undefined when the meter counted nothing.
 */
export interface StoredUsageReader {
  storedUsage(username: Username): Promise<StoredUsage | undefined>;
}

/** The totals a stored USAGE item holds for registration `registration`: an earlier account's count nothing. */
export function totalsFor(stored: StoredUsage | undefined, registration: string): UsageTotals {
  return stored !== undefined && stored.registration === registration ? stored.totals : EMPTY_USAGE;
}

/** Asks the cut-off worker to put the list on the vending role. Never throws: its schedule runs anyway. */
export interface CutOffWorkerTrigger {
  trigger(reason: string): Promise<void>;
}

/** What {@link QuotaEnforcer} needs. */
export interface QuotaEnforcerDependencies {
  readonly users: QuotaSubjectReader;
  readonly usage: UsageTotalsReader;
  readonly entries: OverQuotaEntryStore;
  readonly worker: CutOffWorkerTrigger;
  /** The `defaultQuotaBytes` setting (0: no quota). */
  readonly defaultQuotaBytes: number;
  /** How long after its checks a vend may still reach STS, plus clock skew (CUT_OFF_MARGIN_MS on AWS). */
  readonly marginMs: number;
}

/** How often one sync reads again after a concurrent change before it leaves the rest to the next sync. */
const MAX_ROUNDS = 5;

/** The over-quota cut-off of one user's issued credentials. */
export class QuotaEnforcer implements QuotaSync {
  constructor(private readonly deps: QuotaEnforcerDependencies) {}

  /**
   * Reads the user, the totals and the entry; writes the entry the totals call for, conditional
   * on the entry as read; then reads again, so a sync that raced another one (or a meter update)
   * ends on the state the latest totals call for.
   */
  async sync(username: Username): Promise<QuotaSyncResult> {
    let changed: QuotaSyncResult['changed'];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { over, entry } = await this.read(username);
      const inForce = entry !== undefined && !entry.under;
      if (over === inForce) {
        return { overQuota: over, ...(changed ? { changed } : {}), ...(over && entry ? { since: entry.since } : {}) };
      }
      const wrote = over ? await this.markOver(username, entry) : await this.deps.entries.recordUnderQuota(entry!);
      if (wrote) {
        changed = over ? 'over' : 'under';
        await this.deps.worker.trigger(over ? 'quota-over' : 'quota-under');
      }
    }
    // Totals that keep moving under this sync: the meter's next event syncs again.
    const { over, entry } = await this.read(username);
    return { overQuota: over, ...(changed ? { changed } : {}), ...(over && entry ? { since: entry.since } : {}) };
  }

  private async read(username: Username): Promise<{ over: boolean; entry: OverQuotaEntry | undefined }> {
    const [user, entry] = await Promise.all([
      this.deps.users.getUser(username),
      this.deps.entries.getQuotaEntry(username),
    ]);
    // The totals count for this registration only (a freed name inherits nothing), so they are read after the user.
    const totals = user === undefined ? EMPTY_USAGE : await this.deps.usage.usageTotals(username, user.userId);
    // A user who no longer exists is over nothing (their deletion cut off everything anyway).
    const over =
      user !== undefined && isOverQuota(totals, effectiveQuotaBytes(user.quotaBytes, this.deps.defaultQuotaBytes));
    return { over, entry };
  }

  private async markOver(username: Username, previous: OverQuotaEntry | undefined): Promise<boolean> {
    // The same instant a credential cut-off takes: it covers a vend already past its read.
    const since = cutOffInstant(await this.deps.entries.serverDate(), this.deps.marginMs);
    return this.deps.entries.recordOverQuota(username, since, previous);
  }
}

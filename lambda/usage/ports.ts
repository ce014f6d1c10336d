/**
 * The storage meter's ports (docs/operating.md#usage-meter): its state in the table, the
 * folder listing the reconcile reads, the user check, and the quota sync it calls after a
 * change. The adapters are lambda/adapters/dynamo/usage-store.ts and
 * lambda/adapters/folder-lister.ts; the quota sync is lambda/usage/quota-enforcer.ts.
 */
import type { Username } from '../accounts/username';
import type { UsageTotals } from './quota';
import type { Sequencer } from './sequencer';

/** The meter's view of one key of a user's folder: its current version, or a tombstone once removed. */
export interface ObjectState {
  /** Whether a current version exists (false: a tombstone, kept so an older event cannot bring it back). */
  readonly present: boolean;
  /** The current version's size in bytes; 0 for a tombstone. */
  readonly size: number;
  /** The version the last applied event named, when the bucket is versioned and the event said. */
  readonly versionId?: string;
  /** The last applied event's sequencer ({@link LOWEST_SEQUENCER} when the reconcile set it). */
  readonly sequencer: Sequencer;
  /** When that event happened (S3's eventTime), epoch ms; 0 for a key only the reconcile has seen. */
  readonly changedAt: number;
}

/** What one change adds to a folder's totals (negative to remove). */
export interface UsageDelta {
  readonly bytes: number;
  readonly objects: number;
}

/**
 * One user's meter state, held by one caller at a time (a lease), so a change to an object's
 * state and to the totals is never interleaved with another caller's.
 */
export interface FolderLease {
  /** The state of one key (its path inside the folder, without `<username>/`), undefined when never seen. */
  read(keyInFolder: string): Promise<ObjectState | undefined>;
  /**
   * Sets the key's state and adds `delta` to the totals as one step: when the caller dies
   * between the two writes, the next holder of the lease finishes it (so a change is counted
   * exactly once, even across crashes).
   */
  write(keyInFolder: string, next: ObjectState, delta: UsageDelta): Promise<void>;
  /** Every key's state (the reconcile). */
  states(): Promise<Map<string, ObjectState>>;
  /** Sets a key's state without touching the totals (the reconcile, which then sets the totals). */
  replace(keyInFolder: string, next: ObjectState): Promise<void>;
  /** Sets the totals outright (the reconcile). */
  setTotals(totals: UsageTotals): Promise<void>;
  /** The totals now. */
  totals(): Promise<UsageTotals>;
  /** Keeps holding the lease for another lease period (a long reconcile). */
  renew(): Promise<void>;
  /** Lets the next caller in. */
  release(): Promise<void>;
}

/** Where the meter keeps its state. */
export interface MeterStore {
  /**
   * Takes the user's meter lease for `leaseMs` as `holder`; undefined when another holder
   * has it (the caller waits, or gives the work back to the queue). State left by an earlier
   * account of the same name (another `registration`) reads as never seen, and its totals as
   * empty: a freed name inherits nothing.
   */
  lease(username: Username, registration: string, holder: string, leaseMs: number): Promise<FolderLease | undefined>;
  /**
   * The user's totals as last counted for registration `registration` (the user's `userId`):
   * {@link EMPTY_USAGE} before any, and for what an earlier account of the same name left.
   */
  totals(username: Username, registration: string): Promise<UsageTotals>;
}

/** The current registration of a user (their `userId`), undefined when there is no account (or only a deleted name's hold). */
export interface UserDirectory {
  registration(username: Username): Promise<string | undefined>;
}

/** One object of a folder listing (current versions only). */
export interface ListedObject {
  /** The key inside the folder, without `<username>/`. */
  readonly keyInFolder: string;
  readonly size: number;
}

/** Lists a user's folder, current versions only (the reconcile). */
export interface FolderLister {
  list(username: Username): AsyncIterable<ListedObject>;
}

/** The quota sync the meter and the reconcile call after a change (QuotaEnforcer): a failure gives the user's messages back to the queue. */
export type { QuotaSync } from './quota-enforcer';

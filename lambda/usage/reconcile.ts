/**
 * The meter's reconcile (docs/operating.md#usage-meter): lists a folder and makes the meter's
 * states and totals match it, fixing whatever drift events left (a lost event, an operator's
 * version delete, a bug). `tvm-admin usage reconcile [username]` and the stack's daily
 * schedule run it. Pure: the listing, the states and the user check are ports.
 */
import type { Username } from '../accounts/username';
import type { Clock } from '../platform/clock';
import type {
  FolderLease,
  FolderLister,
  ListedObject,
  MeterStore,
  ObjectState,
  QuotaSync,
  UserDirectory,
} from './ports';
import type { UsageTotals } from './quota';
import { LOWEST_SEQUENCER } from './sequencer';
import { LEASE_WAIT_MS, METER_LEASE_MS, waitForLease } from './meter';

/**
 * A state changed by an event that S3 stamped at most this long before the listing began is
 * left as it is: the event may be newer than what the listing saw. S3's clock and the
 * function's differ by far less.
 */
export const RECENT_CHANGE_MARGIN_MS = 60_000;

/** What the reconcile writes for one folder. */
export interface ReconcilePlan {
  /** Keys whose state changes, with their new state. */
  readonly writes: ReadonlyMap<string, ObjectState>;
  /** The totals once written: the sum over every key's state. */
  readonly totals: UsageTotals;
}

/**
 * The states that make the meter match `listing` (taken starting at `listedAt`): a listed
 * key is present with its listed size (keeping its sequencer, or the lowest for a key the
 * meter never saw, so any real event still applies after); a key not listed is a tombstone;
 * a state an event changed since the listing began (less the margin) is kept.
 */
export function planReconcile(
  listing: Iterable<ListedObject>,
  states: ReadonlyMap<string, ObjectState>,
  listedAt: number,
): ReconcilePlan {
  const writes = new Map<string, ObjectState>();
  const recent = (state: ObjectState | undefined) =>
    state !== undefined && state.changedAt >= listedAt - RECENT_CHANGE_MARGIN_MS;
  const listed = new Set<string>();
  for (const object of listing) {
    listed.add(object.keyInFolder);
    const state = states.get(object.keyInFolder);
    if (recent(state) || (state?.present && state.size === object.size)) continue;
    writes.set(object.keyInFolder, {
      present: true,
      size: object.size,
      sequencer: state?.sequencer ?? LOWEST_SEQUENCER,
      // Not an event's time: a state the reconcile wrote never counts as changed since a later listing.
      changedAt: state?.changedAt ?? 0,
    });
  }
  for (const [key, state] of states) {
    if (listed.has(key) || !state.present || recent(state)) continue;
    writes.set(key, { ...state, present: false, size: 0 });
  }
  let bytes = 0;
  let objects = 0;
  for (const [key, state] of states) {
    const final = writes.get(key) ?? state;
    if (final.present) {
      bytes += final.size;
      objects += 1;
    }
  }
  for (const [key, state] of writes) {
    if (states.has(key) || !state.present) continue;
    bytes += state.size;
    objects += 1;
  }
  return { writes, totals: { bytes, objects } };
}

/** One folder's reconcile. */
export interface FolderReconciled {
  readonly username: Username;
  /** The totals before and after. */
  readonly before: UsageTotals;
  readonly after: UsageTotals;
  /** Keys whose state the reconcile wrote. */
  readonly fixed: number;
}

/** What a reconcile of many folders did. */
export interface ReconcileRun {
  readonly reconciled: readonly FolderReconciled[];
  /** Folders whose reconcile failed (run again): the error is for the operator's logs. */
  readonly failed: readonly { readonly username: Username; readonly error: unknown }[];
  /** Folders left for the next run when the time budget ran out. */
  readonly unfinished: number;
}

/** What {@link Reconciler} needs. */
export interface ReconcilerDependencies {
  readonly store: MeterStore;
  readonly lister: FolderLister;
  readonly users: UserDirectory;
  readonly quota: QuotaSync;
  readonly clock: Clock;
  readonly holder: string;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default {@link METER_LEASE_MS}. */
  readonly leaseMs?: number;
  /** How long to wait for a meter batch to let go of a folder; default 4 × {@link LEASE_WAIT_MS}. */
  readonly leaseWaitMs?: number;
}

/** Writes between lease renewals: well inside a lease period at DynamoDB's speed. */
const WRITES_PER_RENEWAL = 200;

/** Reconciles folders, one at a time. */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDependencies) {}

  /**
   * Reconciles `username`'s folder; undefined when the user does not exist. Throws when the
   * folder stays leased by the meter past the wait (run it again). With `dryRun`, works out
   * the same answer and writes nothing.
   */
  async reconcile(
    username: Username,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<FolderReconciled | undefined> {
    const { users, lister, clock, quota } = this.deps;
    const registration = await users.registration(username);
    if (registration === undefined) return undefined;
    const listedAt = clock.now();
    // The listing is taken before the lease, so the meter is held up only for the writes.
    const listing: ListedObject[] = [];
    for await (const object of lister.list(username)) listing.push(object);
    const lease = await waitForLease(
      {
        ...this.deps,
        leaseMs: this.deps.leaseMs ?? METER_LEASE_MS,
        leaseWaitMs: this.deps.leaseWaitMs ?? 4 * LEASE_WAIT_MS,
      },
      username,
      registration,
    );
    if (lease === undefined) throw new Error(`The meter is busy with ${username}'s folder; run the reconcile again.`);
    let outcome: FolderReconciled;
    try {
      outcome = await this.apply(lease, username, listing, listedAt, options.dryRun === true);
    } finally {
      await lease.release();
    }
    if (!options.dryRun) await quota.sync(username);
    return outcome;
  }

  /**
   * Reconciles every folder `usernames` names, one at a time, until `stopAt` (epoch ms; the
   * scheduled function's time budget): a failed folder is reported and the rest go on.
   */
  async reconcileAll(
    usernames: AsyncIterable<Username>,
    stopAt = Number.POSITIVE_INFINITY,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<ReconcileRun> {
    const reconciled: FolderReconciled[] = [];
    const failed: { username: Username; error: unknown }[] = [];
    let unfinished = 0;
    for await (const username of usernames) {
      if (this.deps.clock.now() >= stopAt) {
        unfinished += 1;
        continue;
      }
      try {
        const outcome = await this.reconcile(username, options);
        if (outcome) reconciled.push(outcome);
      } catch (error) {
        failed.push({ username, error });
      }
    }
    return { reconciled, failed, unfinished };
  }

  private async apply(
    lease: FolderLease,
    username: Username,
    listing: readonly ListedObject[],
    listedAt: number,
    dryRun: boolean,
  ): Promise<FolderReconciled> {
    const before = await lease.totals();
    const plan = planReconcile(listing, await lease.states(), listedAt);
    if (dryRun) return { username, before, after: plan.totals, fixed: plan.writes.size };
    let written = 0;
    for (const [key, state] of plan.writes) {
      await lease.replace(key, state);
      written += 1;
      if (written % WRITES_PER_RENEWAL === 0) await lease.renew();
    }
    await lease.setTotals(plan.totals);
    return { username, before, after: plan.totals, fixed: plan.writes.size };
  }
}

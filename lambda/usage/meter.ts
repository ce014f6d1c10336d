/**
 * The storage meter (docs/operating.md#usage-meter): applies S3's event notifications to
 * each user's totals, idempotently and whatever their order. Pure: the table, the user check
 * and the quota sync are ports.
 *
 * Every key has one state (its current version's size and the sequencer of the last event
 * applied to it). An event applies only when its sequencer is later than the stored one, and
 * the totals move by the difference between the old state and the new one. So a duplicate
 * changes nothing, and events of one key applied in any order end in the state of the latest:
 * the totals, a sum over the keys' states, end the same.
 */
import { isUsername, type Username } from '../accounts/username';
import type { DomainLog } from '../platform/audit';
import type { Clock } from '../platform/clock';
import type { FolderLease, MeterStore, ObjectState, QuotaSync, UsageDelta, UserDirectory } from './ports';
import { MalformedNotificationError, parseNotification, type S3ObjectEvent } from './s3-events';
import { isLater } from './sequencer';

/** How long a tombstone is kept: longer than the queue's dead-letter retention (14 days), so no redriven event outlives it. */
export const TOMBSTONE_DAYS = 15;
/** How long a caller holds a user's meter lease: more than the meter function's timeout, so two holders never overlap. */
export const METER_LEASE_MS = 120_000;
/** How long a batch waits for a user's lease held by another batch before giving those messages back to the queue. */
export const LEASE_WAIT_MS = 5_000;

/** The new state of a key after `event`, and what the totals gain; undefined when the event changes nothing. */
export function transition(
  state: ObjectState | undefined,
  event: S3ObjectEvent,
): { readonly next: ObjectState; readonly delta: UsageDelta } | undefined {
  if (state !== undefined && !isLater(event.sequencer, state.sequencer)) return undefined;
  let next: ObjectState;
  switch (event.kind) {
    case 'created':
      next = { present: true, size: event.size, sequencer: event.sequencer, changedAt: event.eventTime };
      break;
    case 'removed':
      // Also for a key never seen: the tombstone stops its older creation, arriving late, from counting.
      next = { present: false, size: 0, sequencer: event.sequencer, changedAt: event.eventTime };
      break;
    case 'version-removed':
      // Deleting a noncurrent version (its expiry) frees nothing the meter counts; deleting
      // the current version for good (only the operator can) removes it. The version that
      // then becomes current again is counted by the next reconcile.
      if (state === undefined || !state.present || state.versionId !== event.versionId) return undefined;
      next = { present: false, size: 0, sequencer: event.sequencer, changedAt: event.eventTime };
      break;
  }
  if (event.versionId !== undefined) next = { ...next, versionId: event.versionId };
  return { next, delta: difference(state, next) };
}

/** What the totals gain when a key goes from `before` to `after`. */
export function difference(before: ObjectState | undefined, after: ObjectState): UsageDelta {
  const counted = (state: ObjectState | undefined) => (state?.present ? state.size : 0);
  const objects = (state: ObjectState | undefined) => (state?.present ? 1 : 0);
  return { bytes: counted(after) - counted(before), objects: objects(after) - objects(before) };
}

/** Where an event's key lands: a user's folder and the key inside it, or why nowhere. */
export function folderOf(key: string): { username: Username; keyInFolder: string } | { reason: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { reason: 'key is outside any user folder (no "/")' };
  const first = key.slice(0, slash);
  // Keys are case-sensitive: `Alice/x` is not alice's folder, so no case folding here.
  if (!isUsername(first)) return { reason: 'key is outside any user folder (not a username)' };
  return { username: first, keyInFolder: key.slice(slash + 1) };
}

/** One queue message: its id (for partial batch failure) and body (S3's notification JSON). */
export interface NotificationMessage {
  readonly messageId: string;
  readonly body: string;
}

/** What a batch did. */
export interface MeterBatchResult {
  /** Messages to give back to the queue (retried, then dead-lettered). */
  readonly failedMessageIds: readonly string[];
  /** Events that changed a key's state. */
  readonly applied: number;
  /** Events that were duplicates or older than the key's state. */
  readonly unchanged: number;
  /** Events counted nowhere (outside any folder, unknown user, other bucket, malformed). */
  readonly skipped: number;
  /** Users whose totals or cut-off were brought up to date. */
  readonly users: readonly Username[];
}

/** What {@link UsageMeter} needs. */
export interface UsageMeterDependencies {
  readonly store: MeterStore;
  readonly users: UserDirectory;
  readonly quota: QuotaSync;
  readonly log: DomainLog;
  readonly clock: Clock;
  /** The file bucket: events of any other bucket are counted nowhere. */
  readonly bucket: string;
  /** This caller's name on leases (e.g. the function instance). */
  readonly holder: string;
  /** Waits `ms` (for a lease). Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default {@link METER_LEASE_MS}. */
  readonly leaseMs?: number;
  /** Default {@link LEASE_WAIT_MS}. */
  readonly leaseWaitMs?: number;
}

interface UserWork {
  readonly events: { readonly event: S3ObjectEvent; readonly keyInFolder: string; readonly messageId: string }[];
}

/** The meter: one batch of queue messages at a time (the SQS handler, and the sandbox's queue). */
export class UsageMeter {
  constructor(private readonly deps: UsageMeterDependencies) {}

  /** Applies a batch; returns the messages whose events could not all be applied, for the queue to retry. */
  async handle(messages: readonly NotificationMessage[]): Promise<MeterBatchResult> {
    const failed = new Set<string>();
    const work = new Map<Username, UserWork>();
    let skipped = 0;
    for (const message of messages) {
      let parsed: ReturnType<typeof parseNotification>;
      try {
        parsed = parseNotification(message.body);
      } catch (error) {
        if (!(error instanceof MalformedNotificationError)) throw error;
        // Never right on a retry either; the retries take it to the dead-letter queue for a look.
        this.deps.log.error('usage event message malformed', { messageId: message.messageId, reason: error.message });
        failed.add(message.messageId);
        continue;
      }
      for (const rejected of parsed.rejected) this.skip(rejected.eventName, rejected.reason);
      skipped += parsed.rejected.length;
      for (const event of parsed.events) {
        if (event.bucket !== this.deps.bucket) {
          this.skip(event.eventName, 'event of another bucket');
          skipped += 1;
          continue;
        }
        const place = folderOf(event.key);
        if ('reason' in place) {
          this.skip(event.eventName, place.reason);
          skipped += 1;
          continue;
        }
        const entry = work.get(place.username) ?? { events: [] };
        entry.events.push({ event, keyInFolder: place.keyInFolder, messageId: message.messageId });
        work.set(place.username, entry);
      }
    }
    let applied = 0;
    let unchanged = 0;
    const users: Username[] = [];
    for (const [username, entry] of work) {
      const messageIds = new Set(entry.events.map((item) => item.messageId));
      try {
        const registration = await this.deps.users.registration(username);
        if (registration === undefined) {
          for (const { event } of entry.events) this.skip(event.eventName, 'user does not exist', username);
          skipped += entry.events.length;
          continue;
        }
        const outcome = await this.applyUserEvents(username, registration, entry);
        if (outcome === undefined) {
          this.deps.log.warn('usage meter busy: messages go back to the queue', { username });
          for (const id of messageIds) failed.add(id);
          continue;
        }
        applied += outcome.applied;
        unchanged += outcome.unchanged;
        await this.deps.quota.sync(username);
        users.push(username);
      } catch (error) {
        this.deps.log.error('usage events not applied: messages go back to the queue', {
          username,
          error: error instanceof Error ? error.name : String(error),
        });
        for (const id of messageIds) failed.add(id);
      }
    }
    return { failedMessageIds: [...failed], applied, unchanged, skipped, users };
  }

  /** Applies one user's events under their lease; undefined when the lease stayed taken. */
  private async applyUserEvents(
    username: Username,
    registration: string,
    entry: UserWork,
  ): Promise<{ applied: number; unchanged: number } | undefined> {
    const lease = await waitForLease(this.deps, username, registration);
    if (lease === undefined) return undefined;
    let applied = 0;
    let unchanged = 0;
    try {
      for (const { event, keyInFolder } of entry.events) {
        const change = transition(await lease.read(keyInFolder), event);
        if (change === undefined) {
          unchanged += 1;
          continue;
        }
        await lease.write(keyInFolder, change.next, change.delta);
        applied += 1;
      }
    } finally {
      await lease.release();
    }
    return { applied, unchanged };
  }

  private skip(eventName: string, reason: string, username?: Username): void {
    // The key itself is never logged: only the event's name, the reason and a validated username.
    this.deps.log.warn('usage event counted nowhere', { eventName, reason, ...(username ? { username } : {}) });
  }
}

/** What {@link waitForLease} needs. */
export interface LeaseWaitDependencies {
  readonly store: MeterStore;
  readonly clock: Clock;
  readonly holder: string;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly leaseMs?: number;
  readonly leaseWaitMs?: number;
}

/** The user's meter lease, waiting (with backoff) up to the lease wait for another holder to let go; undefined if it never did. */
export async function waitForLease(
  deps: LeaseWaitDependencies,
  username: Username,
  registration: string,
): Promise<FolderLease | undefined> {
  const { store, holder, clock } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const leaseMs = deps.leaseMs ?? METER_LEASE_MS;
  const giveUpAt = clock.now() + (deps.leaseWaitMs ?? LEASE_WAIT_MS);
  for (let wait = 25; ; wait = Math.min(wait * 2, 1000)) {
    const lease = await store.lease(username, registration, holder, leaseMs);
    if (lease !== undefined || clock.now() >= giveUpAt) return lease;
    await sleep(wait);
  }
}

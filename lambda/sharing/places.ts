/**
 * The per-owner limits on shares and links: a counter on the owner's user record, raised by a
 * conditional write before a create. The counter may run high (a create that failed after
 * taking its place, a crash between writes), never low; when it says "full", the owner's real
 * records are counted again (expired ones removed, since an expired grant frees its place) and
 * the counter set to that.
 */
import type { Username } from '../platform/identity';
import { LimitReachedError } from '../platform/errors';

/** A per-owner counter (ShareStore and LinkStore each keep one). */
export interface PlaceCounter {
  reserve(owner: Username, ownerUserId: string, max: number): Promise<boolean>;
  recount(owner: Username, ownerUserId: string, count: number): Promise<void>;
}

/**
 * Takes one of the owner's `max` places, or throws {@link LimitReachedError} (409
 * `limit_reached`). `countLive` counts the owner's live records, removing expired ones.
 */
export async function takePlace(
  counter: PlaceCounter,
  owner: Username,
  ownerUserId: string,
  max: number,
  countLive: () => Promise<number>,
  what: string,
): Promise<void> {
  if (await counter.reserve(owner, ownerUserId, max)) return;
  const live = await countLive();
  await counter.recount(owner, ownerUserId, live);
  if (live < max && (await counter.reserve(owner, ownerUserId, max))) return;
  throw new LimitReachedError(`You already have ${max} ${what}, the most allowed; revoke one to make room.`);
}

/** ISO 8601 of an optional instant, or null (the wire's "no end"). */
export function isoOrNull(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString();
}

/** Whether a grant with this end has ended at `now`. */
export function hasEnded(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt <= now;
}

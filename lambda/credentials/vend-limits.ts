/**
 * A fair share of STS: how many vends (`POST /token`) one session and one user may make per
 * minute (settings `vendsPerSessionPerMinute`, `vendsPerUserPerMinute`). Fixed one-minute
 * windows, counted by the store in writes /token already makes (lambda/sessions/ports.ts,
 * VendLedger), so the limits cost no sequential stage. Pure: no clock, no AWS.
 */
import type { TvmConfig } from '../platform/config';
import { RateLimitedError } from '../platform/errors';

/** The length of one counting window. */
export const VEND_WINDOW_MS = 60_000;

/** The settings the limits read. */
export type VendLimits = Pick<TvmConfig, 'vendsPerSessionPerMinute' | 'vendsPerUserPerMinute'>;

/** One counting window: its index (whole minutes since the epoch) and its end (epoch ms). */
export interface VendWindow {
  readonly index: number;
  readonly endsAt: number;
}

/** The window `now` (epoch ms) falls in. */
export function vendWindow(now: number): VendWindow {
  const index = Math.floor(now / VEND_WINDOW_MS);
  return { index, endsAt: (index + 1) * VEND_WINDOW_MS };
}

/** Seconds from `now` until the window ends (at least 1): what Retry-After says. */
export function secondsLeftInWindow(now: number): number {
  return Math.max(1, Math.ceil((vendWindow(now).endsAt - now) / 1000));
}

/**
 * Refuses a session's vend once its window holds more than the limit. `sessionVends` counts
 * this attempt too: every attempt that reached the counter counts, refused ones included, so
 * a session that keeps calling stays refused until its window ends.
 */
export function checkSessionVends(sessionVends: number, limits: VendLimits, now: number): void {
  if (sessionVends > limits.vendsPerSessionPerMinute) {
    throw new RateLimitedError(
      `This session asked for credentials more than ${limits.vendsPerSessionPerMinute} times this minute. Reuse the credentials it has (they last until their expiration) and retry after the wait.`,
      secondsLeftInWindow(now),
    );
  }
}

/**
 * Refuses a user's vend once their window already holds the limit: `userVends` counts the
 * vends before this one (the stage-one read, or the counter's own condition in stage two).
 */
export function checkUserVends(userVends: number, limits: VendLimits, now: number): void {
  if (userVends >= limits.vendsPerUserPerMinute) throw userRateLimited(limits, now);
}

/** The 429 of a user past `vendsPerUserPerMinute`. */
export function userRateLimited(limits: VendLimits, now: number): RateLimitedError {
  return new RateLimitedError(
    `This account asked for credentials more than ${limits.vendsPerUserPerMinute} times this minute across its sessions. Retry after the wait.`,
    secondsLeftInWindow(now),
  );
}

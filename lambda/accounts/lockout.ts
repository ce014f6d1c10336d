/** How long an idle failure counter is kept before it starts again: one day. */
export const LOCKOUT_COUNTER_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What to do when a reservation was refused. */
export type RefusedReservation =
  | { readonly action: 'restart' }
  | { readonly action: 'retry' }
  | { readonly action: 'locked'; readonly retryAfterSeconds: number };

/**
 * Decides, from the counter a refused reservation saw, whether the account is locked (and
 * for how long), whether the counter is over (cool-down ended, counter stale, or gone) and
 * may start again, or whether it changed between the two reads (another request cleared or
 * restarted it) so the reservation should simply be tried again.
 */
export function decideRefusedReservation(
  state: LockoutState | undefined,
  now: number,
  cooldownMs: number,
  threshold: number,
): RefusedReservation {
  if (state === undefined || state.expiresAt <= now) return { action: 'restart' };
  if (state.lockedUntil !== undefined) {
    if (state.lockedUntil <= now) return { action: 'restart' };
    return { action: 'locked', retryAfterSeconds: Math.max(1, Math.ceil((state.lockedUntil - now) / 1000)) };
  }
  if (state.attempts < threshold) return { action: 'retry' };
  // The threshold is taken by checks still running; the lock is about to be written.
  return { action: 'locked', retryAfterSeconds: Math.ceil(cooldownMs / 1000) };
}

/** True when a failed check that took attempt number `attempts` must lock the account. */
export function failureLocks(attempts: number, threshold: number): boolean {
  return attempts >= threshold;
}

/** When a counter touched at `now` goes stale. */
export function counterExpiry(now: number, lockedUntil?: number): number {
  return Math.max(now, lockedUntil ?? now) + LOCKOUT_COUNTER_WINDOW_MS;
}

/**
 * Which failure counter an attempt is charged to (ASVS 6.1.1, 6.3.1). Each counter locks on
 * its own, so guesses from one source never lock out another:
 * - `unknown-device`: logins from devices the account does not trust (one counter per name);
 * - `device:<id>`: logins presenting a device token the account issued (one per device);
 * - `session:<id>`: a signed-in session confirming the current password (one per session);
 * - `reset`: redeeming an operator's reset code.
 */
export type LockoutScope = 'unknown-device' | 'reset' | `device:${string}` | `session:${string}`;

/** The counter of logins from unknown devices: the one an operator's listing and unlock address. */
export const UNKNOWN_DEVICE_SCOPE: LockoutScope = 'unknown-device';

/** The failed-login counter of one username (known or not, so both behave alike). */
export interface LockoutState {
  /** Attempts taken since the last success, including ones whose password check is still running. */
  readonly attempts: number;
  /** Epoch ms until which logins are refused, once the threshold was reached. */
  readonly lockedUntil?: number;
  /** Epoch ms after which the counter is stale and starts again. */
  readonly expiresAt: number;
}

/** Outcome of {@link LockoutStore.tryReserve}. */
export type ReserveResult =
  | { readonly reserved: true; readonly attempts: number }
  | { readonly reserved: false; readonly state: LockoutState | undefined };

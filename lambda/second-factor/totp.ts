/**
 * TOTP (RFC 6238) with the otpauth library: SHA-1, six digits, 30-second steps, the values
 * every authenticator app supports. Pure: the caller passes the time and stores what is used.
 */
import { Secret, TOTP } from 'otpauth';
import { TOTP_DIGITS } from '../contract/limits';

/** Seconds per time step. */
export const TOTP_PERIOD_SECONDS = 30;
/** Steps either side of now that are still accepted, for clock drift and typing time. */
export const TOTP_WINDOW = 1;
/** 160-bit secrets, as RFC 4226 recommends for SHA-1. */
const SECRET_BYTES = 20;
/** The name authenticator apps show above the account. */
export const TOTP_ISSUER = 'Token Vending Machine';

function totp(secretBase32: string, label = ''): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new random secret, base32 (32 characters, no padding). */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The `otpauth://totp/...` URI an authenticator app scans (as a QR code) to add the account. */
export function totpUri(secretBase32: string, username: string): string {
  return totp(secretBase32, username).toString();
}

/** The time step an instant (epoch ms) falls in. */
export function totpStep(now: number): number {
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for the step containing `now` (for tests and tools; the server never sends one). */
export function totpCode(secretBase32: string, now: number): string {
  return totp(secretBase32).generate({ timestamp: now });
}

/**
 * The time step `code` is valid for, within {@link TOTP_WINDOW} steps of `now`, if that step
 * is later than `lastUsedStep`; otherwise undefined. A code is good once: the caller stores
 * the returned step (compare-and-set) so the same code, or an older one, is refused after.
 */
export function matchTotp(
  secretBase32: string,
  code: string,
  now: number,
  lastUsedStep: number | undefined,
): number | undefined {
  if (code.length !== TOTP_DIGITS || !/^\d+$/.test(code)) return undefined;
  const delta = totp(secretBase32).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  if (delta === null) return undefined;
  const step = totpStep(now) + delta;
  return lastUsedStep === undefined || step > lastUsedStep ? step : undefined;
}

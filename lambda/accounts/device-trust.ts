/**
 * Device tokens: a random token issued at a successful login and sent back by the app on
 * later logins. Wrong passwords sent with a token the account trusts are counted on that
 * device's own lockout counter, apart from those of unknown devices, so a stranger's guesses
 * never lock the owner's devices out (ASVS 6.1.1). The token is not a credential: it opens
 * nothing and only chooses a counter. Only its SHA-256 is stored, on the user record.
 */
import { randomBytes } from 'node:crypto';
import { DEVICE_TOKEN_CHARACTERS } from '../contract/limits';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from './lockout';
import type { TrustedDevice, UserRecord } from './ports';
import { hashSessionToken } from '../sessions/session-token';

/** The devices an account trusts at most. */
export const MAX_TRUSTED_DEVICES = 10;

/**
 * A trusted device that has not logged in for this long may give its slot to a new device
 * when the list is full. Until then no login, however many, pushes it out: a password thief's
 * logins beyond the limit simply get no device token.
 */
export const DEVICE_IDLE_DAYS = 90;
const DEVICE_IDLE_MS = DEVICE_IDLE_DAYS * 24 * 60 * 60_000;

/** How stale `seenAt` may get before a login refreshes it (saves a write per login). */
const SEEN_REFRESH_MS = 24 * 60 * 60_000;

const DEVICE_TOKEN_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${DEVICE_TOKEN_CHARACTERS}}$`);

/** A new device token: 256 random bits in base64url ({@link DEVICE_TOKEN_CHARACTERS} characters). */
export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `token` has the shape of a device token. */
export function isWellFormedDeviceToken(token: string): boolean {
  return DEVICE_TOKEN_PATTERN.test(token);
}

/** The stored form of a device token: SHA-256, hex, as for session tokens. */
export const hashDeviceToken: (token: string) => string = hashSessionToken;

/** Whether `user` trusts the device that sent `deviceToken`. */
export function isTrustedDevice(user: UserRecord | undefined, deviceToken: string | undefined): boolean {
  if (user === undefined || deviceToken === undefined) return false;
  return isTrustedHash(user, hashDeviceToken(deviceToken));
}

/** Whether `user` trusts the device whose token hashes to `tokenHash`. */
export function isTrustedHash(user: UserRecord, tokenHash: string): boolean {
  return (user.trustedDevices ?? []).some((device) => device.hash === tokenHash);
}

/** The lockout counter a login is charged to. */
export function loginLockoutScope(user: UserRecord | undefined, deviceToken: string | undefined): LockoutScope {
  if (deviceToken === undefined || !isTrustedDevice(user, deviceToken)) return UNKNOWN_DEVICE_SCOPE;
  // A prefix of the hash names the counter: enough to keep devices apart, useless to a thief.
  return `device:${hashDeviceToken(deviceToken).slice(0, 24)}`;
}

/**
 * The list after a login from the trusted device `tokenHash` at `now`: its `seenAt` moved to
 * now, or `undefined` when it was refreshed less than a day ago (nothing to write).
 */
export function withDeviceSeen(
  current: readonly TrustedDevice[] | undefined,
  tokenHash: string,
  now: number,
): TrustedDevice[] | undefined {
  const list = current ?? [];
  const device = list.find((candidate) => candidate.hash === tokenHash);
  if (device === undefined || now - device.seenAt < SEEN_REFRESH_MS) return undefined;
  return list.map((candidate) => (candidate.hash === tokenHash ? { hash: tokenHash, seenAt: now } : candidate));
}

/**
 * The list with `tokenHash` added, seen `now`, or `undefined` when it is full of devices seen
 * within {@link DEVICE_IDLE_DAYS}: then the login gets no device token. A full list gives up
 * only its longest-idle device, and only one idle that long, so nobody's logins (the
 * password's holder included) can push out a device its owner still uses.
 */
export function withTrustedDevice(
  current: readonly TrustedDevice[] | undefined,
  tokenHash: string,
  now: number,
): TrustedDevice[] | undefined {
  const list = (current ?? []).filter((device) => device.hash !== tokenHash);
  const added = { hash: tokenHash, seenAt: now };
  if (list.length < MAX_TRUSTED_DEVICES) return [...list, added];
  const idlest = list.reduce((oldest, device) => (device.seenAt < oldest.seenAt ? device : oldest));
  if (now - idlest.seenAt < DEVICE_IDLE_MS) return undefined;
  return [...list.filter((device) => device !== idlest), added];
}

/**
 * Device tokens: a random token issued at a successful login and sent back by the app on
 * later logins. Wrong passwords sent with a token the account trusts are counted on that
 * device's own lockout counter, apart from those of unknown devices, so a stranger's guesses
 * never lock the owner's devices out (ASVS 6.1.1). The token is not a credential: it opens
 * nothing and only chooses a counter. Only its SHA-256 is stored, on the user record.
 */
import { randomBytes } from 'node:crypto';
import { DEVICE_TOKEN_CHARACTERS } from './limits';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from './lockout';
import type { UserRecord } from './ports';
import { hashSessionToken } from './session-token';

/** The devices an account trusts at most; a login from another one forgets the oldest. */
export const MAX_TRUSTED_DEVICES = 10;

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
  return (user.trustedDevices ?? []).includes(hashDeviceToken(deviceToken));
}

/** The lockout counter a login is charged to. */
export function loginLockoutScope(user: UserRecord | undefined, deviceToken: string | undefined): LockoutScope {
  if (deviceToken === undefined || !isTrustedDevice(user, deviceToken)) return UNKNOWN_DEVICE_SCOPE;
  // A prefix of the hash names the counter: enough to keep devices apart, useless to a thief.
  return `device:${hashDeviceToken(deviceToken).slice(0, 24)}`;
}

/** The trusted-device list with `tokenHash` added as the newest, at most {@link MAX_TRUSTED_DEVICES}. */
export function withTrustedDevice(current: readonly string[] | undefined, tokenHash: string): string[] {
  return [...(current ?? []).filter((hash) => hash !== tokenHash), tokenHash].slice(-MAX_TRUSTED_DEVICES);
}

import { createHash, randomBytes } from 'node:crypto';

/** Session tokens carry 256 bits of randomness. */
export const SESSION_TOKEN_BYTES = 32;
const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new random session token, base64url (43 characters). Only its hash is ever stored. */
export function newSessionToken(): string {
  return randomBytes(SESSION_TOKEN_BYTES).toString('base64url');
}

/** The stored form of a token: SHA-256, hex. A leaked table does not yield usable tokens. */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when `token` has the shape of a token this TVM issues; anything else is refused unread. */
export function isWellFormedSessionToken(token: string): boolean {
  return SESSION_TOKEN_PATTERN.test(token);
}

/** A new random identifier (128 bits, base64url) for users and sessions. */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

import { createHash, randomBytes } from 'node:crypto';
import { parseUsername, type Username } from '../accounts/username';

/** Session tokens carry 256 bits of randomness. */
export const SESSION_TOKEN_BYTES = 32;
const SECRET = '[A-Za-z0-9_-]{43}';
/**
 * A token is `<username>.<secret>`: naming the user lets `/token` read the session and the
 * user in one round trip. The secret is base64url, so it has no `.`, and the split is
 * unambiguous even for usernames with dots. The whole token is hashed for the key, so a
 * changed username finds no session.
 */
// The username part is only located here; parseUsername applies the username rules.
const SESSION_TOKEN_PATTERN = new RegExp(`^([a-z0-9._-]+)\\.(${SECRET})$`);
/** Tokens issued before the username was part of them: the secret alone. Accepted until they expire. */
const LEGACY_SESSION_TOKEN_PATTERN = new RegExp(`^${SECRET}$`);

/** A new session token for `username`: the username, a dot, and 256 random bits in base64url. Only its hash is ever stored. */
export function newSessionToken(username: Username): string {
  return `${username}.${randomBytes(SESSION_TOKEN_BYTES).toString('base64url')}`;
}

/** The stored form of a token: SHA-256, hex. A leaked table does not yield usable tokens. */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when `token` has the shape of a token this TVM issues (or issued); anything else is refused unread. */
export function isWellFormedSessionToken(token: string): boolean {
  return sessionTokenUsername(token) !== undefined || LEGACY_SESSION_TOKEN_PATTERN.test(token);
}

/** The username a current token names; undefined for a legacy token or anything malformed. */
export function sessionTokenUsername(token: string): Username | undefined {
  const match = SESSION_TOKEN_PATTERN.exec(token);
  if (!match) return undefined;
  try {
    return parseUsername(match[1]);
  } catch {
    return undefined;
  }
}

/** A new random identifier (128 bits, base64url) for users and sessions. */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** Second-factor challenge tokens: what a login with a second factor, or a passwordless sign-in, is answered with. */
import { randomBytes } from 'node:crypto';
import { hashSessionToken } from '../sessions/session-token';

/** A challenge lives five minutes (ASVS asks for a short-lived out-of-band step; NIST for minutes). */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;
/** Wrong answers one challenge takes before it is void; the factor's own lockout also counts them. */
export const MFA_CHALLENGE_MAX_ATTEMPTS = 3;

/** A new challenge token (256 random bits, base64url) and its stored hash. Never accepted as a session token. */
export function newChallengeToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashChallengeToken(token) };
}

/** The stored form of a challenge token; prefixed so it can never equal a session token's hash. */
export function hashChallengeToken(token: string): string {
  return hashSessionToken(`mfa-challenge:${token}`);
}

/** Second-factor challenges: what `POST /login` answers instead of a session when a factor is set up. */
import { randomBytes } from 'node:crypto';
import { hashSessionToken } from '../session-token';

/** A challenge lives five minutes (ASVS asks for a short-lived out-of-band step; NIST for minutes). */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;
/** Wrong answers one challenge takes before it is void; the factor's own lockout also counts them. */
export const MFA_CHALLENGE_MAX_ATTEMPTS = 3;

/** How a second factor can be given. */
export type MfaMethod = 'totp' | 'recovery_code' | 'passkey';

/** `POST /login`'s answer for a user with a second factor: no session, no credentials. */
export interface MfaChallengeResult {
  readonly mfaRequired: true;
  readonly challenge: {
    /** Opaque; send it back to `POST /login/mfa`. 256 random bits, stored only as a hash. */
    readonly token: string;
    /** ISO 8601. */
    readonly expiresAt: string;
  };
  /** Which second factors this user has. */
  readonly methods: readonly MfaMethod[];
  /** WebAuthn request options for a passkey answer, when the user has passkeys. */
  readonly passkeyOptions?: unknown;
}

/**
 * Thrown by `TvmService.login` when the password was right but a second factor is needed.
 * Not a TvmError: the login handler answers it with 200 and `result`; anything else that
 * let it through would answer 500, never a session.
 */
export class SecondFactorRequired extends Error {
  constructor(readonly result: MfaChallengeResult) {
    super('A second factor is required.');
    this.name = 'SecondFactorRequired';
  }
}

/** A new challenge token (256 random bits, base64url) and its stored hash. Never accepted as a session token. */
export function newChallengeToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashChallengeToken(token) };
}

/** The stored form of a challenge token; prefixed so it can never equal a session token's hash. */
export function hashChallengeToken(token: string): string {
  return hashSessionToken(`mfa-challenge:${token}`);
}

/**
 * What the second-factor logic needs from storage. lambda/adapters/dynamo/factor-store.ts and
 * challenge-store.ts implement it on DynamoDB; test/support/in-memory-mfa.ts in memory, with the same conditions.
 */
import type { LockoutScope } from '../accounts/lockout';
import type { Username } from '../accounts/username';

/** A confirmed TOTP factor. The secret must be readable to check codes, so it is stored as is. */
export interface TotpFactor {
  /** Base32. */
  readonly secret: string;
  /** Epoch ms. */
  readonly confirmedAt: number;
  /** The last time step a code was accepted for: no code of that step or earlier works again. */
  readonly lastUsedStep: number;
}

/** A TOTP secret handed out but not yet confirmed with a code. */
export interface PendingTotp {
  readonly secret: string;
  /** Epoch ms after which it can no longer be confirmed. */
  readonly expiresAt: number;
}

/** A registered passkey (WebAuthn credential). */
export interface PasskeyRecord {
  /** The credential id, base64url. */
  readonly id: string;
  /** The COSE public key, base64url. */
  readonly publicKey: string;
  /** The authenticator's signature counter at the last use (0 for authenticators without one). */
  readonly counter: number;
  readonly transports?: readonly string[];
  /** A label the person chose, shown in lists. */
  readonly name: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the last sign-in with it, if any. */
  readonly lastUsedAt?: number;
}

/** One user's second factors. Bound to a registration: a record of another `userId` is ignored. */
export interface FactorRecord {
  readonly username: Username;
  readonly userId: string;
  readonly totp?: TotpFactor;
  readonly pendingTotp?: PendingTotp;
  /** SHA-256 (hex) of each unused recovery code. */
  readonly recoveryCodeHashes: readonly string[];
  readonly passkeys: readonly PasskeyRecord[];
  /** A WebAuthn registration challenge handed out and not yet answered. */
  readonly pendingPasskey?: { readonly challenge: string; readonly expiresAt: number };
}

/** A login whose password was right, waiting for its second factor. Only the token's hash is stored. */
export interface ChallengeRecord {
  readonly tokenHash: string;
  readonly username: Username;
  readonly userId: string;
  /** The user's session generation when the password was checked: a change since voids it. */
  readonly generation: number;
  readonly device?: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** Answers tried so far. */
  readonly attempts: number;
  /** The WebAuthn challenge a passkey must sign to answer it (second factor or passwordless sign-in). */
  readonly webauthnChallenge?: string;
  /** `passkey`: a passwordless sign-in (or a passkey step-up), answered only by a passkey; `username` may be empty then. */
  readonly kind?: 'login' | 'passkey';
  /**
   * The factor counter a login challenge's answers are charged to: the trusted device the
   * password came from (`device:<id>`), else `unknown-device`. Absent means `unknown-device`.
   */
  readonly lockoutScope?: LockoutScope;
  /** SHA-256 of the trusted device token the login presented: that device stays trusted, no new token is issued. */
  readonly trustedDeviceHash?: string;
}

/** A factor attempt counter as stored: one per user and {@link LockoutScope}. */
export interface FactorAttemptState {
  /** Attempts taken in the current window. */
  readonly attempts: number;
  /** Epoch ms: the window's end. */
  readonly windowEndsAt: number;
  /** Attempts taken since the last success, across windows (the NIST ceiling counts these). */
  readonly consecutive: number;
  /** Epoch ms after which the counter is forgotten whole (its TTL). */
  readonly keepUntil: number;
}

/** Limits of one reservation: per window, and consecutive across windows. */
export interface FactorAttemptLimits {
  readonly perWindow: number;
  readonly consecutive: number;
}

/** Outcome of {@link FactorStore.tryReserveAttempt}. */
export type FactorAttemptResult =
  | { readonly reserved: true }
  | { readonly reserved: false; readonly state: FactorAttemptState | undefined };

/** Second factors, one record per user. Every change that could race is conditional. */
export interface FactorStore {
  /** The stored record (of any registration: the caller checks `userId`). */
  getFactors(username: Username): Promise<FactorRecord | undefined>;
  /** Starts a TOTP enrolment, replacing any pending one; a record of another registration is replaced whole. */
  putPendingTotp(username: Username, userId: string, pending: PendingTotp): Promise<void>;
  /**
   * Confirms the pending TOTP only if it is still `pendingSecret` and no TOTP is confirmed;
   * stores the recovery code hashes when given, and drops a pending passkey registration (its
   * step-up may have been the password alone, which no longer suffices). Returns whether it did.
   */
  confirmTotp(
    username: Username,
    userId: string,
    pendingSecret: string,
    totp: TotpFactor,
    recoveryCodeHashes?: readonly string[],
  ): Promise<boolean>;
  /** Records `step` as used only if it is later than the stored last used step. Returns whether it did. */
  useTotpStep(username: Username, userId: string, step: number): Promise<boolean>;
  /** Removes one recovery code hash only if present. Returns whether it did. */
  redeemRecoveryCode(username: Username, userId: string, codeHash: string): Promise<boolean>;
  /** Removes the TOTP factor (and the recovery codes when `withRecoveryCodes`). Returns whether it was there. */
  removeTotp(username: Username, userId: string, withRecoveryCodes: boolean): Promise<boolean>;
  /** Stores a registration challenge for a new passkey, replacing any pending one (a record of another registration is replaced whole). */
  putPendingPasskey(
    username: Username,
    userId: string,
    pending: { readonly challenge: string; readonly expiresAt: number },
  ): Promise<void>;
  /**
   * Adds a passkey whose id this user claimed ({@link claimPasskeyId}), consuming the pending
   * challenge `challenge`; stores the recovery code hashes when given, and drops a pending
   * TOTP (as {@link confirmTotp} drops a pending passkey). Returns whether it did.
   */
  addPasskey(
    username: Username,
    userId: string,
    challenge: string,
    passkey: PasskeyRecord,
    recoveryCodeHashes?: readonly string[],
  ): Promise<boolean>;
  /** Who registered a passkey (for a passwordless sign-in), by credential id. */
  passkeyOwner(passkeyId: string): Promise<{ readonly username: Username; readonly userId: string } | undefined>;
  /**
   * Records a passkey's use: its new signature counter and the time, only if the stored counter
   * is lower (or both are 0: an authenticator without a counter). Returns whether it did.
   */
  usePasskey(username: Username, userId: string, passkeyId: string, counter: number, at: number): Promise<boolean>;
  /**
   * Claims a credential id for a user: only if no account (this one included) holds it.
   * Returns whether it did. {@link addPasskey} runs only after a successful claim.
   */
  claimPasskeyId(passkeyId: string, username: Username, userId: string): Promise<boolean>;
  /** Gives up a claim, only if it is still this registration's (a failed add, a removal). */
  releasePasskeyId(passkeyId: string, userId: string): Promise<void>;
  /** Removes a passkey (and the recovery codes when `withRecoveryCodes`) and releases its id. Returns whether it was there. */
  removePasskey(username: Username, userId: string, passkeyId: string, withRecoveryCodes: boolean): Promise<boolean>;
  /** Deletes every factor of the user (an operator's reset, an account's deletion). */
  deleteFactors(username: Username): Promise<void>;
  /**
   * Atomically takes one attempt on the user's factor counter `scope` if fewer than
   * `limits.perWindow` are taken in the current window and fewer than `limits.consecutive`
   * since the last success; a new counter starts with this attempt, its window ending at
   * `windowEndsAt`. Every reservation keeps the counter until `keepUntil`.
   */
  tryReserveAttempt(
    username: Username,
    scope: LockoutScope,
    limits: FactorAttemptLimits,
    now: number,
    windowEndsAt: number,
    keepUntil: number,
  ): Promise<FactorAttemptResult>;
  /**
   * Starts a new window with one attempt, only if the stored window still ends at
   * `seenWindowEndsAt` and the consecutive count is under `consecutiveLimit`; `fresh` also
   * restarts the consecutive count (a counter past its `keepUntil`).
   */
  restartAttempts(
    username: Username,
    scope: LockoutScope,
    seenWindowEndsAt: number,
    windowEndsAt: number,
    keepUntil: number,
    consecutiveLimit: number,
    fresh: boolean,
  ): Promise<boolean>;
  /** Forgets a counter after a success (or a change that proves the owner). */
  clearAttempts(username: Username, scope: LockoutScope): Promise<void>;
}

/** Pending second-factor challenges, keyed by token hash. */
export interface ChallengeStore {
  putChallenge(challenge: ChallengeRecord): Promise<void>;
  /** Counts one answer, only if fewer than `max` were tried and it has not expired at `now`. Returns the record after. */
  takeChallengeAttempt(tokenHash: string, max: number, now: number): Promise<ChallengeRecord | undefined>;
  /** Deletes it if it is still there. Returns whether it did: only one answer can use it. */
  consumeChallenge(tokenHash: string): Promise<boolean>;
}

/** A second factor as a request gives it: exactly one of the fields. */
export interface SecondFactorProof {
  /** A six-digit TOTP code. */
  readonly code?: string;
  /** One of the recovery codes. */
  readonly recoveryCode?: string;
  /** A passkey's WebAuthn answer to `challenge` (a login challenge's); passwordless sign-in also requires user verification. */
  readonly passkey?: { readonly response: unknown; readonly challenge: string; readonly userVerification?: boolean };
}

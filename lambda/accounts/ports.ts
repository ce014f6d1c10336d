/**
 * What the domain logic needs from the outside world. lambda/adapters implements these on
 * DynamoDB and STS; tests and benchmarks implement them in memory.
 */
import type { LockoutScope, LockoutState, ReserveResult } from './lockout';
import type { Username } from './username';

/** One trusted device: the SHA-256 of its token and when it last logged in (epoch ms). */
export interface TrustedDevice {
  readonly hash: string;
  readonly seenAt: number;
}

/** A registered user. `userId` is unique per registration, so a re-registered name never revives old sessions. */
export interface UserRecord {
  readonly username: Username;
  readonly userId: string;
  readonly passwordHash: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** A disabled user can neither log in nor get credentials. */
  readonly disabled: boolean;
  /**
   * Sessions of any other generation are refused, so raising it revokes every session at
   * once, with one strongly consistent write (password change, reset, disable).
   */
  readonly sessionGeneration: number;
  /** The devices this account trusts: SHA-256 of their tokens, last login (see device-trust.ts). */
  readonly trustedDevices?: readonly TrustedDevice[];
  /**
   * Epoch ms, a whole second: the latest credential cut-off (revocation.ts). AWS credentials
   * STS issues before it are denied, so while it lies ahead nothing is vended for this user.
   */
  readonly cutOffAt?: number;
  /**
   * The operator's quota for this user (`tvm-admin users quota`), in bytes: absent means the
   * `defaultQuotaBytes` setting applies, null means no quota (lambda/usage/quota.ts).
   */
  readonly quotaBytes?: number | null;
}

/** Changes {@link UserStore.updateUser} applies together. */
export interface UserChanges {
  readonly passwordHash?: string;
  /** Applies the changes only if the stored hash is still this one (a re-hash must not undo a password change). */
  readonly ifPasswordHash?: string;
  readonly trustedDevices?: readonly TrustedDevice[];
  /**
   * Applies the changes only if the stored trusted devices are still `list` as read
   * (`undefined`: none stored), so parallel logins lose no device. Adapters may compare the
   * length and the newest entry only: every change that matters appends.
   */
  readonly ifTrustedDevices?: { readonly list: readonly TrustedDevice[] | undefined };
  readonly disabled?: boolean;
  /** Moves the user to this session generation; applied only if the current one is `fromGeneration`. */
  readonly sessionGeneration?: { readonly from: number; readonly to: number };
  /** Sets the credential cut-off instant; applied only if no later one is stored (it never moves back). */
  readonly cutOffAt?: number;
}

/** Users, unique by username. */
export interface UserStore {
  /**
   * Creates the user only if the name is free: no user, and no hold on a deleted name that
   * lasts past `user.createdAt`. Throws UsernameTakenError otherwise (a held name is taken).
   */
  createUser(user: UserRecord): Promise<void>;
  /** Reads a user with strong consistency (a held name has no user). */
  getUser(username: Username): Promise<UserRecord | undefined>;
  /**
   * Applies `changes` only if the stored user is still registration `userId` (and, for a
   * generation change, still at `from`). Returns the updated user, or undefined when the
   * condition failed.
   */
  updateUser(username: Username, userId: string, changes: UserChanges): Promise<UserRecord | undefined>;
  /**
   * Replaces the user, if it is still registration `userId`, by a hold on the name until
   * `heldUntil` (epoch ms): the name stays taken until then. Returns whether it did.
   */
  holdName(username: Username, userId: string, heldUntil: number): Promise<boolean>;
  /** Until when a deleted name is held (epoch ms), if it is. */
  nameHeldUntil(username: Username): Promise<number | undefined>;
  /** Every user, page by page (an operator's listing; a table scan). */
  listUsers(): AsyncIterable<UserRecord>;
}

/** One-time password reset codes, stored only as hashes, one per user (a new one replaces the old). */
export interface ResetCodeStore {
  putResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void>;
  /** Atomically deletes the user's code if its hash matches and it has not expired at `now`. */
  redeemResetCode(username: Username, codeHash: string, now: number): Promise<boolean>;
  /** Puts a redeemed code back (used when the reset could not be completed). */
  restoreResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void>;
  /** Removes the user's code, if any. */
  deleteResetCode(username: Username): Promise<void>;
}

/**
 * Failed-login counters with atomic updates: the reservation is what bounds a burst of
 * parallel guesses to `threshold` password checks. A username has one counter per
 * {@link LockoutScope}; `scope` defaults to `unknown-device`.
 */
export interface LockoutStore {
  /**
   * Atomically takes one attempt if fewer than `threshold` are taken and the counter is not
   * stale at `now`; refreshes its expiry to `expiresAt`. Otherwise returns the current state.
   */
  tryReserve(
    username: Username,
    threshold: number,
    now: number,
    expiresAt: number,
    scope?: LockoutScope,
  ): Promise<ReserveResult>;
  /** Starts the counter again at one taken attempt, only if it still equals `seen` (compare-and-set). */
  restart(
    username: Username,
    seen: LockoutState | undefined,
    expiresAt: number,
    scope?: LockoutScope,
  ): Promise<boolean>;
  /** Locks the username until `lockedUntil`. */
  lock(username: Username, lockedUntil: number, expiresAt: number, scope?: LockoutScope): Promise<void>;
  /** Forgets the counter after a successful login. */
  clear(username: Username, scope?: LockoutScope): Promise<void>;
  /** Reads the counter without taking an attempt (for operators). */
  peek(username: Username, scope?: LockoutScope): Promise<LockoutState | undefined>;
}

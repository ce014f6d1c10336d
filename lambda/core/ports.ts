/**
 * What the domain logic needs from the outside world. lambda/adapters implements these on
 * DynamoDB and STS; tests and benchmarks implement them in memory.
 */
import type { Username } from './username';

/** The current time in epoch milliseconds. Injected so tests can move it. */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A registered user. `userId` is unique per registration, so a re-registered name never revives old sessions. */
export interface UserRecord {
  readonly username: Username;
  readonly userId: string;
  readonly passwordHash: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A login session. Only the SHA-256 of its token is stored. */
export interface SessionRecord {
  readonly tokenHash: string;
  readonly username: Username;
  readonly userId: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; the session is refused at or after this instant, whatever TTL has or has not deleted. */
  readonly expiresAt: number;
  /** A free-text device label the app sent at login, if any. */
  readonly device?: string;
}

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

/** Users, unique by username. */
export interface UserStore {
  /** Creates the user only if the name is free; throws UsernameTakenError otherwise. */
  createUser(user: UserRecord): Promise<void>;
  /** Reads a user with strong consistency. */
  getUser(username: Username): Promise<UserRecord | undefined>;
}

/** Login sessions, keyed by token hash. */
export interface SessionStore {
  putSession(session: SessionRecord): Promise<void>;
  /** The stored record, expired or not: the caller checks expiry. */
  getSession(tokenHash: string): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
}

/**
 * Failed-login counters with atomic updates: the reservation is what bounds a burst of
 * parallel guesses to `threshold` password checks.
 */
export interface LockoutStore {
  /**
   * Atomically takes one attempt if fewer than `threshold` are taken and the counter is not
   * stale at `now`; refreshes its expiry to `expiresAt`. Otherwise returns the current state.
   */
  tryReserve(username: Username, threshold: number, now: number, expiresAt: number): Promise<ReserveResult>;
  /** Starts the counter again at one taken attempt, only if it still equals `seen` (compare-and-set). */
  restart(username: Username, seen: LockoutState | undefined, expiresAt: number): Promise<boolean>;
  /** Locks the username until `lockedUntil`. */
  lock(username: Username, lockedUntil: number, expiresAt: number): Promise<void>;
  /** Forgets the counter after a successful login. */
  clear(username: Username): Promise<void>;
}

/** Temporary AWS credentials as the API returns them. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** ISO 8601. */
  readonly expiration: string;
}

/** What one AssumeRole call needs. */
export interface CredentialRequest {
  readonly username: Username;
  /** The serialised session policy. */
  readonly sessionPolicy: string;
  readonly durationSeconds: number;
}

/** Vends credentials (STS AssumeRole on the vending role). */
export interface CredentialIssuer {
  issue(request: CredentialRequest): Promise<IssuedCredentials>;
}

import type { TvmConfig } from './config';
import { AuthenticationError, TooManyAttemptsError, UsernameTakenError } from './errors';
import { counterExpiry, decideRefusedReservation, failureLocks } from './lockout';
import type { PasswordHasher } from './password';
import { bucketArn, renderSessionPolicy, serialiseSessionPolicy, userPrefix } from './policy';
import type {
  Clock,
  CredentialIssuer,
  IssuedCredentials,
  LockoutStore,
  SessionRecord,
  SessionStore,
  UserStore,
} from './ports';
import type { LoginRequest, RegisterRequest } from './requests';
import { hashSessionToken, newId, newSessionToken } from './session-token';
import type { Username } from './username';

/** Where an app's files live: apps never hard-code the bucket. */
export interface StorageInfo {
  readonly bucket: string;
  /** `<username>/`, always ending in `/`. */
  readonly prefix: string;
  readonly region: string;
  /** Present only when S3 is not AWS's own endpoint (the local sandbox). */
  readonly endpoint?: string;
}

/** `POST /token`'s answer. */
export interface VendResult {
  readonly credentials: IssuedCredentials;
  readonly storage: StorageInfo;
}

/** `POST /register` and `POST /login`'s answer. */
export interface SessionResult extends VendResult {
  readonly username: Username;
  readonly session: { readonly token: string; readonly expiresAt: string };
}

/** Where the domain logic reports what it did; adapters send it to structured logs. */
export interface DomainLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
}

/** What {@link TvmService} needs. */
export interface TvmServiceDependencies {
  readonly config: TvmConfig;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly lockout: LockoutStore;
  readonly issuer: CredentialIssuer;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly log: DomainLog;
}

/** How often a lost compare-and-set on the lockout counter is retried before giving up. */
const MAX_LOCKOUT_RACES = 3;

/** Register, login, token and logout: the TVM's rules, free of HTTP and AWS. */
export class TvmService {
  constructor(private readonly deps: TvmServiceDependencies) {}

  /**
   * Creates a user, vends credentials and opens a session. STS is called before anything is
   * written, and the user record is the last write: a failure at any step leaves no user.
   */
  async register(request: RegisterRequest): Promise<SessionResult> {
    const { users, sessions, hasher, log } = this.deps;
    const { username } = request;
    // A fast path only; the conditional write below is what guarantees uniqueness.
    if (await users.getUser(username)) throw new UsernameTakenError();
    const passwordHash = await hasher.hash(request.password);
    const credentials = await this.vend(username);
    const userId = newId();
    const { token, record } = this.newSession(username, userId);
    await sessions.putSession(record);
    try {
      await users.createUser({ username, userId, passwordHash, createdAt: this.deps.clock.now() });
    } catch (error) {
      // The session is inert without its user (the ids differ); remove it anyway.
      await sessions.deleteSession(record.tokenHash).catch(() => {
        log.warn('Could not remove the session of a failed registration; it expires unused.', { username });
      });
      throw error;
    }
    log.info('User registered', { username });
    return this.sessionResult(username, token, record, credentials);
  }

  /**
   * Checks a password under the lockout: an attempt slot is taken atomically before bcrypt
   * runs, so parallel guesses get at most `lockoutThreshold` checks. Unknown users take the
   * same path against a dummy hash, so they look and time the same as a wrong password.
   */
  async login(request: LoginRequest): Promise<SessionResult> {
    const { users, lockout, hasher, sessions, config, clock, log } = this.deps;
    const { username, password } = request;
    const user = await users.getUser(username);
    const attempts = await this.reserveAttempt(username);
    const valid = user ? await hasher.verify(password, user.passwordHash) : await hasher.verifyAgainstDummy(password);
    if (!valid || !user) {
      if (failureLocks(attempts, config.lockoutThreshold)) {
        const lockedUntil = clock.now() + config.lockoutMinutes * 60_000;
        await lockout.lock(username, lockedUntil, counterExpiry(clock.now(), lockedUntil));
        log.warn('Login failed; account locked', { username, attempts });
      } else {
        log.info('Login failed', { username, attempts });
      }
      throw new AuthenticationError();
    }
    await lockout.clear(username);
    const credentials = await this.vend(username);
    const { token, record } = this.newSession(username, user.userId, request.device);
    await sessions.putSession(record);
    log.info('Login succeeded', { username });
    return this.sessionResult(username, token, record, credentials);
  }

  /** Vends fresh credentials for a live session. */
  async token(sessionToken: string | undefined): Promise<VendResult> {
    const session = await this.liveSession(sessionToken);
    const credentials = await this.vend(session.username);
    this.deps.log.info('Credentials issued', { username: session.username });
    return { credentials, storage: this.storage(session.username) };
  }

  /** Revokes the session the token belongs to. */
  async logout(sessionToken: string | undefined): Promise<void> {
    const session = await this.liveSession(sessionToken);
    await this.deps.sessions.deleteSession(session.tokenHash);
    this.deps.log.info('Logged out', { username: session.username });
  }

  /** The session behind a token, if it exists, has not expired, and its user is the same registration. */
  private async liveSession(sessionToken: string | undefined): Promise<SessionRecord> {
    if (sessionToken === undefined) throw new AuthenticationError();
    const session = await this.deps.sessions.getSession(hashSessionToken(sessionToken));
    if (!session || session.expiresAt <= this.deps.clock.now()) throw new AuthenticationError();
    const user = await this.deps.users.getUser(session.username);
    if (!user || user.userId !== session.userId) throw new AuthenticationError();
    return session;
  }

  /** Takes one attempt slot or throws TooManyAttemptsError. Returns the attempt's number. */
  private async reserveAttempt(username: Username): Promise<number> {
    const { lockout, config, clock } = this.deps;
    const cooldownMs = config.lockoutMinutes * 60_000;
    for (let race = 0; race < MAX_LOCKOUT_RACES; race++) {
      const now = clock.now();
      const result = await lockout.tryReserve(username, config.lockoutThreshold, now, counterExpiry(now));
      if (result.reserved) return result.attempts;
      const decision = decideRefusedReservation(result.state, now, cooldownMs, config.lockoutThreshold);
      if (decision.action === 'locked') throw new TooManyAttemptsError(decision.retryAfterSeconds);
      if (decision.action === 'restart' && (await lockout.restart(username, result.state, counterExpiry(now)))) return 1;
    }
    // Others keep winning the race for this counter: that is a burst, so treat it as one.
    throw new TooManyAttemptsError(Math.ceil(cooldownMs / 1000));
  }

  private vend(username: Username): Promise<IssuedCredentials> {
    const { config, issuer } = this.deps;
    const policy = renderSessionPolicy(bucketArn(config.bucketName, config.partition), username);
    return issuer.issue({
      username,
      sessionPolicy: serialiseSessionPolicy(policy),
      durationSeconds: config.credentialSeconds,
    });
  }

  private newSession(username: Username, userId: string, device?: string): { token: string; record: SessionRecord } {
    const now = this.deps.clock.now();
    const token = newSessionToken();
    const record: SessionRecord = {
      tokenHash: hashSessionToken(token),
      username,
      userId,
      createdAt: now,
      expiresAt: now + this.deps.config.sessionDays * 24 * 60 * 60 * 1000,
      ...(device !== undefined ? { device } : {}),
    };
    return { token, record };
  }

  private storage(username: Username): StorageInfo {
    const { config } = this.deps;
    return {
      bucket: config.bucketName,
      prefix: userPrefix(username),
      region: config.region,
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    };
  }

  private sessionResult(
    username: Username,
    token: string,
    record: SessionRecord,
    credentials: IssuedCredentials,
  ): SessionResult {
    return {
      username,
      session: { token, expiresAt: new Date(record.expiresAt).toISOString() },
      credentials,
      storage: this.storage(username),
    };
  }
}

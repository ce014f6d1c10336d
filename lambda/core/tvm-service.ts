import type { AuditEventType, RequestOrigin } from './audit';
import type { SecondFactorGate } from './mfa/second-factor';
import type { TvmConfig } from './config';
import { AuthenticationError, BackendUnavailableError, NotFoundError, TooManyAttemptsError, UsernameTakenError } from './errors';
import { counterExpiry, decideRefusedReservation, failureLocks } from './lockout';
import type { PasswordHasher } from './password';
import { bucketArn, renderSessionPolicy, serialiseSessionPolicy, userPrefix } from './policy';
import type {
  AuditTrail,
  Clock,
  CredentialIssuer,
  IssuedCredentials,
  LockoutStore,
  ResetCodeStore,
  SessionRecord,
  SessionStore,
  UserRecord,
  UserStore,
} from './ports';
import {
  parseSessionId,
  type ChangePasswordRequest,
  type LoginRequest,
  type RegisterRequest,
  type ResetPasswordRequest,
} from './requests';
import { RESET_CODE_TTL_MS, hashResetCode } from './reset-code';
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

/** A session as its holder receives it. */
export interface SessionGrant {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** `POST /register`, `POST /login` and `POST /password/reset`'s answer. */
export interface SessionResult extends VendResult {
  readonly username: Username;
  readonly session: SessionGrant;
}

/** One entry of `GET /sessions`. */
export interface SessionSummary {
  readonly id: string;
  readonly device?: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601; absent until the session's first /token call. */
  readonly lastUsedAt?: string;
  readonly expiresAt: string;
  /** True for the session that asked. */
  readonly current: boolean;
}

/** Where the domain logic reports what it did; adapters send it to structured logs. */
export interface DomainLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** What {@link TvmService} needs. */
export interface TvmServiceDependencies {
  readonly config: TvmConfig;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly lockout: LockoutStore;
  readonly resetCodes: ResetCodeStore;
  readonly audit: AuditTrail;
  readonly issuer: CredentialIssuer;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly log: DomainLog;
  /** Second factors (lambda/core/mfa): asked for at login and at a password reset when set up. */
  readonly secondFactor?: Pick<SecondFactorGate, 'requireChallengeIfEnrolled' | 'verifyForReset'>;
}

/** How stale a session's "last used" time may get before /token records a new one. */
export const LAST_USED_RESOLUTION_MS = 5 * 60_000;

/** How often a lost compare-and-set on the lockout counter is retried before giving up. */
const MAX_LOCKOUT_RACES = 3;

/**
 * Records security events: always as a structured log line, and in the user's audit trail.
 * A failed trail write does not fail the request (the event is already in the logs, which
 * are the record of last resort); it is logged as an error with the whole event.
 */
export class AuditRecorder {
  constructor(
    private readonly deps: Pick<TvmServiceDependencies, 'audit' | 'clock' | 'log' | 'config'>,
  ) {}

  async record(
    type: AuditEventType,
    username: Username,
    origin: RequestOrigin,
    details?: Record<string, string | number>,
  ): Promise<void> {
    const { audit, clock, log, config } = this.deps;
    const event = { username, type, at: clock.now(), ...origin, ...(details ? { details } : {}) };
    log.info(`audit: ${type}`, { username, audit: event });
    try {
      await audit.record(event, event.at + config.auditRetentionDays * 86_400_000);
    } catch (error) {
      log.error('Audit trail write failed; the event above is the record', {
        audit: event,
        cause: error instanceof BackendUnavailableError ? error.backend : 'unknown',
      });
    }
  }
}

/** Register, login, token, logout, passwords and sessions: the TVM's rules, free of HTTP and AWS. */
export class TvmService {
  private readonly auditor: AuditRecorder;

  constructor(private readonly deps: TvmServiceDependencies) {
    this.auditor = new AuditRecorder(deps);
  }

  /**
   * Creates a user, vends credentials and opens a session. STS is called before anything is
   * written, and the user record is the last write: a failure at any step leaves no user.
   */
  async register(request: RegisterRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { users, sessions, hasher, log } = this.deps;
    const { username } = request;
    // A fast path only; the conditional write below is what guarantees uniqueness.
    if (await users.getUser(username)) throw new UsernameTakenError();
    const passwordHash = await hasher.hash(request.password);
    const credentials = await this.vend(username);
    const user: UserRecord = {
      username,
      userId: newId(),
      passwordHash,
      createdAt: this.deps.clock.now(),
      disabled: false,
      sessionGeneration: 0,
    };
    const { token, record } = this.newSession(user, user.sessionGeneration);
    await sessions.putSession(record);
    try {
      await users.createUser(user);
    } catch (error) {
      // The session is inert without its user (the ids differ); remove it anyway.
      await sessions.deleteSession(record.tokenHash).catch(() => {
        log.warn('Could not remove the session of a failed registration; it expires unused.', { username });
      });
      throw error;
    }
    await this.auditor.record('registered', username, origin, { sessionId: record.sessionId });
    return this.sessionResult(username, token, record, credentials);
  }

  /**
   * Checks a password under the lockout and opens a session. Unknown and disabled users take
   * the same path as a wrong password.
   */
  async login(request: LoginRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const user = await this.checkPassword(request.username, request.password, origin);
    // A user with a second factor gets a challenge (thrown as SecondFactorRequired), not a session.
    await this.deps.secondFactor?.requireChallengeIfEnrolled(user, request.device, origin);
    return this.completeLogin(user, request.device, origin);
  }

  /** Opens a session with credentials for a user whose every factor was checked. */
  async completeLogin(user: UserRecord, device: string | undefined, origin: RequestOrigin, details: Record<string, string> = {}): Promise<SessionResult> {
    const { username } = user;
    const credentials = await this.vend(username);
    const { token, record } = this.newSession(user, user.sessionGeneration, device);
    await this.deps.sessions.putSession(record);
    await this.auditor.record('login_ok', username, origin, {
      sessionId: record.sessionId,
      ...(device ? { device } : {}),
      ...details,
    });
    return this.sessionResult(username, token, record, credentials);
  }

  /** The live session behind a bearer token, and its user; AuthenticationError otherwise. */
  authenticate(sessionToken: string | undefined): Promise<{ session: SessionRecord; user: UserRecord }> {
    return this.liveSession(sessionToken);
  }

  /** Step-up with the current password, under the lockout like a login. */
  async reauthenticate(user: UserRecord, password: LoginRequest['password'], origin: RequestOrigin = {}): Promise<void> {
    await this.checkPassword(user.username, password, origin);
  }

  /** Vends fresh credentials for a live session, and records the use. */
  async token(sessionToken: string | undefined, origin: RequestOrigin = {}): Promise<VendResult> {
    const { session } = await this.liveSession(sessionToken);
    // Vend first: if STS fails, nothing is written.
    const credentials = await this.vend(session.username);
    const now = this.deps.clock.now();
    // "Last used" to the nearest few minutes is all a session list needs; it saves a write per call.
    if (session.lastUsedAt === undefined || now - session.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await this.deps.sessions.touchSession(session.tokenHash, now);
    }
    await this.auditor.record('token_issued', session.username, origin, { sessionId: session.sessionId });
    return { credentials, storage: this.storage(session.username) };
  }

  /** Revokes the session the token belongs to. */
  async logout(sessionToken: string | undefined, origin: RequestOrigin = {}): Promise<void> {
    const { session } = await this.liveSession(sessionToken);
    await this.deps.sessions.deleteSession(session.tokenHash);
    await this.auditor.record('logout', session.username, origin, { sessionId: session.sessionId });
  }

  /**
   * Changes the password after checking the current one (under the lockout, like a login)
   * and revokes every session, the caller's included; the caller gets a new session in the
   * answer. The user update is the one commit point: the new session is written first, in
   * the next generation, and removed again if the update does not go through.
   */
  async changePassword(
    sessionToken: string | undefined,
    request: ChangePasswordRequest,
    origin: RequestOrigin = {},
  ): Promise<{ session: SessionGrant }> {
    const { session, user } = await this.liveSession(sessionToken);
    await this.checkPassword(user.username, request.currentPassword, origin);
    const passwordHash = await this.deps.hasher.hash(request.newPassword);
    const { token, record } = await this.replaceCredentials(user, passwordHash, session.device);
    await this.auditor.record('password_changed', user.username, origin, { sessionId: record.sessionId });
    await this.removeStaleSessions(user.username, record.generation);
    return { session: this.grant(token, record) };
  }

  /**
   * Redeems an operator's one-time reset code: single use (an atomic conditional delete),
   * valid for an hour, and counted by the lockout like a login. Every existing session is
   * revoked; the answer is a new session with credentials, as from login.
   */
  async resetPassword(request: ResetPasswordRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { users, resetCodes, clock, hasher, lockout } = this.deps;
    const { username } = request;
    const attempts = await this.reserveAttempt(username);
    const user = await users.getUser(username);
    const codeHash = hashResetCode(request.resetCode);
    const redeemed = user !== undefined && !user.disabled && (await resetCodes.redeemResetCode(username, codeHash, clock.now()));
    if (!redeemed || !user) {
      await this.recordFailure(username, attempts, origin, 'reset code');
      throw new AuthenticationError('The username or reset code is incorrect, or the code has expired.');
    }
    let replaced;
    let credentials;
    try {
      await this.deps.secondFactor?.verifyForReset(user, request.secondFactor ?? {}, origin);
      const passwordHash = await hasher.hash(request.newPassword);
      // Vend before the commit, as register and login do: if STS fails, the old password stays.
      credentials = await this.vend(username);
      replaced = await this.replaceCredentials(user, passwordHash);
    } catch (error) {
      // Give the code back, so the person can try again once the backend recovers.
      await resetCodes.restoreResetCode(username, codeHash, clock.now() + RESET_CODE_TTL_MS).catch(() => undefined);
      throw error;
    }
    await lockout.clear(username);
    await this.auditor.record('reset_used', username, origin, { sessionId: replaced.record.sessionId });
    await this.removeStaleSessions(username, replaced.record.generation);
    return this.sessionResult(username, replaced.token, replaced.record, credentials);
  }

  /** The caller's live sessions, oldest first. */
  async listSessions(sessionToken: string | undefined): Promise<SessionSummary[]> {
    const { session, user } = await this.liveSession(sessionToken);
    const now = this.deps.clock.now();
    const sessions = await this.deps.sessions.listSessions(user.username);
    return sessions
      .filter((candidate) => isSessionLive(candidate, user, now))
      .map((candidate) => ({
        id: candidate.sessionId,
        ...(candidate.device !== undefined ? { device: candidate.device } : {}),
        createdAt: new Date(candidate.createdAt).toISOString(),
        ...(candidate.lastUsedAt !== undefined ? { lastUsedAt: new Date(candidate.lastUsedAt).toISOString() } : {}),
        expiresAt: new Date(candidate.expiresAt).toISOString(),
        current: candidate.sessionId === session.sessionId,
      }));
  }

  /** Revokes one of the caller's own sessions by id; anyone else's is "not found". */
  async revokeSession(sessionToken: string | undefined, rawSessionId: unknown, origin: RequestOrigin = {}): Promise<void> {
    const { user } = await this.liveSession(sessionToken);
    // Checked after authentication, so a caller without a session learns nothing from a 400.
    const sessionId = parseSessionId(rawSessionId);
    const sessions = await this.deps.sessions.listSessions(user.username);
    const target = sessions.find(
      (candidate) => candidate.sessionId === sessionId && isSessionLive(candidate, user, this.deps.clock.now()),
    );
    if (!target) throw new NotFoundError('No such session.');
    await this.deps.sessions.deleteSession(target.tokenHash);
    await this.auditor.record('session_revoked', user.username, origin, { sessionId });
  }

  /**
   * Checks a password under the lockout: an attempt slot is taken atomically before bcrypt
   * runs, so parallel guesses get at most `lockoutThreshold` checks. Unknown and disabled
   * users are checked against a dummy hash, so they look and time the same as a wrong password.
   */
  private async checkPassword(username: Username, password: RegisterRequest['password'], origin: RequestOrigin): Promise<UserRecord> {
    const { users, lockout, hasher } = this.deps;
    const user = await users.getUser(username);
    const attempts = await this.reserveAttempt(username);
    const usable = user !== undefined && !user.disabled;
    const valid = usable ? await hasher.verify(password, user.passwordHash) : await hasher.verifyAgainstDummy(password);
    if (!valid || !usable) {
      await this.recordFailure(username, attempts, origin, user?.disabled ? 'disabled' : 'password');
      throw new AuthenticationError();
    }
    await lockout.clear(username);
    return user;
  }

  /** Counts a failed check; the one that reaches the threshold locks the username. */
  private async recordFailure(username: Username, attempts: number, origin: RequestOrigin, reason: string): Promise<void> {
    const { config, clock, lockout } = this.deps;
    await this.auditor.record('login_failed', username, origin, { attempts, reason });
    if (!failureLocks(attempts, config.lockoutThreshold)) return;
    const lockedUntil = clock.now() + config.lockoutMinutes * 60_000;
    await lockout.lock(username, lockedUntil, counterExpiry(clock.now(), lockedUntil));
    await this.auditor.record('locked', username, origin, { until: new Date(lockedUntil).toISOString() });
  }

  /**
   * Writes a session in the next generation, then moves the user there with the new
   * password hash in one conditional update. Every older session stops working at once.
   */
  private async replaceCredentials(
    user: UserRecord,
    passwordHash: string,
    device?: string,
  ): Promise<{ token: string; record: SessionRecord }> {
    const { users, sessions } = this.deps;
    const nextGeneration = user.sessionGeneration + 1;
    const fresh = this.newSession(user, nextGeneration, device);
    await sessions.putSession(fresh.record);
    let updated: UserRecord | undefined;
    try {
      updated = await users.updateUser(user.username, user.userId, {
        passwordHash,
        sessionGeneration: { from: user.sessionGeneration, to: nextGeneration },
      });
    } catch (error) {
      await sessions.deleteSession(fresh.record.tokenHash).catch(() => undefined);
      throw error;
    }
    if (!updated) {
      // Someone else changed the user meanwhile (another reset, a disable): this attempt loses.
      await sessions.deleteSession(fresh.record.tokenHash).catch(() => undefined);
      throw new AuthenticationError();
    }
    return fresh;
  }

  /** Deletes sessions of older generations. They are already refused; this only tidies the list. */
  private async removeStaleSessions(username: Username, generation: number): Promise<void> {
    try {
      const stale = (await this.deps.sessions.listSessions(username)).filter((session) => session.generation !== generation);
      await Promise.all(stale.map((session) => this.deps.sessions.deleteSession(session.tokenHash)));
    } catch {
      this.deps.log.warn('Could not delete revoked sessions; they are refused and expire by TTL.', { username });
    }
  }

  /** The session behind a token and its user, if it is live: not expired, same registration and generation, user enabled. */
  private async liveSession(sessionToken: string | undefined): Promise<{ session: SessionRecord; user: UserRecord }> {
    if (sessionToken === undefined) throw new AuthenticationError();
    const session = await this.deps.sessions.getSession(hashSessionToken(sessionToken));
    if (!session) throw new AuthenticationError();
    const user = await this.deps.users.getUser(session.username);
    if (!user || !isSessionLive(session, user, this.deps.clock.now())) throw new AuthenticationError();
    return { session, user };
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

  private newSession(user: UserRecord, generation: number, device?: string): { token: string; record: SessionRecord } {
    const now = this.deps.clock.now();
    const token = newSessionToken();
    const record: SessionRecord = {
      tokenHash: hashSessionToken(token),
      sessionId: newId(),
      username: user.username,
      userId: user.userId,
      generation,
      createdAt: now,
      expiresAt: now + this.deps.config.sessionDays * 24 * 60 * 60 * 1000,
      ...(device !== undefined ? { device } : {}),
    };
    return { token, record };
  }

  private grant(token: string, record: SessionRecord): SessionGrant {
    return { token, expiresAt: new Date(record.expiresAt).toISOString() };
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
    return { username, session: this.grant(token, record), credentials, storage: this.storage(username) };
  }
}

/** A session counts only while unexpired, for the same registration and generation, of an enabled user. */
export function isSessionLive(session: SessionRecord, user: UserRecord, now: number): boolean {
  return (
    session.expiresAt > now &&
    session.userId === user.userId &&
    session.generation === user.sessionGeneration &&
    !user.disabled
  );
}


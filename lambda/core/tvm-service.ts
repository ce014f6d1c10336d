import type { AuditEvent, AuditEventType, RequestOrigin } from './audit';
import { SecondFactorRequired } from './mfa/challenge';
import type { SecondFactorGate } from './mfa/second-factor';
import type { TvmConfig } from './config';
import { AuthenticationError, BackendUnavailableError, CutOffPendingError, NotFoundError, TooManyAttemptsError, UsernameTakenError } from './errors';
import { hashDeviceToken, isTrustedDevice, isTrustedHash, loginLockoutScope, newDeviceToken, withDeviceSeen, withTrustedDevice } from './device-trust';
import { UNKNOWN_DEVICE_SCOPE, counterExpiry, decideRefusedReservation, failureLocks, type LockoutScope } from './lockout';
import type { Password, PasswordHasher } from './password';
import type { NewPasswordPolicy } from './password-policy';
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
  SessionWithUserReader,
  UserChanges,
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
import { VEND_WAIT_MAX_MS, credentialsIssuedAt, cutOffDelayMs } from './revocation';
import { isSessionLive, sessionsOverCap } from './session-rules';
import { hashSessionToken, newId, newSessionToken, sessionTokenUsername } from './session-token';
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
  /**
   * Register and login: the token of the device this account now trusts. The app keeps it and
   * sends it as `deviceToken` on later logins, so a stranger's guesses never lock it out.
   */
  readonly deviceToken?: string;
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
  /** The session and user of a current token in one read (/token and every authenticated route). */
  readonly sessionWithUser: SessionWithUserReader;
  readonly lockout: LockoutStore;
  readonly resetCodes: ResetCodeStore;
  readonly audit: AuditTrail;
  readonly issuer: CredentialIssuer;
  readonly hasher: PasswordHasher;
  /** The rules for new passwords (register, change, reset). */
  readonly passwordPolicy: NewPasswordPolicy;
  readonly clock: Clock;
  readonly log: DomainLog;
  /** Second factors (lambda/core/mfa): asked for at login and at a password reset when set up. */
  readonly secondFactor?: Pick<SecondFactorGate, 'requireChallengeIfEnrolled' | 'verifyForReset'>;
  /** Waits `ms` (a vend waiting out a cut-off instant a few seconds ahead). Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
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
    const { audit, log } = this.deps;
    const { event, expiresAt } = this.event(type, username, origin, details);
    log.info(`audit: ${type}`, { username, audit: event });
    try {
      await audit.record(event, expiresAt);
    } catch (error) {
      log.error('Audit trail write failed; the event above is the record', {
        audit: event,
        cause: error instanceof BackendUnavailableError ? error.backend : 'unknown',
      });
    }
  }

  /**
   * An event about a name nobody registered: a log line only, no audit item (anyone could
   * otherwise create items under any name). The same write is sent and refused by its
   * condition, so the backend work, and the time, match a registered name's.
   */
  async recordUnregistered(
    type: AuditEventType,
    username: Username,
    origin: RequestOrigin,
    details?: Record<string, string | number>,
  ): Promise<void> {
    const { event, expiresAt } = this.event(type, username, origin, details);
    this.deps.log.info(`unregistered name: ${type}`, { username, event });
    await this.deps.audit.recordNothing(event, expiresAt).catch(() => undefined);
  }

  private event(type: AuditEventType, username: Username, origin: RequestOrigin, details?: Record<string, string | number>) {
    const at = this.deps.clock.now();
    const event: AuditEvent = { username, type, at, ...origin, ...(details ? { details } : {}) };
    return { event, expiresAt: at + this.deps.config.auditRetentionDays * 86_400_000 };
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
    const { users, sessions, hasher, log, passwordPolicy } = this.deps;
    const { username } = request;
    passwordPolicy.check(request.password, { username, field: 'password' });
    // A fast path only; the conditional write below is what guarantees uniqueness. A deleted
    // name's hold answers exactly like a taken name, without vending (so not 503 if STS is down).
    if ((await users.getUser(username)) || ((await users.nameHeldUntil(username)) ?? -1) >= this.deps.clock.now()) {
      throw new UsernameTakenError();
    }
    const passwordHash = await hasher.hash(request.password);
    const credentials = await this.vend(username);
    const deviceToken = newDeviceToken();
    const user: UserRecord = {
      username,
      userId: newId(),
      passwordHash,
      createdAt: this.deps.clock.now(),
      disabled: false,
      sessionGeneration: 0,
      trustedDevices: [{ hash: hashDeviceToken(deviceToken), seenAt: this.deps.clock.now() }],
    };
    const { token, record } = this.newSession(user, user.sessionGeneration, request.device);
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
    await this.auditor.record('registered', username, origin, { sessionId: record.sessionId, ...(request.device ? { device: request.device } : {}) });
    return { ...this.sessionResult(username, token, record, credentials), deviceToken };
  }

  /**
   * Checks a password under the lockout and opens a session. Unknown and disabled users take
   * the same path as a wrong password.
   */
  async login(request: LoginRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { username } = request;
    const user = await this.checkPassword(username, request.password, origin, (found) =>
      loginLockoutScope(found, request.deviceToken),
    );
    // A user with a second factor gets a challenge (thrown as SecondFactorRequired), not a
    // session, and no device token: a device is trusted only once every factor is proven.
    try {
      await this.deps.secondFactor?.requireChallengeIfEnrolled(user, request.device, origin, request.deviceToken);
    } catch (error) {
      if (error instanceof SecondFactorRequired) await this.trustDeviceAndUpgradeHash(user, request.password, undefined, false);
      throw error;
    }
    const deviceToken = await this.trustDeviceAndUpgradeHash(user, request.password, request.deviceToken, true);
    return { ...(await this.completeLogin(user, request.device, origin)), ...(deviceToken !== undefined ? { deviceToken } : {}) };
  }

  /** Opens a session with credentials for a user whose every factor was checked. */
  async completeLogin(user: UserRecord, device: string | undefined, origin: RequestOrigin, details: Record<string, string> = {}): Promise<SessionResult> {
    const { username } = user;
    const credentials = await this.vend(username, user.cutOffAt);
    const { token, record } = this.newSession(user, user.sessionGeneration, device);
    await this.deps.sessions.putSession(record);
    await this.auditor.record('login_ok', username, origin, {
      sessionId: record.sessionId,
      ...(device ? { device } : {}),
      ...details,
    });
    await this.endSessionsOverCap(user, record, origin);
    return this.sessionResult(username, token, record, credentials);
  }

  /** The live session behind a bearer token, and its user; AuthenticationError otherwise. */
  authenticate(sessionToken: string | undefined): Promise<{ session: SessionRecord; user: UserRecord }> {
    return this.liveSession(sessionToken);
  }

  /** Step-up with the current password in a live session, under that session's lockout counter (as a password change). */
  async reauthenticate(session: SessionRecord, password: LoginRequest['password'], origin: RequestOrigin = {}): Promise<void> {
    await this.checkPassword(session.username, password, origin, () => `session:${session.sessionId}`);
  }

  /**
   * Throws {@link CutOffPendingError} (503 with Retry-After) when the user's cut-off instant
   * lies further ahead than a vend waits: call it before spending a one-time proof (a
   * second-factor code, a challenge) on a login that would then vend nothing.
   */
  checkCutOff(user: Pick<UserRecord, 'cutOffAt'>): void {
    const aheadMs = cutOffDelayMs(user.cutOffAt, this.deps.clock.now());
    if (aheadMs > VEND_WAIT_MAX_MS) throw new CutOffPendingError(Math.ceil(aheadMs / 1000));
  }

  /** Vends fresh credentials for a live session, and records the use. */
  async token(sessionToken: string | undefined, origin: RequestOrigin = {}): Promise<VendResult> {
    const { session, user } = await this.liveSession(sessionToken);
    // Vend first: if STS fails, nothing is written. The user read above carries the cut-off.
    const credentials = await this.vend(session.username, user.cutOffAt);
    const now = this.deps.clock.now();
    // "Last used" to the nearest few minutes is all a session list needs; it saves a write per
    // call. The two writes are independent, so they go together: one round trip.
    const touch =
      session.lastUsedAt === undefined || now - session.lastUsedAt >= LAST_USED_RESOLUTION_MS
        ? this.deps.sessions.touchSession(session.tokenHash, now)
        : undefined;
    await Promise.all([touch, this.auditor.record('token_issued', session.username, origin, { sessionId: session.sessionId })]);
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
    secondFactor?: (live: { session: SessionRecord; user: UserRecord }) => Promise<void>,
  ): Promise<{ session: SessionGrant }> {
    const { session, user } = await this.liveSession(sessionToken);
    this.deps.passwordPolicy.check(request.newPassword, { username: user.username, field: 'newPassword' });
    // Charged to this session's own counter: a stranger's login guesses cannot block it.
    await this.checkPassword(user.username, request.currentPassword, origin, () => `session:${session.sessionId}`);
    // An account with a second factor also proves it (MfaService.changePassword's step-up).
    await secondFactor?.({ session, user });
    const passwordHash = await this.deps.hasher.hash(request.newPassword);
    const { token, record } = await this.replaceCredentials(user, passwordHash, session.device);
    await this.auditor.record('password_changed', user.username, origin, { sessionId: record.sessionId });
    await this.removeStaleSessions(user.username, record.generation);
    return { session: this.grant(token, record) };
  }

  /**
   * Redeems an operator's one-time reset code: single use (an atomic conditional delete),
   * valid for an hour, and rate-limited by a lockout counter of its own, so a stranger who
   * locked the owner's logins does not also block the owner's recovery. Unknown and disabled
   * names take the same calls (the redemption is tried, and finds no code). Every existing
   * session is revoked; the answer is a new session with credentials, as from login.
   */
  async resetPassword(request: ResetPasswordRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { users, resetCodes, clock, hasher, lockout, passwordPolicy } = this.deps;
    const { username } = request;
    passwordPolicy.check(request.newPassword, { username, field: 'newPassword' });
    const attempts = await this.reserveAttempt(username, 'reset');
    const user = await users.getUser(username);
    const codeHash = hashResetCode(request.resetCode);
    const redeemed = (await resetCodes.redeemResetCode(username, codeHash, clock.now())) && user !== undefined && !user.disabled;
    if (!redeemed || !user) {
      await this.recordFailure(username, user !== undefined, attempts, origin, 'reset code', 'reset');
      throw new AuthenticationError('The username or reset code is incorrect, or the code has expired.');
    }
    let replaced;
    let credentials;
    try {
      await this.deps.secondFactor?.verifyForReset(user, request.secondFactor ?? {}, origin);
      const passwordHash = await hasher.hash(request.newPassword);
      // Vend before the commit, as register and login do: if STS fails, the old password stays.
      credentials = await this.vend(username, user.cutOffAt);
      replaced = await this.replaceCredentials(user, passwordHash);
    } catch (error) {
      // Give the code back, so the person can try again once the backend recovers.
      await resetCodes.restoreResetCode(username, codeHash, clock.now() + RESET_CODE_TTL_MS).catch(() => undefined);
      throw error;
    }
    // Recovery ends a stranger's lock too.
    await Promise.all([lockout.clear(username, 'reset'), lockout.clear(username, UNKNOWN_DEVICE_SCOPE)]);
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
      .filter((candidate) => isSessionLive(candidate, user, now, this.deps.config))
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
      (candidate) => candidate.sessionId === sessionId && isSessionLive(candidate, user, this.deps.clock.now(), this.deps.config),
    );
    if (!target) throw new NotFoundError('No such session.');
    await this.deps.sessions.deleteSession(target.tokenHash);
    await this.auditor.record('session_revoked', user.username, origin, { sessionId });
  }

  /**
   * Checks a password under the lockout: an attempt slot is taken atomically before bcrypt
   * runs, so parallel guesses get at most `lockoutThreshold` checks per counter; `scopeOf`
   * picks the counter (see {@link LockoutScope}). Unknown and disabled users are checked
   * against a dummy hash, so they look and time the same as a wrong password.
   */
  private async checkPassword(
    username: Username,
    password: Password,
    origin: RequestOrigin,
    scopeOf: (user: UserRecord | undefined) => LockoutScope,
  ): Promise<UserRecord> {
    const { users, lockout, hasher } = this.deps;
    const user = await users.getUser(username);
    const scope = scopeOf(user);
    const attempts = await this.reserveAttempt(username, scope);
    const usable = user !== undefined && !user.disabled;
    const valid = usable ? await hasher.verify(password, user.passwordHash) : await hasher.verifyAgainstDummy(password);
    if (!valid || !usable) {
      await this.recordFailure(username, user !== undefined, attempts, origin, user?.disabled ? 'disabled' : 'password', scope);
      throw new AuthenticationError();
    }
    await lockout.clear(username, scope);
    return user;
  }

  /**
   * After a correct password at login: re-hashes a hash weaker than the configuration, and
   * makes the device trusted (or notes that a trusted one was seen), in one conditional write
   * (lost to a concurrent password change, which wins). Returns the device token the app
   * keeps: the one it sent, if trusted, or a new one; none when the account's list is full of
   * devices still in use (see {@link withTrustedDevice}). A failed write costs the login
   * nothing: the hash stays valid and the device asks again.
   */
  private async trustDeviceAndUpgradeHash(
    user: UserRecord,
    password: Password | undefined,
    sentToken: string | undefined,
    trust: boolean,
  ): Promise<string | undefined> {
    const { hasher, users, log, clock } = this.deps;
    const trusted = sentToken !== undefined && isTrustedDevice(user, sentToken);
    const candidate = trusted ? sentToken : newDeviceToken();
    const devices = !trust
      ? undefined
      : trusted
        ? withDeviceSeen(user.trustedDevices, hashDeviceToken(candidate), clock.now())
        : withTrustedDevice(user.trustedDevices, hashDeviceToken(candidate), clock.now());
    let deviceToken = trusted || devices !== undefined ? candidate : undefined;
    const changes: UserChanges = {
      ...(devices !== undefined ? { trustedDevices: devices, ifTrustedDevices: { list: user.trustedDevices } } : {}),
      ...(password !== undefined && hasher.needsRehash(user.passwordHash) ? { passwordHash: await hasher.hash(password) } : {}),
    };
    if (Object.keys(changes).length === 0) return deviceToken;
    try {
      const updated = await users.updateUser(user.username, user.userId, { ...changes, ifPasswordHash: user.passwordHash });
      if (!updated) log.warn('The user changed during login; device trust and re-hash wait for the next login.', { username: user.username });
      else if (changes.passwordHash) log.info('Password hash upgraded to the configured scheme and cost.', { username: user.username });
      // A token the account does not hold would only mislead the app: none, and it asks again.
      if (!updated && !trusted) deviceToken = undefined;
    } catch {
      log.warn('Could not store device trust or the upgraded hash; the login goes on.', { username: user.username });
      if (!trusted) deviceToken = undefined;
    }
    return deviceToken;
  }

  /**
   * After a login's second factor: trusts the device, unless the login came from a device the
   * account still trusts (`trustedDeviceHash`), whose app keeps its token (its last login is
   * noted). Returns the new device token, if one was issued.
   */
  async trustDeviceAfterSecondFactor(user: UserRecord, trustedDeviceHash: string | undefined): Promise<string | undefined> {
    if (trustedDeviceHash !== undefined && isTrustedHash(user, trustedDeviceHash)) {
      const devices = withDeviceSeen(user.trustedDevices, trustedDeviceHash, this.deps.clock.now());
      if (devices !== undefined) {
        await this.deps.users
          .updateUser(user.username, user.userId, { trustedDevices: devices, ifTrustedDevices: { list: user.trustedDevices }, ifPasswordHash: user.passwordHash })
          .catch(() => this.deps.log.warn('Could not note the trusted device; the login goes on.', { username: user.username }));
      }
      return undefined;
    }
    return this.trustDeviceAndUpgradeHash(user, undefined, undefined, true);
  }

  /** Ends the oldest live sessions past `maxSessions`, each recorded in the audit trail. */
  private async endSessionsOverCap(user: UserRecord, kept: SessionRecord, origin: RequestOrigin): Promise<void> {
    const { sessions, config, clock, log } = this.deps;
    try {
      const ended = sessionsOverCap(await sessions.listSessions(user.username), user, kept, clock.now(), config);
      for (const session of ended) {
        await sessions.deleteSession(session.tokenHash);
        await this.auditor.record('session_ended_over_cap', user.username, origin, {
          sessionId: session.sessionId,
          maxSessions: config.maxSessions,
        });
      }
    } catch {
      // The index is eventually consistent anyway: the next login trims again.
      log.warn('Could not end sessions over the cap; the next login tries again.', { username: user.username });
    }
  }

  /**
   * Counts a failed check; the one that reaches the threshold locks the counter. A name
   * nobody registered gets log lines, not audit items (see {@link AuditRecorder.recordUnregistered}).
   */
  private async recordFailure(
    username: Username,
    registered: boolean,
    attempts: number,
    origin: RequestOrigin,
    reason: string,
    scope: LockoutScope,
  ): Promise<void> {
    const { config, clock, lockout } = this.deps;
    const record = (type: AuditEventType, details: Record<string, string | number>) =>
      registered ? this.auditor.record(type, username, origin, details) : this.auditor.recordUnregistered(type, username, origin, details);
    await record('login_failed', { attempts, reason, counter: scope });
    if (!failureLocks(attempts, config.lockoutThreshold)) return;
    const lockedUntil = clock.now() + config.lockoutMinutes * 60_000;
    await lockout.lock(username, lockedUntil, counterExpiry(clock.now(), lockedUntil), scope);
    await record('locked', { until: new Date(lockedUntil).toISOString(), counter: scope });
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
        // A new password starts trust afresh: devices are trusted again at their next login.
        trustedDevices: [],
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
    // A current token names its user, so the session and the user are read in one round
    // trip; a legacy token (no username) needs the session first to find the user.
    const named = sessionTokenUsername(sessionToken);
    const tokenHash = hashSessionToken(sessionToken);
    const { session, user: namedUser } =
      named === undefined ? { session: await this.deps.sessions.getSession(tokenHash) } : await this.deps.sessionWithUser.getSessionWithUser(tokenHash, named);
    if (!session || (named !== undefined && session.username !== named)) throw new AuthenticationError();
    const user = named === undefined ? await this.deps.users.getUser(session.username) : namedUser;
    if (!user || !isSessionLive(session, user, this.deps.clock.now(), this.deps.config)) throw new AuthenticationError();
    return { session, user };
  }

  /** Takes one attempt slot or throws TooManyAttemptsError. Returns the attempt's number. */
  private async reserveAttempt(username: Username, scope: LockoutScope): Promise<number> {
    const { lockout, config, clock } = this.deps;
    const cooldownMs = config.lockoutMinutes * 60_000;
    for (let race = 0; race < MAX_LOCKOUT_RACES; race++) {
      const now = clock.now();
      const result = await lockout.tryReserve(username, config.lockoutThreshold, now, counterExpiry(now), scope);
      if (result.reserved) return result.attempts;
      const decision = decideRefusedReservation(result.state, now, cooldownMs, config.lockoutThreshold);
      if (decision.action === 'locked') throw new TooManyAttemptsError(decision.retryAfterSeconds);
      if (decision.action === 'restart' && (await lockout.restart(username, result.state, counterExpiry(now), scope))) return 1;
    }
    // Others keep winning the race for this counter: that is a burst, so treat it as one.
    throw new TooManyAttemptsError(Math.ceil(cooldownMs / 1000));
  }

  /**
   * Vends credentials that the user's cut-off (`cutOffAt`, from the user record the route
   * already read) does not deny: while the instant lies ahead, waits when it is at most
   * {@link VEND_WAIT_MAX_MS} away and otherwise throws {@link CutOffPendingError} (503 with
   * Retry-After) before calling STS. STS's own clock has the last word: credentials it
   * stamped before the cut-off (its clock trailing this one) are dropped and asked for again
   * after the difference, once.
   */
  private async vend(username: Username, cutOffAt?: number): Promise<IssuedCredentials> {
    const { config, issuer, clock, log } = this.deps;
    const policy = renderSessionPolicy(bucketArn(config.bucketName, config.partition), username);
    const request = { username, sessionPolicy: serialiseSessionPolicy(policy), durationSeconds: config.credentialSeconds };
    this.checkCutOff({ cutOffAt });
    const aheadMs = cutOffDelayMs(cutOffAt, clock.now());
    if (aheadMs > 0) await this.sleep(aheadMs);
    for (let attempt = 1; ; attempt++) {
      const credentials = await issuer.issue(request);
      const missingMs = cutOffDelayMs(cutOffAt, credentialsIssuedAt(credentials.expiration, request.durationSeconds));
      if (missingMs === 0) return credentials;
      if (attempt > 1 || missingMs > VEND_WAIT_MAX_MS) throw new CutOffPendingError(Math.ceil(missingMs / 1000));
      log.warn('STS issued credentials before the cut-off instant (its clock trails); asking again.', { username, missingMs });
      await this.sleep(missingMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return this.deps.sleep ? this.deps.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }

  private newSession(user: UserRecord, generation: number, device?: string): { token: string; record: SessionRecord } {
    const now = this.deps.clock.now();
    const token = newSessionToken(user.username);
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

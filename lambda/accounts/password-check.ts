/**
 * The lockout loop: a password (or reset code) is checked only after an attempt slot was taken
 * atomically, so parallel guesses get at most `lockoutThreshold` checks per counter.
 */
import type { AuditEventType, AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import type { TvmConfig } from '../platform/config';
import { AuthenticationError, TooManyAttemptsError } from '../platform/errors';
import { counterExpiry, decideRefusedReservation, failureLocks, type LockoutScope } from './lockout';
import type { Password, PasswordHasher } from './password';
import type { LockoutStore, UserRecord, UserStore } from './ports';
import type { Username } from './username';

/** How often a lost compare-and-set on the lockout counter is retried before giving up. */
const MAX_LOCKOUT_RACES = 3;

/** What {@link PasswordCheck} needs. */
export interface PasswordCheckDependencies {
  readonly users: Pick<UserStore, 'getUser'>;
  readonly lockout: LockoutStore;
  readonly hasher: PasswordHasher;
  readonly config: Pick<TvmConfig, 'lockoutThreshold' | 'lockoutMinutes'>;
  readonly clock: Clock;
  readonly auditor: AuditRecorder;
}

/** Checks passwords under the lockout counters; login, step-up, password change and reset share it. */
export class PasswordCheck {
  constructor(private readonly deps: PasswordCheckDependencies) {}

  /**
   * Checks a password under the lockout: an attempt slot is taken atomically before bcrypt
   * runs, so parallel guesses get at most `lockoutThreshold` checks per counter; `scopeOf`
   * picks the counter (see {@link LockoutScope}). Unknown and disabled users are checked
   * against a dummy hash, so they look and time the same as a wrong password.
   */
  async check(
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
      await this.recordFailure(
        username,
        user !== undefined,
        attempts,
        origin,
        user?.disabled ? 'disabled' : 'password',
        scope,
      );
      throw new AuthenticationError();
    }
    await lockout.clear(username, scope);
    return user;
  }

  /**
   * A password given inside a live session (a step-up, a password change), charged to that
   * session's own counter: a stranger's login guesses cannot block it.
   */
  inSession(
    session: { readonly username: Username; readonly sessionId: string },
    password: Password,
    origin: RequestOrigin,
  ): Promise<UserRecord> {
    return this.check(session.username, password, origin, () => `session:${session.sessionId}`);
  }

  /** Takes one attempt slot or throws TooManyAttemptsError. Returns the attempt's number. */
  async reserveAttempt(username: Username, scope: LockoutScope): Promise<number> {
    const { lockout, config, clock } = this.deps;
    const cooldownMs = config.lockoutMinutes * 60_000;
    for (let race = 0; race < MAX_LOCKOUT_RACES; race++) {
      const now = clock.now();
      const result = await lockout.tryReserve(username, config.lockoutThreshold, now, counterExpiry(now), scope);
      if (result.reserved) return result.attempts;
      const decision = decideRefusedReservation(result.state, now, cooldownMs, config.lockoutThreshold);
      if (decision.action === 'locked') throw new TooManyAttemptsError(decision.retryAfterSeconds);
      if (decision.action === 'restart' && (await lockout.restart(username, result.state, counterExpiry(now), scope)))
        return 1;
    }
    // Others keep winning the race for this counter: that is a burst, so treat it as one.
    throw new TooManyAttemptsError(Math.ceil(cooldownMs / 1000));
  }

  /**
   * Counts a failed check; the one that reaches the threshold locks the counter. A name
   * nobody registered gets log lines, not audit items (see {@link AuditRecorder.recordUnregistered}).
   */
  async recordFailure(
    username: Username,
    registered: boolean,
    attempts: number,
    origin: RequestOrigin,
    reason: string,
    scope: LockoutScope,
  ): Promise<void> {
    const { config, clock, lockout, auditor } = this.deps;
    const record = (type: AuditEventType, details: Record<string, string | number>) =>
      registered
        ? auditor.record(type, username, origin, details)
        : auditor.recordUnregistered(type, username, origin, details);
    await record('login_failed', { attempts, reason, counter: scope });
    if (!failureLocks(attempts, config.lockoutThreshold)) return;
    const lockedUntil = clock.now() + config.lockoutMinutes * 60_000;
    await lockout.lock(username, lockedUntil, counterExpiry(clock.now(), lockedUntil), scope);
    await record('locked', { until: new Date(lockedUntil).toISOString(), counter: scope });
  }
}

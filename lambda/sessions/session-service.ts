/** Sessions: login, token, logout, the session list and revoking one; free of HTTP and AWS. */
import { loginLockoutScope } from '../accounts/device-trust';
import type { LoginTrust } from '../accounts/login-trust';
import type { PasswordCheck } from '../accounts/password-check';
import type { UserRecord } from '../accounts/ports';
import type { MfaChallengeResult, SessionResult, SessionSummary, VendResult } from '../contract/wire';
import type { StepUpProof } from '../second-factor/requests';
import type { StoredUsage } from '../usage/quota-enforcer';
import { parseSessionId } from './requests';
import type { LoginRequest } from '../accounts/requests';
import type { CredentialVendor } from '../credentials/vending';
import {
  type VendLimits,
  checkSessionVends,
  checkUserVends,
  userRateLimited,
  vendWindow,
} from '../credentials/vend-limits';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import {
  AuthenticationError,
  BackendThrottledError,
  BackendUnavailableError,
  NotFoundError,
  RateLimitedError,
  TvmError,
  ValidationError,
} from '../platform/errors';
import type { LiveSession, SecondFactorChallenger, SessionStore, StepUpCheck, VendLedger } from './ports';
import type { SessionKeeper } from './session-keeper';
import { type SessionLimits, idleSince, isSessionLive } from './session-rules';
import { hashSessionToken, sessionTokenUsername } from './session-token';

/**
 * What `POST /login` leads to: a session, or (for a user with a second factor) a challenge and
 * no session. The route answers 200 with `result` either way.
 */
export type LoginOutcome =
  | { readonly kind: 'session'; readonly result: SessionResult }
  | { readonly kind: 'second-factor-required'; readonly result: MfaChallengeResult };

/** What {@link SessionService} needs. */
export interface SessionServiceDependencies {
  /** The vend limits and the session rules /token checks. */
  readonly config: VendLimits & SessionLimits;
  /** /token's counted first stage and the user's count in its second. */
  readonly ledger: VendLedger;
  readonly sessions: SessionStore;
  readonly keeper: SessionKeeper;
  readonly passwords: PasswordCheck;
  readonly trust: LoginTrust;
  readonly vendor: CredentialVendor;
  readonly auditor: AuditRecorder;
  readonly clock: Clock;
  /** Second factors: asked for at login when set up. */
  readonly secondFactor?: SecondFactorChallenger;
  /** The step-up ending another session takes. */
  readonly stepUp: StepUpCheck;
}

/** Login, token, logout and a user's sessions. */
export class SessionService {
  constructor(private readonly deps: SessionServiceDependencies) {}

  /**
   * Checks a password under the lockout and opens a session. Unknown and disabled users take
   * the same path as a wrong password. A user with a second factor gets a challenge instead.
   */
  async login(request: LoginRequest, origin: RequestOrigin = {}): Promise<LoginOutcome> {
    const { passwords, trust, secondFactor } = this.deps;
    // The folder's totals are read beside the password check (bcrypt), for known and unknown names alike.
    const totals = this.deps.vendor.readTotals(request.username);
    const user = await passwords.check(request.username, request.password, origin, (found) =>
      loginLockoutScope(found, request.deviceToken),
    );
    // A user with a second factor gets a challenge, not a session, and no device token: a
    // device is trusted only once every factor is proven (the hash is upgraded all the same).
    const challenge = await secondFactor?.challengeIfEnrolled(user, request.device, origin, request.deviceToken);
    if (challenge) {
      await trust.afterPassword(user, request.password, undefined, false);
      return { kind: 'second-factor-required', result: challenge };
    }
    const deviceToken = await trust.afterPassword(user, request.password, request.deviceToken, true);
    const result = await this.completeLogin(user, request.device, origin, {}, totals);
    return { kind: 'session', result: { ...result, ...(deviceToken !== undefined ? { deviceToken } : {}) } };
  }

  /**
   * Opens a session with credentials for a user whose every factor was checked; `totals` when
   * the caller already started reading the folder's (see CredentialVendor.readTotals).
   */
  async completeLogin(
    user: UserRecord,
    device: string | undefined,
    origin: RequestOrigin,
    details: Record<string, string> = {},
    totals?: Promise<StoredUsage | undefined>,
  ): Promise<SessionResult> {
    const { keeper, vendor, sessions, auditor } = this.deps;
    const { username } = user;
    const usage = await vendor.usageOf(user, totals);
    const credentials = await vendor.vend(username, user.cutOffAt, usage);
    const opened = keeper.open(user, user.sessionGeneration, device);
    await sessions.putSession(opened.record);
    await auditor.record('login_ok', username, origin, {
      sessionId: opened.record.sessionId,
      ...(device ? { device } : {}),
      ...details,
    });
    await keeper.endOverCap(user, opened.record, origin);
    return { username, session: keeper.grant(opened), credentials, storage: vendor.storage(username, usage) };
  }

  /** The live session behind a bearer token, and its user; AuthenticationError otherwise. */
  authenticate(sessionToken: string | undefined): Promise<LiveSession> {
    return this.deps.keeper.live(sessionToken);
  }

  /**
   * Vends fresh credentials for a live session, within the session's and the user's vends per
   * minute, in two sequential backend stages:
   * 1. the session's conditional update (its use and its count; it stands in for the session
   *    read) together with the read of the user and the user's count;
   * 2. AssumeRole, together with the `token_issued` audit entry and the user's count.
   * When no credentials reach the caller after all (STS failed or throttled, a cut-off pending,
   * the user's count full after a race), the same audit entry is rewritten as `token_failed`
   * before the error is answered. Every attempt that reaches a counter counts, failed ones too.
   */
  async token(sessionToken: string | undefined, origin: RequestOrigin = {}): Promise<VendResult> {
    const { ledger, vendor, auditor, clock, config, sessions } = this.deps;
    if (sessionToken === undefined) throw new AuthenticationError();
    const tokenHash = hashSessionToken(sessionToken);
    // A current token names its user; a legacy one (no name) costs one more read to find it.
    const named = sessionTokenUsername(sessionToken) ?? (await sessions.getSession(tokenHash))?.username;
    if (named === undefined) throw new AuthenticationError();
    const now = clock.now();
    const window = vendWindow(now);
    const start = await ledger.startVend(tokenHash, named, window.index, now, idleSince(now, config));
    const { session, user } = start;
    if (!session || session.username !== named || !user || !isSessionLive(session, user, now, config))
      throw new AuthenticationError();
    checkSessionVends(start.sessionVends, config, now);
    checkUserVends(start.userVends, config, now);
    // The first stage's read carried the folder's totals; no read is added here.
    const usage = await vendor.usageOf(user, start.usage);
    const entry = auditor.entry('token_issued', named, origin, { sessionId: session.sessionId });
    const [issued, , counted] = await Promise.allSettled([
      vendor.vend(named, user.cutOffAt, usage),
      entry.write(),
      ledger.countUserVend(named, window.index, window.endsAt, config.vendsPerUserPerMinute),
      start.tidy?.(),
    ]);
    if (issued.status === 'fulfilled' && counted.status === 'fulfilled' && counted.value)
      return { credentials: issued.value, storage: vendor.storage(named, usage) };
    const failure: unknown =
      issued.status === 'rejected'
        ? issued.reason
        : counted.status === 'rejected'
          ? counted.reason
          : userRateLimited(config, now);
    // Credentials STS may have issued are dropped, never sent: the entry must not claim them.
    await entry.rewrite('token_failed', { reason: failureReason(failure) });
    throw failure;
  }

  /** Revokes the session the token belongs to. */
  async logout(sessionToken: string | undefined, origin: RequestOrigin = {}): Promise<void> {
    const { session } = await this.deps.keeper.live(sessionToken);
    await this.deps.sessions.deleteSession(session.tokenHash);
    await this.deps.auditor.record('logout', session.username, origin, { sessionId: session.sessionId });
  }

  /** The caller's live sessions, oldest first. */
  async listSessions(sessionToken: string | undefined): Promise<SessionSummary[]> {
    const { session, user } = await this.deps.keeper.live(sessionToken);
    return (await this.deps.keeper.liveSessionsOf(user)).map((candidate) => ({
      id: candidate.sessionId,
      ...(candidate.device !== undefined ? { device: candidate.device } : {}),
      createdAt: new Date(candidate.createdAt).toISOString(),
      ...(candidate.lastUsedAt !== undefined ? { lastUsedAt: new Date(candidate.lastUsedAt).toISOString() } : {}),
      expiresAt: new Date(candidate.expiresAt).toISOString(),
      current: candidate.sessionId === session.sessionId,
    }));
  }

  /**
   * `DELETE /sessions/{id}`, the one place a user's session is revoked by id: ending this
   * session needs nothing more (it is a logout); ending another one needs a step-up, so a
   * stolen session cannot lock the owner's devices out. Someone else's session, or one that is
   * gone, is a 404 before any proof is spent.
   */
  async revokeSession(
    sessionToken: string | undefined,
    rawSessionId: unknown,
    proof: StepUpProof | undefined,
    origin: RequestOrigin = {},
  ): Promise<void> {
    const { keeper, sessions, auditor, stepUp } = this.deps;
    const live = await keeper.live(sessionToken);
    // Checked after authentication, so a caller without a session learns nothing from a 400.
    const sessionId = parseSessionId(rawSessionId);
    const target = (await keeper.liveSessionsOf(live.user)).find((candidate) => candidate.sessionId === sessionId);
    if (sessionId !== live.session.sessionId) {
      if (!target) throw new NotFoundError('No such session.');
      if (!proof)
        throw new ValidationError(
          'Confirm it is you to end another session: give currentPassword, code, recoveryCode or challenge and passkey.',
          'currentPassword',
        );
      await stepUp.stepUp(live, proof, origin, 'session revoke');
    }
    if (!target) throw new NotFoundError('No such session.');
    await sessions.deleteSession(target.tokenHash);
    await auditor.record('session_revoked', live.user.username, origin, { sessionId });
  }
}

/** Why a vend delivered nothing, in the audit entry's words (never an AWS error text). */
function failureReason(failure: unknown): string {
  if (failure instanceof RateLimitedError) return 'user_rate_limited';
  if (failure instanceof BackendThrottledError) return 'backend_throttled';
  if (failure instanceof BackendUnavailableError) return 'backend_unavailable';
  if (failure instanceof TvmError) return failure.code;
  return 'internal_error';
}

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
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { NotFoundError, ValidationError } from '../platform/errors';
import type { LiveSession, SecondFactorChallenger, SessionStore, StepUpCheck } from './ports';
import type { SessionKeeper } from './session-keeper';

/** How stale a session's "last used" time may get before /token records a new one. */
export const LAST_USED_RESOLUTION_MS = 5 * 60_000;

/**
 * What `POST /login` leads to: a session, or (for a user with a second factor) a challenge and
 * no session. The route answers 200 with `result` either way.
 */
export type LoginOutcome =
  | { readonly kind: 'session'; readonly result: SessionResult }
  | { readonly kind: 'second-factor-required'; readonly result: MfaChallengeResult };

/** What {@link SessionService} needs. */
export interface SessionServiceDependencies {
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

  /** Vends fresh credentials for a live session, and records the use. */
  async token(sessionToken: string | undefined, origin: RequestOrigin = {}): Promise<VendResult> {
    const { keeper, vendor, sessions, auditor, clock } = this.deps;
    const live = await keeper.live(sessionToken);
    const { session, user } = live;
    // The first stage's read carries the folder's totals (a legacy token's did not: read them now).
    const usage = await vendor.usageOf(user, live.usage);
    // Vend first: if STS fails, nothing is written. The user read above carries the cut-off.
    const credentials = await vendor.vend(session.username, user.cutOffAt, usage);
    const now = clock.now();
    // "Last used" to the nearest few minutes is all a session list needs; it saves a write per
    // call. The two writes are independent, so they go together: one round trip.
    const touch =
      session.lastUsedAt === undefined || now - session.lastUsedAt >= LAST_USED_RESOLUTION_MS
        ? sessions.touchSession(session.tokenHash, now)
        : undefined;
    await Promise.all([
      touch,
      auditor.record('token_issued', session.username, origin, { sessionId: session.sessionId }),
    ]);
    return { credentials, storage: vendor.storage(session.username, usage) };
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

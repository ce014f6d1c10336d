/** Accounts: registration, password change and password reset; free of HTTP and AWS. */
import type { SessionGrant, SessionResult } from '../contract/wire';
import type { ChangePasswordRequest, RegisterRequest, ResetPasswordRequest } from './requests';
import type { CredentialVendor } from '../credentials/vending';
import type { AuditRecorder, DomainLog, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { AuthenticationError, UsernameTakenError, ValidationError } from '../platform/errors';
import type { LiveSession, SessionStore } from '../sessions/ports';
import type { RegistrationGate } from '../signup/registration-gate';
import type { SessionKeeper } from '../sessions/session-keeper';
import { newId } from '../sessions/session-token';
import { hashDeviceToken, newDeviceToken } from './device-trust';
import { UNKNOWN_DEVICE_SCOPE } from './lockout';
import { hasPassword, type PasswordHasher } from './password';
import type { PasswordCheck } from './password-check';
import type { NewPasswordPolicy } from './password-policy';
import type { LockoutStore, ResetCodeStore, UserRecord, UserStore } from './ports';
import { RESET_CODE_TTL_MS, hashResetCode } from './reset-code';

/** What a password reset asks of second factors: the account's factor too, when it has one. */
export interface ResetSecondFactor {
  verifyForReset(
    user: UserRecord,
    proof: NonNullable<ResetPasswordRequest['secondFactor']>,
    origin: RequestOrigin,
  ): Promise<void>;
}

/** What {@link AccountService} needs. */
export interface AccountServiceDependencies {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly lockout: LockoutStore;
  readonly resetCodes: ResetCodeStore;
  readonly hasher: PasswordHasher;
  /** The rules for new passwords (register, change, reset). */
  readonly passwordPolicy: NewPasswordPolicy;
  readonly passwords: PasswordCheck;
  readonly keeper: SessionKeeper;
  readonly vendor: CredentialVendor;
  readonly auditor: AuditRecorder;
  readonly clock: Clock;
  readonly log: DomainLog;
  /** Second factors: a reset of an account with one must prove it too. */
  readonly secondFactor?: ResetSecondFactor;
  /** The `registration` setting: who may create an account. */
  readonly registration: RegistrationGate;
}

/** Register, change a password, reset a forgotten one. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDependencies) {}

  /**
   * Creates a user, vends credentials and opens a session. The `registration` setting is
   * applied first (closed, or an invite that is not live, is refused before any other work),
   * STS is called before anything is written, and the user record is the last write (an
   * invite is spent with it): a failure at any step leaves no user and the invite unspent.
   */
  async register(request: RegisterRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { users, sessions, hasher, log, passwordPolicy, clock, keeper, vendor, registration } = this.deps;
    const { username } = request;
    const admission = await registration.admit(request.invite);
    passwordPolicy.check(request.password, { username, field: 'password' });
    // A fast path only; the conditional write below is what guarantees uniqueness. A deleted
    // name's hold answers exactly like a taken name, without vending (so not 503 if STS is down).
    if ((await users.getUser(username)) || ((await users.nameHeldUntil(username)) ?? -1) >= clock.now()) {
      throw new UsernameTakenError();
    }
    const passwordHash = await hasher.hash(request.password);
    // A new account's folder is empty (a deleted name's files went with it).
    const usage = vendor.newFolderUsage();
    const credentials = await vendor.vend(username, undefined, usage);
    const deviceToken = newDeviceToken();
    const user: UserRecord = {
      username,
      userId: newId(),
      passwordHash,
      createdAt: clock.now(),
      disabled: false,
      sessionGeneration: 0,
      trustedDevices: [{ hash: hashDeviceToken(deviceToken), seenAt: clock.now() }],
    };
    const opened = keeper.open(user, user.sessionGeneration, request.device);
    await sessions.putSession(opened.record);
    try {
      await registration.commit(admission, user, origin, () => users.createUser(user));
    } catch (error) {
      // The session is inert without its user (the ids differ); remove it anyway.
      await sessions.deleteSession(opened.record.tokenHash).catch(() => {
        log.warn('Could not remove the session of a failed registration; it expires unused.', { username });
      });
      throw error;
    }
    await this.deps.auditor.record('registered', username, origin, {
      sessionId: opened.record.sessionId,
      ...(request.device ? { device: request.device } : {}),
    });
    return {
      username,
      session: keeper.grant(opened),
      credentials,
      storage: vendor.storage(username, usage),
      deviceToken,
    };
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
    secondFactor?: (live: LiveSession, passwordChecked: boolean) => Promise<void>,
  ): Promise<{ session: SessionGrant }> {
    const { keeper, passwords, passwordPolicy, hasher, auditor } = this.deps;
    const live = await keeper.live(sessionToken);
    const { session, user } = live;
    passwordPolicy.check(request.newPassword, { username: user.username, field: 'newPassword' });
    const passwordChecked = request.currentPassword !== undefined;
    if (request.currentPassword !== undefined) {
      // Charged to this session's own counter: a stranger's login guesses cannot block it. An
      // account without a password fails here like a wrong password (the dummy compare).
      await passwords.inSession(session, request.currentPassword, origin);
    } else if (hasPassword(user)) {
      throw new ValidationError('Give your current password (currentPassword).', 'currentPassword');
    } else if (!secondFactor) {
      // Setting a first password needs a fresh proof, which only the step-up can check.
      throw new AuthenticationError();
    }
    // A second factor, or for a first password the step-up proof (MfaService.changePassword).
    await secondFactor?.(live, passwordChecked);
    const passwordHash = await hasher.hash(request.newPassword);
    const opened = await keeper.rotate(user, passwordHash, session.device);
    await auditor.record('password_changed', user.username, origin, {
      sessionId: opened.record.sessionId,
      ...(passwordChecked ? {} : { firstPassword: 'set' }),
    });
    await keeper.removeStale(user.username, opened.record.generation);
    return { session: keeper.grant(opened) };
  }

  /**
   * Redeems an operator's one-time reset code: single use (an atomic conditional delete),
   * valid for an hour, and rate-limited by a lockout counter of its own, so a stranger who
   * locked the owner's logins does not also block the owner's recovery. Unknown and disabled
   * names take the same calls (the redemption is tried, and finds no code). Every existing
   * session is revoked; the answer is a new session with credentials, as from login.
   */
  async resetPassword(request: ResetPasswordRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { users, resetCodes, clock, hasher, lockout, passwordPolicy, passwords, keeper, vendor } = this.deps;
    const { username } = request;
    passwordPolicy.check(request.newPassword, { username, field: 'newPassword' });
    const attempts = await passwords.reserveAttempt(username, 'reset');
    const user = await users.getUser(username);
    const codeHash = hashResetCode(request.resetCode);
    const redeemed =
      (await resetCodes.redeemResetCode(username, codeHash, clock.now())) && user !== undefined && !user.disabled;
    if (!redeemed || !user) {
      await passwords.recordFailure(username, user !== undefined, attempts, origin, 'reset code', 'reset');
      throw new AuthenticationError('The username or reset code is incorrect, or the code has expired.');
    }
    let replaced;
    let credentials;
    let usage;
    try {
      await this.deps.secondFactor?.verifyForReset(user, request.secondFactor ?? {}, origin);
      const [passwordHash, counted] = await Promise.all([hasher.hash(request.newPassword), vendor.usageOf(user)]);
      usage = counted;
      // Vend before the commit, as register and login do: if STS fails, the old password stays.
      credentials = await vendor.vend(username, user.cutOffAt, usage);
      replaced = await keeper.rotate(user, passwordHash);
    } catch (error) {
      // Give the code back, so the person can try again once the backend recovers.
      await resetCodes.restoreResetCode(username, codeHash, clock.now() + RESET_CODE_TTL_MS).catch(() => undefined);
      throw error;
    }
    // Recovery ends a stranger's lock too.
    await Promise.all([lockout.clear(username, 'reset'), lockout.clear(username, UNKNOWN_DEVICE_SCOPE)]);
    await this.deps.auditor.record('reset_used', username, origin, { sessionId: replaced.record.sessionId });
    await keeper.removeStale(username, replaced.record.generation);
    return { username, session: keeper.grant(replaced), credentials, storage: vendor.storage(username, usage) };
  }
}

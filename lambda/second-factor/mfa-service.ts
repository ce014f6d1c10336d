/**
 * The second-factor endpoints that change an account's factors: TOTP and passkey enrolment
 * and removal (each after a step-up), what a user has set up, and the password change that
 * proves them. Free of HTTP and AWS.
 */
import type { AccountService } from '../accounts/account-service';
import { UNKNOWN_DEVICE_SCOPE } from '../accounts/lockout';
import type { Username } from '../accounts/username';
import type { SessionGrant } from '../contract/wire';
import type { StepUpProof } from './requests';
import type { ChangePasswordRequest } from '../accounts/requests';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import {
  AlreadyEnrolledError,
  AuthenticationError,
  NotFoundError,
  SecondFactorMissingError,
  ValidationError,
} from '../platform/errors';
import type { SessionService } from '../sessions/session-service';
import { hasSecondFactor, sessionFactorScope, type SecondFactorGate } from './gate';
import {
  PASSKEY_CEREMONY_MS,
  passkeyRegistrationOptions,
  verifyPasskeyRegistration,
  type RelyingParty,
} from './passkeys';
import type { FactorRecord, FactorStore } from './ports';
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes';
import { FACTOR_NEEDED, type IdentityProofCheck, type StepUpService } from './step-up';

/** What `POST /password` without `currentPassword` answers when it carries no proof (docs/identities.md). */
export const NO_PASSWORD_PROOF =
  'This account has no password yet: set one with a fresh ID token of a linked identity (provider and idToken), or give your current password.';
import { matchTotp, newTotpSecret, totpUri } from './totp';

/** How long a TOTP secret handed out waits for its confirming code. */
export const TOTP_PENDING_MS = 10 * 60_000;

/** What {@link MfaService} needs. */
export interface MfaServiceDependencies {
  readonly sessions: Pick<SessionService, 'authenticate'>;
  readonly accounts: Pick<AccountService, 'changePassword'>;
  readonly stepUp: StepUpService;
  readonly gate: SecondFactorGate;
  readonly factors: FactorStore;
  readonly clock: Clock;
  readonly auditor: AuditRecorder;
  /** Where passkeys are valid. */
  readonly relyingParty: RelyingParty;
}

/** `GET /mfa`: what the caller has set up. Never a secret. */
export interface FactorSummary {
  readonly totp: { readonly enrolled: boolean; readonly confirmedAt?: string };
  readonly recoveryCodesLeft: number;
  readonly passkeys: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly createdAt: string;
    readonly lastUsedAt?: string;
  }>;
}

/** Summarises a record for its owner or an operator. */
export function summariseFactors(record: FactorRecord | undefined): FactorSummary {
  return {
    totp: record?.totp
      ? { enrolled: true, confirmedAt: new Date(record.totp.confirmedAt).toISOString() }
      : { enrolled: false },
    recoveryCodesLeft: record?.recoveryCodeHashes.length ?? 0,
    passkeys: (record?.passkeys ?? []).map((passkey) => ({
      id: passkey.id,
      name: passkey.name,
      createdAt: new Date(passkey.createdAt).toISOString(),
      ...(passkey.lastUsedAt !== undefined ? { lastUsedAt: new Date(passkey.lastUsedAt).toISOString() } : {}),
    })),
  };
}

/** Setting up and removing second factors, and the password change on their behalf. */
export class MfaService {
  constructor(private readonly deps: MfaServiceDependencies) {}

  /** `GET /mfa`. */
  async factors(sessionToken: string | undefined): Promise<FactorSummary> {
    const { user } = await this.deps.sessions.authenticate(sessionToken);
    return summariseFactors(await this.deps.gate.factorsOf(user));
  }

  /**
   * `POST /mfa/totp`: after a step-up (the password, or on an account with passkeys one of
   * its factors), hands out a new secret, pending until a code from it confirms it. A second
   * TOTP while one is confirmed is a 409.
   */
  async startTotp(
    sessionToken: string | undefined,
    proof: StepUpProof,
    origin: RequestOrigin = {},
  ): Promise<{ secret: string; otpauthUri: string }> {
    const { sessions, factors, clock, auditor } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const record = await this.deps.stepUp.stepUp(live, proof, origin, 'totp start');
    if (record?.totp) throw new AlreadyEnrolledError('An authenticator app is already set up; remove it first.');
    const secret = newTotpSecret();
    await factors.putPendingTotp(user.username, user.userId, { secret, expiresAt: clock.now() + TOTP_PENDING_MS });
    await auditor.record('totp_pending', user.username, origin);
    return { secret, otpauthUri: totpUri(secret, user.username) };
  }

  /**
   * `POST /mfa/totp/confirm`: a code from the pending secret confirms it. The answer carries
   * ten recovery codes, shown once; only their hashes are stored. Wrong codes count toward
   * the factor lockout.
   */
  async confirmTotp(
    sessionToken: string | undefined,
    code: string,
    origin: RequestOrigin = {},
  ): Promise<{ recoveryCodes: string[] }> {
    const { sessions, gate, factors, clock, auditor } = this.deps;
    const { session, user } = await sessions.authenticate(sessionToken);
    const record = await gate.factorsOf(user);
    if (record?.totp) throw new AlreadyEnrolledError('An authenticator app is already set up.');
    const pending = record?.pendingTotp;
    if (!pending || pending.expiresAt <= clock.now())
      throw new NotFoundError('No authenticator app set-up is waiting; start again.');
    const scope = sessionFactorScope(session.sessionId);
    await gate.reserveAttempt(user, scope, origin);
    const step = matchTotp(pending.secret, code, clock.now(), undefined);
    if (step === undefined) {
      await auditor.record('mfa_failed', user.username, origin, { purpose: 'totp confirm', reason: 'code' });
      throw new AuthenticationError('The code is incorrect. Check the time on your device and try the next code.');
    }
    // Recovery codes go with the first factor; a user who has them already keeps theirs.
    const recoveryCodes = record.recoveryCodeHashes.length === 0 ? newRecoveryCodes() : [];
    const confirmed = await factors.confirmTotp(
      user.username,
      user.userId,
      pending.secret,
      { secret: pending.secret, confirmedAt: clock.now(), lastUsedStep: step },
      recoveryCodes.length > 0 ? recoveryCodes.map(hashRecoveryCode) : undefined,
    );
    if (!confirmed) throw new NotFoundError('No authenticator app set-up is waiting; start again.');
    await factors.clearAttempts(user.username, scope);
    await auditor.record('totp_enrolled', user.username, origin, { recoveryCodes: recoveryCodes.length });
    return { recoveryCodes };
  }

  /** `DELETE /mfa/totp`: removes the authenticator app after a step-up with a factor (a fresh code, a recovery code or a passkey). */
  async removeTotp(sessionToken: string | undefined, proof: StepUpProof, origin: RequestOrigin = {}): Promise<void> {
    const { sessions, factors, auditor } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const record = await this.deps.stepUp.stepUp(live, proof, origin, 'totp remove');
    if (!record?.totp) throw new NotFoundError('No authenticator app is set up.');
    const removed = await factors.removeTotp(user.username, user.userId, record.passkeys.length === 0);
    if (!removed) throw new NotFoundError('No authenticator app is set up.');
    await auditor.record('totp_removed', user.username, origin);
  }

  /**
   * `POST /mfa/passkeys/options`: after a step-up, WebAuthn options for registering a new
   * passkey; their challenge is kept five minutes for {@link addPasskey}.
   */
  async passkeyOptions(
    sessionToken: string | undefined,
    proof: StepUpProof,
    origin: RequestOrigin = {},
  ): Promise<unknown> {
    const { sessions, factors, clock } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const record = await this.deps.stepUp.stepUp(live, proof, origin, 'passkey options');
    const options = await passkeyRegistrationOptions(this.deps.relyingParty, user, record?.passkeys ?? []);
    await factors.putPendingPasskey(user.username, user.userId, {
      challenge: options.challenge,
      expiresAt: clock.now() + PASSKEY_CEREMONY_MS,
    });
    return options;
  }

  /**
   * `POST /mfa/passkeys`: verifies the browser's registration answer and adds the passkey.
   * The first factor of an account also brings its ten recovery codes, shown once.
   */
  async addPasskey(
    sessionToken: string | undefined,
    response: unknown,
    name: string,
    origin: RequestOrigin = {},
  ): Promise<{ id: string; name: string; recoveryCodes: string[] }> {
    const { sessions, gate, factors, clock, auditor } = this.deps;
    const { user } = await sessions.authenticate(sessionToken);
    const record = await gate.factorsOf(user);
    const pending = record?.pendingPasskey;
    if (!record || !pending || pending.expiresAt <= clock.now())
      throw new NotFoundError('No passkey registration is waiting; start again.');
    const verified = await verifyPasskeyRegistration(this.deps.relyingParty, response, pending.challenge);
    if (!verified) {
      await auditor.record('mfa_failed', user.username, origin, { purpose: 'passkey add', reason: 'passkey' });
      throw new AuthenticationError('The passkey could not be verified.');
    }
    // The authenticator chooses the id, so anyone can send any: an id is owned once, by the first account to claim it.
    if (!(await factors.claimPasskeyId(verified.id, user.username, user.userId))) {
      await auditor.record('mfa_failed', user.username, origin, { purpose: 'passkey add', reason: 'id taken' });
      throw new AlreadyEnrolledError('This passkey is already registered.');
    }
    const recoveryCodes = record.recoveryCodeHashes.length === 0 ? newRecoveryCodes() : [];
    const added = await factors.addPasskey(
      user.username,
      user.userId,
      pending.challenge,
      { ...verified, name, createdAt: clock.now() },
      recoveryCodes.length > 0 ? recoveryCodes.map(hashRecoveryCode) : undefined,
    );
    if (!added) {
      await factors.releasePasskeyId(verified.id, user.userId);
      throw new NotFoundError('No passkey registration is waiting; start again.');
    }
    await auditor.record('passkey_added', user.username, origin, {
      passkey: verified.id.slice(0, 16),
      recoveryCodes: recoveryCodes.length,
    });
    return { id: verified.id, name, recoveryCodes };
  }

  /** `DELETE /mfa/passkeys/{id}`: removes a passkey after a step-up. */
  async removePasskey(
    sessionToken: string | undefined,
    passkeyId: string,
    proof: StepUpProof,
    origin: RequestOrigin = {},
  ): Promise<void> {
    const { sessions, factors, auditor } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const known = (await this.deps.gate.factorsOf(user))?.passkeys.some((passkey) => passkey.id === passkeyId);
    // Someone else's or an unknown passkey is a 404 before any proof is spent.
    if (!known) throw new NotFoundError('No such passkey.');
    const record = await this.deps.stepUp.stepUp(live, proof, origin, 'passkey remove');
    const last = record !== undefined && !record.totp && record.passkeys.length === 1;
    if (!(await factors.removePasskey(user.username, user.userId, passkeyId, last)))
      throw new NotFoundError('No such passkey.');
    await auditor.record('passkey_removed', user.username, origin, { passkey: passkeyId.slice(0, 16) });
  }

  /**
   * The same service, whose step-up also takes a fresh ID token of a linked identity (for the
   * `POST /password` function, which verifies ID tokens: an account without a password sets
   * its first one with it).
   */
  withIdentityProof(identityProof: IdentityProofCheck): MfaService {
    return new MfaService({ ...this.deps, stepUp: this.deps.stepUp.withIdentityProof(identityProof) });
  }

  /**
   * `POST /password` on behalf of the account's factors: the current password, and on an
   * account with a second factor also that factor ({@link stepUp}), checked after the password
   * and before anything changes. An account without a password sets its first one with the
   * step-up alone: its second factor if it has one, else a fresh ID token of a linked identity.
   * A changed password ends a stranger's lock on unknown devices (the password they had is gone).
   */
  async changePassword(
    sessionToken: string | undefined,
    request: ChangePasswordRequest,
    factor: StepUpProof | undefined,
    origin: RequestOrigin = {},
  ): Promise<{ session: SessionGrant }> {
    let username: Username | undefined;
    const result = await this.deps.accounts.changePassword(sessionToken, request, origin, async (live, checked) => {
      username = live.user.username;
      const secondFactor = hasSecondFactor(await this.deps.gate.factorsOf(live.user));
      if (checked && !secondFactor) return;
      if (factor === undefined) {
        if (secondFactor) throw new SecondFactorMissingError(FACTOR_NEEDED);
        throw new ValidationError(NO_PASSWORD_PROOF, 'idToken');
      }
      // A first password (no current one to check): the step-up's rule, which takes the second
      // factor when there is one, else a fresh ID token of a linked identity.
      await this.deps.stepUp.stepUp(live, factor, origin, checked ? 'password change' : 'password set');
    });
    if (username !== undefined) await this.deps.factors.clearAttempts(username, UNKNOWN_DEVICE_SCOPE);
    return result;
  }
}

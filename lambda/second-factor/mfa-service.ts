/**
 * The second-factor endpoints' logic: TOTP enrolment and removal (with step-up), completing
 * a login with a second factor, and what a user has set up. Free of HTTP and AWS.
 */
import type { AccountService } from '../accounts/account-service';
import type { LoginTrust } from '../accounts/login-trust';
import { UNKNOWN_DEVICE_SCOPE } from '../accounts/lockout';
import type { UserRecord, UserStore } from '../accounts/ports';
import type { Username } from '../accounts/username';
import type { SessionGrant, SessionResult } from '../contract/wire';
import type { ChangePasswordRequest } from '../core/requests';
import type { CredentialVendor } from '../credentials/vending';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { AlreadyEnrolledError, AuthenticationError, NotFoundError, SecondFactorMissingError } from '../platform/errors';
import type { LiveSession, StepUpCheck } from '../sessions/ports';
import type { SessionService } from '../sessions/session-service';
import { MFA_CHALLENGE_MAX_ATTEMPTS, MFA_CHALLENGE_TTL_MS, hashChallengeToken, newChallengeToken } from './challenge';
import type { ChallengeRecord, ChallengeStore, FactorRecord, FactorStore } from './ports';
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes';
import type { MfaLoginRequest, StepUpProof } from '../core/mfa/requests';
import { hasSecondFactor, sessionFactorScope, type SecondFactorGate } from './gate';
import {
  PASSKEY_CEREMONY_MS,
  passkeyAuthenticationOptions,
  passkeyIdOf,
  passkeyRegistrationOptions,
  verifyAgainstDummyPasskey,
  verifyPasskeyRegistration,
  type RelyingParty,
} from './passkeys';
import { matchTotp, newTotpSecret, totpUri } from './totp';

/** What a step-up with the password alone answers on an account with a second factor. */
const FACTOR_NEEDED = 'This account has a second factor: confirm with a code from your authenticator app, a recovery code or a passkey, not the password alone.';

/** What a passwordless sign-in answers for every refused passkey, registered or not. */
export const PASSKEY_REFUSED_MESSAGE = 'The passkey was not accepted. Try again, or log in with your password.';

/** A name no account can have (usernames are never empty): the reads of an unknown passkey's sign-in. */
const NOBODY = '' as Username;

/** How long a TOTP secret handed out waits for its confirming code. */
export const TOTP_PENDING_MS = 10 * 60_000;

/** What {@link MfaService} needs. */
export interface MfaServiceDependencies {
  readonly sessions: Pick<SessionService, 'authenticate' | 'reauthenticate' | 'completeLogin'>;
  readonly accounts: Pick<AccountService, 'changePassword'>;
  readonly vendor: Pick<CredentialVendor, 'checkCutOff'>;
  readonly trust: Pick<LoginTrust, 'afterSecondFactor'>;
  readonly gate: SecondFactorGate;
  readonly factors: FactorStore;
  readonly challenges: ChallengeStore;
  readonly users: Pick<UserStore, 'getUser'>;
  readonly clock: Clock;
  readonly auditor: AuditRecorder;
  /** Where passkeys are valid. */
  readonly relyingParty: RelyingParty;
}

/** `GET /mfa`: what the caller has set up. Never a secret. */
export interface FactorSummary {
  readonly totp: { readonly enrolled: boolean; readonly confirmedAt?: string };
  readonly recoveryCodesLeft: number;
  readonly passkeys: ReadonlyArray<{ readonly id: string; readonly name: string; readonly createdAt: string; readonly lastUsedAt?: string }>;
}

/** Summarises a record for its owner or an operator. */
export function summariseFactors(record: FactorRecord | undefined): FactorSummary {
  return {
    totp: record?.totp ? { enrolled: true, confirmedAt: new Date(record.totp.confirmedAt).toISOString() } : { enrolled: false },
    recoveryCodesLeft: record?.recoveryCodeHashes.length ?? 0,
    passkeys: (record?.passkeys ?? []).map((passkey) => ({
      id: passkey.id,
      name: passkey.name,
      createdAt: new Date(passkey.createdAt).toISOString(),
      ...(passkey.lastUsedAt !== undefined ? { lastUsedAt: new Date(passkey.lastUsedAt).toISOString() } : {}),
    })),
  };
}

/** TOTP enrolment, second-factor login and step-up. */
export class MfaService implements StepUpCheck {
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
  async startTotp(sessionToken: string | undefined, proof: StepUpProof, origin: RequestOrigin = {}): Promise<{ secret: string; otpauthUri: string }> {
    const { sessions, factors, clock, auditor } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const record = await this.stepUp(live, proof, origin, 'totp start');
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
  async confirmTotp(sessionToken: string | undefined, code: string, origin: RequestOrigin = {}): Promise<{ recoveryCodes: string[] }> {
    const { sessions, gate, factors, clock, auditor } = this.deps;
    const { session, user } = await sessions.authenticate(sessionToken);
    const record = await gate.factorsOf(user);
    if (record?.totp) throw new AlreadyEnrolledError('An authenticator app is already set up.');
    const pending = record?.pendingTotp;
    if (!pending || pending.expiresAt <= clock.now()) throw new NotFoundError('No authenticator app set-up is waiting; start again.');
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
    const record = await this.stepUp(live, proof, origin, 'totp remove');
    if (!record?.totp) throw new NotFoundError('No authenticator app is set up.');
    const removed = await factors.removeTotp(user.username, user.userId, record.passkeys.length === 0);
    if (!removed) throw new NotFoundError('No authenticator app is set up.');
    await auditor.record('totp_removed', user.username, origin);
  }

  /**
   * `POST /login/mfa`: answers a login challenge with a TOTP or recovery code. The challenge
   * takes at most {@link MFA_CHALLENGE_MAX_ATTEMPTS} answers, lives five minutes, and is used
   * once; wrong codes also count toward the factor counter of the device the password came
   * from (its own for a trusted device, else the unknown devices'), never another device's.
   * Completing it trusts the device (a new device token in the answer).
   */
  async completeLogin(request: MfaLoginRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { challenge, user } = await this.takeChallenge(request.challenge);
    if (challenge.kind === 'passkey') throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    // A login that could vend nothing yet (a cut-off ahead) is a 503 before the code is spent.
    this.deps.vendor.checkCutOff(user);
    // A passkey answer must sign the WebAuthn challenge this login challenge was issued with.
    const proof = request.passkey !== undefined ? { passkey: { response: request.passkey, challenge: challenge.webauthnChallenge ?? '' } } : request.proof;
    await this.deps.gate.verify(user, proof, origin, 'login', challenge.lockoutScope ?? UNKNOWN_DEVICE_SCOPE);
    const method = proof.passkey ? 'passkey' : proof.code !== undefined ? 'totp' : 'recovery_code';
    const result = await this.finishLogin(request.challenge, user, challenge.device, origin, method);
    const deviceToken = await this.deps.trust.afterSecondFactor(user, challenge.trustedDeviceHash);
    return { ...result, ...(deviceToken !== undefined ? { deviceToken } : {}) };
  }

  /**
   * `POST /mfa/passkeys/options`: after a step-up, WebAuthn options for registering a new
   * passkey; their challenge is kept five minutes for {@link addPasskey}.
   */
  async passkeyOptions(sessionToken: string | undefined, proof: StepUpProof, origin: RequestOrigin = {}): Promise<unknown> {
    const { sessions, factors, clock } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const record = await this.stepUp(live, proof, origin, 'passkey options');
    const options = await passkeyRegistrationOptions(this.deps.relyingParty, user, record?.passkeys ?? []);
    await factors.putPendingPasskey(user.username, user.userId, { challenge: options.challenge, expiresAt: clock.now() + PASSKEY_CEREMONY_MS });
    return options;
  }

  /**
   * `POST /mfa/passkeys`: verifies the browser's registration answer and adds the passkey.
   * The first factor of an account also brings its ten recovery codes, shown once.
   */
  async addPasskey(sessionToken: string | undefined, response: unknown, name: string, origin: RequestOrigin = {}): Promise<{ id: string; name: string; recoveryCodes: string[] }> {
    const { sessions, gate, factors, clock, auditor } = this.deps;
    const { user } = await sessions.authenticate(sessionToken);
    const record = await gate.factorsOf(user);
    const pending = record?.pendingPasskey;
    if (!record || !pending || pending.expiresAt <= clock.now()) throw new NotFoundError('No passkey registration is waiting; start again.');
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
    await auditor.record('passkey_added', user.username, origin, { passkey: verified.id.slice(0, 16), recoveryCodes: recoveryCodes.length });
    return { id: verified.id, name, recoveryCodes };
  }

  /**
   * `POST /login/passkey/options`: a passwordless sign-in starts with WebAuthn options for any
   * passkey of this site, and a challenge (five minutes, three answers) that keeps their
   * WebAuthn challenge. Nothing about any user is read or revealed.
   */
  async passkeyLoginOptions(): Promise<{ challenge: { token: string; expiresAt: string }; passkeyOptions: unknown }> {
    const { challenges, clock } = this.deps;
    const passkeyOptions = await passkeyAuthenticationOptions(this.deps.relyingParty, []);
    const expiresAt = clock.now() + MFA_CHALLENGE_TTL_MS;
    const { token, tokenHash } = newChallengeToken();
    await challenges.putChallenge({ tokenHash, username: '' as UserRecord['username'], userId: '', generation: 0, expiresAt, attempts: 0, kind: 'passkey', webauthnChallenge: passkeyOptions.challenge });
    return { challenge: { token, expiresAt: new Date(expiresAt).toISOString() }, passkeyOptions };
  }

  /**
   * `POST /login/passkey`: a passkey alone signs in, if it verified the person (PIN or
   * biometrics): it is then two factors in one device. The passkey's owner comes from its
   * credential id. A refused answer spends only the challenge (three answers), never its
   * owner's factor counter: it proves nothing, and a stranger must not lock the owner out.
   * Registered and unknown ids take the same reads, one signature check (against a dummy key
   * for an unknown id) and the same refusal, so the answer reveals no registration.
   */
  async passkeyLogin(token: string, credential: unknown, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { challenges, factors, users, clock, gate, auditor, relyingParty } = this.deps;
    const refused = () => new AuthenticationError(PASSKEY_REFUSED_MESSAGE);
    const challenge = await challenges.takeChallengeAttempt(hashChallengeToken(token), MFA_CHALLENGE_MAX_ATTEMPTS, clock.now());
    if (!challenge || challenge.kind !== 'passkey' || !challenge.webauthnChallenge) throw refused();
    const passkeyId = passkeyIdOf(credential);
    const owner = passkeyId === undefined ? undefined : await factors.passkeyOwner(passkeyId);
    const found = await users.getUser(owner?.username ?? NOBODY);
    const user = owner && found && !found.disabled && found.userId === owner.userId ? found : undefined;
    const stored = await factors.getFactors(user?.username ?? NOBODY);
    const record = user && stored?.userId === user.userId ? stored : undefined;
    const answer = { response: credential, challenge: challenge.webauthnChallenge, userVerification: true };
    const accepted = user && record ? await gate.checkPasskey(user, record, answer) : ((await verifyAgainstDummyPasskey(relyingParty, credential, answer.challenge, true)) ?? false);
    if (!accepted || !user) {
      const details = { purpose: 'passkey login', reason: 'passkey' };
      if (user) await auditor.record('mfa_failed', user.username, origin, details);
      else await auditor.recordUnregistered('mfa_failed', NOBODY, origin, details);
      throw refused();
    }
    // Only now, with the passkey proven: a 503 while a cut-off lies ahead, so the answer for an
    // unknown id and a registered one stays the same.
    this.deps.vendor.checkCutOff(user);
    return this.finishLogin(token, user, undefined, origin, 'passkey (passwordless)');
  }

  /** `DELETE /mfa/passkeys/{id}`: removes a passkey after a step-up. */
  async removePasskey(sessionToken: string | undefined, passkeyId: string, proof: StepUpProof, origin: RequestOrigin = {}): Promise<void> {
    const { sessions, factors, auditor } = this.deps;
    const live = await sessions.authenticate(sessionToken);
    const { user } = live;
    const known = (await this.deps.gate.factorsOf(user))?.passkeys.some((passkey) => passkey.id === passkeyId);
    // Someone else's or an unknown passkey is a 404 before any proof is spent.
    if (!known) throw new NotFoundError('No such passkey.');
    const record = await this.stepUp(live, proof, origin, 'passkey remove');
    const last = record !== undefined && !record.totp && record.passkeys.length === 1;
    if (!(await factors.removePasskey(user.username, user.userId, passkeyId, last))) throw new NotFoundError('No such passkey.');
    await auditor.record('passkey_removed', user.username, origin, { passkey: passkeyId.slice(0, 16) });
  }

  /**
   * `POST /password` on behalf of the account's factors: the current password always, and on
   * an account with a second factor also that factor ({@link stepUp}), checked after the
   * password and before anything changes. A changed password ends a stranger's lock on
   * unknown devices (the password they had is gone).
   */
  async changePassword(sessionToken: string | undefined, request: ChangePasswordRequest, factor: StepUpProof | undefined, origin: RequestOrigin = {}): Promise<{ session: SessionGrant }> {
    let username: Username | undefined;
    const result = await this.deps.accounts.changePassword(sessionToken, request, origin, async (live) => {
      username = live.user.username;
      if (!hasSecondFactor(await this.deps.gate.factorsOf(live.user))) return;
      if (factor === undefined) throw new SecondFactorMissingError(FACTOR_NEEDED);
      await this.stepUp(live, factor, origin, 'password change');
    });
    if (username !== undefined) await this.deps.factors.clearAttempts(username, UNKNOWN_DEVICE_SCOPE);
    return result;
  }

  /**
   * Step-up, the one place its rule lives (every route that changes factors, sessions, the
   * password or the account calls it): on an account with a second factor, a fresh factor (a
   * code, a recovery code or a passkey of this account) under this session's own factor
   * counter, never the password alone (ASVS 7.5.1 asks for the factors the account has); on
   * an account without one, the current password under this session's password counter.
   * Returns the user's factors (read again after a recovery code was spent).
   */
  async stepUp(live: LiveSession, proof: StepUpProof, origin: RequestOrigin, purpose: string): Promise<FactorRecord | undefined> {
    const { user, session } = live;
    const { gate, auditor } = this.deps;
    const record = await gate.factorsOf(user);
    const scope = sessionFactorScope(session.sessionId);
    if ('currentPassword' in proof) {
      if (hasSecondFactor(record)) {
        await auditor.record('mfa_failed', user.username, origin, { purpose, reason: 'password alone' });
        throw new SecondFactorMissingError(FACTOR_NEEDED);
      }
      await this.deps.sessions.reauthenticate(session, proof.currentPassword, origin);
      return record;
    }
    if ('passkeyAssertion' in proof) {
      const { challenge: token, response } = proof.passkeyAssertion;
      const challenge = await this.deps.challenges.takeChallengeAttempt(hashChallengeToken(token), MFA_CHALLENGE_MAX_ATTEMPTS, this.deps.clock.now());
      if (!challenge || challenge.kind !== 'passkey' || !challenge.webauthnChallenge) throw new AuthenticationError('The passkey challenge has expired; ask for a new one.');
      await gate.verify(user, { passkey: { response, challenge: challenge.webauthnChallenge, userVerification: true } }, origin, purpose, scope, record);
      // Used once: the same answer cannot prove another change, even sent to two routes at once.
      if (!(await this.deps.challenges.consumeChallenge(hashChallengeToken(token)))) {
        throw new AuthenticationError('The passkey challenge has expired; ask for a new one.');
      }
      return record;
    }
    await gate.verify(user, proof, origin, purpose, scope, record);
    // A recovery code used for step-up is gone: read again so the caller sees what is left.
    return proof.recoveryCode !== undefined ? gate.factorsOf(user) : record;
  }

  /** Counts one answer to a challenge; the challenge's user if it is still usable. */
  async takeChallenge(token: string): Promise<{ challenge: ChallengeRecord; user: UserRecord }> {
    const { challenges, users, clock } = this.deps;
    const challenge = await challenges.takeChallengeAttempt(hashChallengeToken(token), MFA_CHALLENGE_MAX_ATTEMPTS, clock.now());
    if (!challenge) throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    const user = challenge.username === '' ? undefined : await users.getUser(challenge.username);
    // A password change, reset or disable since the password was checked voids the challenge.
    if (!user || user.disabled || user.userId !== challenge.userId || user.sessionGeneration !== challenge.generation) {
      throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    }
    return { challenge, user };
  }

  /** Uses the challenge up (only one answer can) and opens the session. */
  async finishLogin(token: string, user: UserRecord, device: string | undefined, origin: RequestOrigin, method: string): Promise<SessionResult> {
    if (!(await this.deps.challenges.consumeChallenge(hashChallengeToken(token)))) {
      throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    }
    return this.deps.sessions.completeLogin(user, device, origin, { method });
  }
}

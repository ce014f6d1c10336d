/**
 * Signing in with a second factor: answering a login's challenge with a code or a passkey, and
 * the passwordless sign-in with a passkey alone. Free of HTTP and AWS.
 */
import type { LoginTrust } from '../accounts/login-trust';
import type { UserRecord, UserStore } from '../accounts/ports';
import type { Username } from '../accounts/username';
import type { SessionResult } from '../contract/wire';
import type { MfaLoginRequest } from './requests';
import type { CredentialVendor } from '../credentials/vending';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { AuthenticationError } from '../platform/errors';
import type { SessionService } from '../sessions/session-service';
import { UNKNOWN_DEVICE_SCOPE } from '../accounts/lockout';
import { MFA_CHALLENGE_MAX_ATTEMPTS, MFA_CHALLENGE_TTL_MS, hashChallengeToken, newChallengeToken } from './challenge';
import type { SecondFactorGate } from './gate';
import { passkeyAuthenticationOptions, passkeyIdOf, verifyAgainstDummyPasskey, type RelyingParty } from './passkeys';
import type { ChallengeRecord, ChallengeStore, FactorStore } from './ports';

/** What a passwordless sign-in answers for every refused passkey, registered or not. */
export const PASSKEY_REFUSED_MESSAGE = 'The passkey was not accepted. Try again, or log in with your password.';

/** A name no account can have (usernames are never empty): the reads of an unknown passkey's sign-in. */
const NOBODY = '' as Username;

/** What {@link SecondFactorLogin} needs. */
export interface SecondFactorLoginDependencies {
  readonly sessions: Pick<SessionService, 'completeLogin'>;
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

/** `POST /login/mfa`, `POST /login/passkey/options` and `POST /login/passkey`. */
export class SecondFactorLogin {
  constructor(private readonly deps: SecondFactorLoginDependencies) {}

  /**
   * `POST /login/mfa`: answers a login challenge with a TOTP or recovery code. The challenge
   * takes at most {@link MFA_CHALLENGE_MAX_ATTEMPTS} answers, lives five minutes, and is used
   * once; wrong codes also count toward the factor counter of the device the password came
   * from (its own for a trusted device, else the unknown devices'), never another device's.
   * Completing it trusts the device (a new device token in the answer).
   */
  async completeLogin(request: MfaLoginRequest, origin: RequestOrigin = {}): Promise<SessionResult> {
    const { challenge, user } = await this.takeChallenge(request.challenge);
    if (challenge.kind === 'passkey')
      throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    // A login that could vend nothing yet (a cut-off ahead) is a 503 before the code is spent.
    this.deps.vendor.checkCutOff(user);
    // A passkey answer must sign the WebAuthn challenge this login challenge was issued with.
    const proof =
      request.passkey !== undefined
        ? { passkey: { response: request.passkey, challenge: challenge.webauthnChallenge ?? '' } }
        : request.proof;
    await this.deps.gate.verify(user, proof, origin, 'login', challenge.lockoutScope ?? UNKNOWN_DEVICE_SCOPE);
    const method = proof.passkey ? 'passkey' : proof.code !== undefined ? 'totp' : 'recovery_code';
    const result = await this.finishLogin(request.challenge, user, challenge.device, origin, method);
    const deviceToken = await this.deps.trust.afterSecondFactor(user, challenge.trustedDeviceHash);
    return { ...result, ...(deviceToken !== undefined ? { deviceToken } : {}) };
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
    await challenges.putChallenge({
      tokenHash,
      username: '' as UserRecord['username'],
      userId: '',
      generation: 0,
      expiresAt,
      attempts: 0,
      kind: 'passkey',
      webauthnChallenge: passkeyOptions.challenge,
    });
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
    const challenge = await challenges.takeChallengeAttempt(
      hashChallengeToken(token),
      MFA_CHALLENGE_MAX_ATTEMPTS,
      clock.now(),
    );
    if (!challenge || challenge.kind !== 'passkey' || !challenge.webauthnChallenge) throw refused();
    const passkeyId = passkeyIdOf(credential);
    const owner = passkeyId === undefined ? undefined : await factors.passkeyOwner(passkeyId);
    const found = await users.getUser(owner?.username ?? NOBODY);
    const user = owner && found && !found.disabled && found.userId === owner.userId ? found : undefined;
    const stored = await factors.getFactors(user?.username ?? NOBODY);
    const record = user && stored?.userId === user.userId ? stored : undefined;
    const answer = { response: credential, challenge: challenge.webauthnChallenge, userVerification: true };
    const accepted =
      user && record
        ? await gate.checkPasskey(user, record, answer)
        : ((await verifyAgainstDummyPasskey(relyingParty, credential, answer.challenge, true)) ?? false);
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

  /** Counts one answer to a challenge; the challenge's user if it is still usable. */
  async takeChallenge(token: string): Promise<{ challenge: ChallengeRecord; user: UserRecord }> {
    const { challenges, users, clock } = this.deps;
    const challenge = await challenges.takeChallengeAttempt(
      hashChallengeToken(token),
      MFA_CHALLENGE_MAX_ATTEMPTS,
      clock.now(),
    );
    if (!challenge) throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    const user = challenge.username === '' ? undefined : await users.getUser(challenge.username);
    // A password change, reset or disable since the password was checked voids the challenge.
    if (!user || user.disabled || user.userId !== challenge.userId || user.sessionGeneration !== challenge.generation) {
      throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    }
    return { challenge, user };
  }

  /** Uses the challenge up (only one answer can) and opens the session. */
  async finishLogin(
    token: string,
    user: UserRecord,
    device: string | undefined,
    origin: RequestOrigin,
    method: string,
  ): Promise<SessionResult> {
    if (!(await this.deps.challenges.consumeChallenge(hashChallengeToken(token)))) {
      throw new AuthenticationError('The sign-in has expired or was tried too often. Log in again.');
    }
    return this.deps.sessions.completeLogin(user, device, origin, { method });
  }
}

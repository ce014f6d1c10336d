/**
 * Step-up, the one place its rule lives: every route that changes factors, sessions, the
 * password or the account asks it before the change. Free of HTTP and AWS.
 */
import type { Clock } from '../platform/clock';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import { AuthenticationError, SecondFactorMissingError, ValidationError } from '../platform/errors';
import type { UserRecord } from '../accounts/ports';
import type { StepUpProof } from './requests';
import type { LiveSession, StepUpCheck } from '../sessions/ports';
import type { PasswordCheck } from '../accounts/password-check';
import { MFA_CHALLENGE_MAX_ATTEMPTS, hashChallengeToken } from './challenge';
import { hasSecondFactor, sessionFactorScope, type SecondFactorGate } from './gate';
import type { ChallengeStore, FactorRecord } from './ports';

/** What a step-up with the password alone answers on an account with a second factor. */
export const FACTOR_NEEDED =
  'This account has a second factor: confirm with a code from your authenticator app, a recovery code or a passkey, not the password alone.';

/** What {@link StepUpService} needs. */
export interface StepUpDependencies {
  readonly passwords: Pick<PasswordCheck, 'inSession'>;
  readonly gate: SecondFactorGate;
  readonly challenges: ChallengeStore;
  readonly clock: Clock;
  readonly auditor: AuditRecorder;
  /**
   * Checks a fresh ID token of an identity linked to the account (lambda/identities/); only
   * the functions that verify ID tokens have it (they load jose), see {@link StepUpService.withIdentityProof}.
   */
  readonly identityProof?: IdentityProofCheck;
}

/** Proves a linked identity with a fresh ID token; throws AuthenticationError otherwise. */
export interface IdentityProofCheck {
  proveLinkedIdentity(user: UserRecord, provider: string, idToken: string, origin: RequestOrigin): Promise<void>;
}

/** Proves, inside a live session, that the person is the account's owner right now. */
export class StepUpService implements StepUpCheck {
  constructor(private readonly deps: StepUpDependencies) {}

  /** The same step-up, also taking an ID token of a linked identity (the functions that verify ID tokens). */
  withIdentityProof(identityProof: IdentityProofCheck): StepUpService {
    return new StepUpService({ ...this.deps, identityProof });
  }

  /**
   * Step-up, the one place its rule lives (every route that changes factors, sessions, the
   * password or the account calls it): on an account with a second factor, a fresh factor (a
   * code, a recovery code or a passkey of this account) under this session's own factor
   * counter, never the password alone (ASVS 7.5.1 asks for the factors the account has); on
   * an account without one, the current password under this session's password counter.
   * Returns the user's factors (read again after a recovery code was spent).
   */
  async stepUp(
    live: LiveSession,
    proof: StepUpProof,
    origin: RequestOrigin,
    purpose: string,
  ): Promise<FactorRecord | undefined> {
    const { user, session } = live;
    const { gate, auditor } = this.deps;
    const record = await gate.factorsOf(user);
    const scope = sessionFactorScope(session.sessionId);
    if ('currentPassword' in proof) {
      if (hasSecondFactor(record)) {
        await auditor.record('mfa_failed', user.username, origin, { purpose, reason: 'password alone' });
        throw new SecondFactorMissingError(FACTOR_NEEDED);
      }
      await this.deps.passwords.inSession(session, proof.currentPassword, origin);
      return record;
    }
    if ('identityToken' in proof) {
      // Like the password: the first factor of an account without one, never a stand-in for its second factor.
      if (hasSecondFactor(record)) {
        await auditor.record('mfa_failed', user.username, origin, { purpose, reason: 'identity alone' });
        throw new SecondFactorMissingError(FACTOR_NEEDED);
      }
      if (!this.deps.identityProof)
        throw new ValidationError(
          'This route does not take an ID token as confirmation: give the current password or a second factor.',
          'idToken',
        );
      await this.deps.identityProof.proveLinkedIdentity(
        user,
        proof.identityToken.provider,
        proof.identityToken.idToken,
        origin,
      );
      return record;
    }
    if ('passkeyAssertion' in proof) {
      const { challenge: token, response } = proof.passkeyAssertion;
      const challenge = await this.deps.challenges.takeChallengeAttempt(
        hashChallengeToken(token),
        MFA_CHALLENGE_MAX_ATTEMPTS,
        this.deps.clock.now(),
      );
      if (!challenge || challenge.kind !== 'passkey' || !challenge.webauthnChallenge)
        throw new AuthenticationError('The passkey challenge has expired; ask for a new one.');
      await gate.verify(
        user,
        { passkey: { response, challenge: challenge.webauthnChallenge, userVerification: true } },
        origin,
        purpose,
        scope,
        record,
      );
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
}

/**
 * The second-factor rules shared by login, password reset and step-up: who has a factor,
 * checking a TOTP or recovery code under the factor lockout, and issuing login challenges.
 */
import { hashDeviceToken, isTrustedDevice, loginLockoutScope } from '../accounts/device-trust';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from '../accounts/lockout';
import type { UserRecord } from '../accounts/ports';
import type { MfaChallengeResult, MfaMethod } from '../contract/wire';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import type { TvmConfig } from '../platform/config';
import { AuthenticationError, SecondFactorMissingError, TooManyAttemptsError } from '../platform/errors';
import type { SecondFactorChallenger } from '../sessions/ports';
import { MFA_CHALLENGE_TTL_MS, newChallengeToken } from './challenge';
import type { ChallengeStore, FactorRecord, FactorStore, SecondFactorProof } from './ports';
import { hashRecoveryCode, normaliseRecoveryCode } from './recovery-codes';
import {
  passkeyAuthenticationOptions,
  passkeyIdOf,
  passkeyUserHandleOf,
  verifyAgainstDummyPasskey,
  verifyPasskeyAuthentication,
  type RelyingParty,
} from './passkeys';
import { matchTotp } from './totp';

/** What {@link SecondFactorGate} needs. */
export interface SecondFactorDependencies {
  readonly factors: FactorStore;
  readonly challenges: ChallengeStore;
  readonly clock: Clock;
  readonly config: Pick<TvmConfig, 'lockoutThreshold' | 'lockoutMinutes'>;
  readonly auditor: AuditRecorder;
  /** Where passkeys are valid. */
  readonly relyingParty: RelyingParty;
}

/** How often a lost compare-and-set on the factor counter is retried before giving up. */
const MAX_COUNTER_RACES = 3;

/**
 * Consecutive failures one factor counter takes before it refuses every answer (NIST SP
 * 800-63B 5.2.2: at most 100 on one account). A success on that counter restarts the count;
 * otherwise only a password change or reset, an operator's `mfa reset`, or
 * {@link FACTOR_COUNTER_MEMORY_MS} without an attempt does (docs/mfa.md).
 */
export const FACTOR_CONSECUTIVE_LIMIT = 100;
/** How long a factor counter (and with it the consecutive count) is kept after its last attempt. */
export const FACTOR_COUNTER_MEMORY_MS = 30 * 24 * 60 * 60_000;

/** The factor counter a step-up in a session is charged to: that session's own. */
export function sessionFactorScope(sessionId: string): LockoutScope {
  return `session:${sessionId}`;
}

/** Whether a record holds a factor that login must ask for. */
export function hasSecondFactor(record: FactorRecord | undefined): record is FactorRecord {
  return record !== undefined && (record.totp !== undefined || record.passkeys.length > 0);
}

/** The methods a user can answer a challenge with. */
export function methodsOf(record: FactorRecord): MfaMethod[] {
  return [
    ...(record.totp ? (['totp'] as const) : []),
    ...(record.recoveryCodeHashes.length > 0 ? (['recovery_code'] as const) : []),
    ...(record.passkeys.length > 0 ? (['passkey'] as const) : []),
  ];
}

/** Checks second factors; every failure is audited and counted toward the factor lockout. */
export class SecondFactorGate implements SecondFactorChallenger {
  constructor(private readonly deps: SecondFactorDependencies) {}

  /** The user's factors, if they belong to this registration. */
  async factorsOf(user: UserRecord): Promise<FactorRecord | undefined> {
    const record = await this.deps.factors.getFactors(user.username);
    return record?.userId === user.userId ? record : undefined;
  }

  /**
   * Called by login once the password is right: for a user with a factor, stores a challenge
   * and returns what the login answers instead of a session; otherwise undefined. The
   * challenge remembers which factor counter its answers are charged to: the device's own
   * when the login presented a device token the account trusts, else the unknown devices'
   * one. No device token is issued here: only a completed second factor earns one.
   */
  async challengeIfEnrolled(
    user: UserRecord,
    device: string | undefined,
    origin: RequestOrigin,
    sentDeviceToken?: string,
  ): Promise<MfaChallengeResult | undefined> {
    const record = await this.factorsOf(user);
    if (!hasSecondFactor(record)) return undefined;
    const expiresAt = this.deps.clock.now() + MFA_CHALLENGE_TTL_MS;
    const { token, tokenHash } = newChallengeToken();
    const trusted = isTrustedDevice(user, sentDeviceToken);
    // A user with passkeys gets WebAuthn options whose challenge this login challenge keeps.
    const passkeyOptions =
      record.passkeys.length > 0
        ? await passkeyAuthenticationOptions(this.deps.relyingParty, record.passkeys)
        : undefined;
    await this.deps.challenges.putChallenge({
      ...(passkeyOptions ? { webauthnChallenge: passkeyOptions.challenge } : {}),
      tokenHash,
      username: user.username,
      userId: user.userId,
      generation: user.sessionGeneration,
      expiresAt,
      attempts: 0,
      kind: 'login',
      lockoutScope: loginLockoutScope(user, sentDeviceToken),
      ...(trusted && sentDeviceToken !== undefined ? { trustedDeviceHash: hashDeviceToken(sentDeviceToken) } : {}),
      ...(device !== undefined ? { device } : {}),
    });
    await this.deps.auditor.record('mfa_challenge', user.username, origin, { methods: methodsOf(record).join(',') });
    return {
      mfaRequired: true,
      challenge: { token, expiresAt: new Date(expiresAt).toISOString() },
      methods: methodsOf(record),
      ...(passkeyOptions ? { passkeyOptions } : {}),
    };
  }

  /**
   * A password reset for a user with a second factor must prove it too, so a reset code
   * alone never bypasses it. Without a factor this does nothing.
   */
  async verifyForReset(user: UserRecord, proof: SecondFactorProof, origin: RequestOrigin): Promise<void> {
    const record = await this.factorsOf(user);
    if (!hasSecondFactor(record)) return;
    if (proof.code === undefined && proof.recoveryCode === undefined) {
      await this.deps.auditor.record('mfa_failed', user.username, origin, { purpose: 'reset', reason: 'missing' });
      throw new SecondFactorMissingError();
    }
    await this.verify(user, proof, origin, 'reset', 'reset', record);
    // The reset code and a factor prove the owner: a stranger's lock on unknown devices ends.
    await this.deps.factors.clearAttempts(user.username, UNKNOWN_DEVICE_SCOPE);
  }

  /**
   * Checks a TOTP code, recovery code or passkey answer under the factor counter `scope`
   * (the login's device, the session's, or the reset's; see {@link LockoutScope}): an attempt
   * is taken atomically before the check, so parallel guesses get at most `lockoutThreshold`
   * per window on that counter, and never spend another counter. A TOTP code is accepted once
   * (its time step is recorded with a compare-and-set); a recovery code is deleted as it is used.
   * @throws AuthenticationError for a wrong or reused code; TooManyAttemptsError while locked.
   */
  async verify(
    user: UserRecord,
    proof: SecondFactorProof,
    origin: RequestOrigin,
    purpose: string,
    scope: LockoutScope,
    known?: FactorRecord,
  ): Promise<void> {
    const { factors, clock, auditor } = this.deps;
    const record = known ?? (await this.factorsOf(user));
    if (!record) {
      await auditor.record('mfa_failed', user.username, origin, { purpose, reason: 'not enrolled' });
      throw new AuthenticationError('The code is incorrect.');
    }
    await this.reserveAttempt(user, scope, origin);
    let method: MfaMethod | undefined;
    if (proof.code !== undefined && record.totp) {
      const step = matchTotp(record.totp.secret, proof.code, clock.now(), record.totp.lastUsedStep);
      if (step !== undefined && (await factors.useTotpStep(user.username, user.userId, step))) method = 'totp';
    } else if (proof.passkey !== undefined) {
      if (await this.checkPasskey(user, record, proof.passkey)) method = 'passkey';
    } else if (proof.recoveryCode !== undefined) {
      const normalised = normaliseRecoveryCode(proof.recoveryCode);
      const hash = normalised === undefined ? undefined : hashRecoveryCode(normalised);
      if (
        hash !== undefined &&
        record.recoveryCodeHashes.includes(hash) &&
        (await factors.redeemRecoveryCode(user.username, user.userId, hash))
      ) {
        method = 'recovery_code';
      }
    }
    if (method === undefined) {
      const reason =
        proof.passkey !== undefined ? 'passkey' : proof.recoveryCode !== undefined ? 'recovery code' : 'code';
      await auditor.record('mfa_failed', user.username, origin, { purpose, reason });
      throw new AuthenticationError('The code is incorrect.');
    }
    await factors.clearAttempts(user.username, scope);
    if (method === 'recovery_code') {
      await auditor.record('recovery_code_used', user.username, origin, {
        purpose,
        left: record.recoveryCodeHashes.length - 1,
      });
    }
  }

  /**
   * Whether a passkey answer is a registered passkey's signature over the challenge, from this
   * registration (a `userHandle`, when sent, must name it), with a signature counter that grew
   * (authenticators without a counter send 0 every time). Records the use. An id the record
   * does not hold is checked against a dummy key: the same work, the same refusal.
   */
  async checkPasskey(
    user: UserRecord,
    record: FactorRecord,
    answer: NonNullable<SecondFactorProof['passkey']>,
  ): Promise<boolean> {
    const { relyingParty, factors, clock } = this.deps;
    const requireUv = answer.userVerification === true;
    const passkey = record.passkeys.find((candidate) => candidate.id === passkeyIdOf(answer.response));
    if (!passkey)
      return (await verifyAgainstDummyPasskey(relyingParty, answer.response, answer.challenge, requireUv)) ?? false;
    const counter = await verifyPasskeyAuthentication(
      relyingParty,
      answer.response,
      answer.challenge,
      passkey,
      requireUv,
    );
    if (counter === undefined || ((counter > 0 || passkey.counter > 0) && counter <= passkey.counter)) return false;
    // Checked after the signature, so a wrong handle costs what a wrong signature does.
    const handle = passkeyUserHandleOf(answer.response);
    if (handle !== undefined && handle !== user.userId) return false;
    return factors.usePasskey(user.username, user.userId, passkey.id, counter, clock.now());
  }

  /**
   * Takes one attempt on the user's factor counter `scope`, or throws TooManyAttemptsError
   * (each refusal audited): `lockoutThreshold` per window of `lockoutMinutes`, and
   * {@link FACTOR_CONSECUTIVE_LIMIT} in a row without a success.
   */
  async reserveAttempt(user: UserRecord, scope: LockoutScope, origin: RequestOrigin): Promise<void> {
    const { factors, clock, config, auditor } = this.deps;
    const windowMs = config.lockoutMinutes * 60_000;
    const limits = { perWindow: config.lockoutThreshold, consecutive: FACTOR_CONSECUTIVE_LIMIT };
    const refuse = async (until: number, now: number, reason: string) => {
      await auditor.record('mfa_locked', user.username, origin, {
        until: new Date(until).toISOString(),
        counter: scope,
        reason,
      });
      return new TooManyAttemptsError(Math.max(1, Math.ceil((until - now) / 1000)));
    };
    for (let race = 0; race < MAX_COUNTER_RACES; race++) {
      const now = clock.now();
      const keepUntil = now + FACTOR_COUNTER_MEMORY_MS;
      const result = await factors.tryReserveAttempt(user.username, scope, limits, now, now + windowMs, keepUntil);
      if (result.reserved) return;
      const state = result.state;
      // Gone between the two reads (a success cleared it): try again.
      if (state === undefined) continue;
      const stale = state.keepUntil <= now;
      if (!stale && state.consecutive >= limits.consecutive) throw await refuse(state.keepUntil, now, 'consecutive');
      if (!stale && state.windowEndsAt > now) throw await refuse(state.windowEndsAt, now, 'window');
      if (
        await factors.restartAttempts(
          user.username,
          scope,
          state.windowEndsAt,
          now + windowMs,
          keepUntil,
          limits.consecutive,
          stale,
        )
      )
        return;
    }
    throw new TooManyAttemptsError(Math.ceil(windowMs / 1000));
  }
}

/**
 * Second factors from an app: answering a login's challenge, and setting up or removing an
 * authenticator app (TOTP) with step-up. The contract is the server's docs/mfa.md.
 *
 * ```ts
 * try {
 *   await client.login(username, password);
 * } catch (error) {
 *   if (!(error instanceof SecondFactorRequiredError) || !error.challenge) throw error;
 *   await new TvmMfa(client).completeLogin(error.challenge, { code: '123456' });
 * }
 * ```
 */
import { UnexpectedResponseError, type MfaChallenge } from './errors';
import type { RequestPlan, SessionResult } from './types';

/** A second factor as a person gives it: a code from the app, or one recovery code. */
export type SecondFactor = { readonly code: string } | { readonly recoveryCode: string };

/** A login's second factor: also a passkey's answer (`startAuthentication` of @simplewebauthn/browser) to `challenge.passkeyOptions`. */
export type LoginFactor = SecondFactor | { readonly passkey: object };

/**
 * A passkey as proof for a sensitive change: the browser's answer (`startAuthentication` of
 * @simplewebauthn/browser) to the options {@link TvmMfa.passkeyStepUpOptions} gave, with their challenge.
 */
export interface PasskeyStepUp {
  readonly passkey: object;
  readonly challenge: { readonly token: string };
}

/**
 * Proof for a sensitive change (a factor added or removed, another session ended, the
 * password changed): on an account with a second factor, a code, a recovery code or a
 * passkey, since the password alone is refused (`SecondFactorRequiredError`); on an account
 * without one, the current password.
 */
export type StepUp = { readonly currentPassword: string } | SecondFactor | PasskeyStepUp;

/** The request body fields of a step-up (a passkey answer travels as JSON text: the route models hold strings). */
export function stepUpBody(stepUp: StepUp): Record<string, string> {
  if ('passkey' in stepUp) return { challenge: stepUp.challenge.token, passkey: JSON.stringify(stepUp.passkey) };
  return { ...stepUp };
}

/** `GET /mfa`: what this user has set up. */
export interface MfaStatus {
  readonly totp: { readonly enrolled: boolean; readonly confirmedAt?: string };
  readonly recoveryCodesLeft: number;
  readonly passkeys: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly createdAt: string;
    readonly lastUsedAt?: string;
  }>;
}

/** A TOTP secret handed out for setting up an authenticator app; show `otpauthUri` as a QR code. */
export interface TotpEnrolment {
  /** Base32, for typing into an app by hand. */
  readonly secret: string;
  /** `otpauth://totp/...`, for a QR code. */
  readonly otpauthUri: string;
}

function record(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null)
    throw new UnexpectedResponseError(`The token vending machine sent a malformed ${what}.`);
  return body as Record<string, unknown>;
}

/**
 * A registration answer as JSON text, without the copies of the public key and authenticator
 * data that browsers add for convenience (the attestation object holds both), so it fits the
 * API's 4 KiB body limit.
 */
function compactRegistration(credential: object): string {
  const { response, ...rest } = credential as { response?: Record<string, unknown> };
  if (!response) return JSON.stringify(credential);
  const { publicKey: _publicKey, authenticatorData: _authenticatorData, ...needed } = response;
  return JSON.stringify({ ...rest, response: needed });
}

/**
 * What {@link TvmMfa} needs of its client: the transport and the session it keeps (a
 * `TvmClient`, named by shape so this module and the client's do not import each other).
 */
export interface MfaClientSide {
  call(plan: Omit<RequestPlan, 'bearer'> & { readonly bearer?: boolean }): Promise<unknown>;
  acceptLogin(answer: unknown): Promise<SessionResult>;
}

/** Second-factor calls on a `TvmClient`'s transport and session. */
export class TvmMfa {
  constructor(private readonly client: MfaClientSide) {}

  /**
   * Answers a login's challenge and keeps the session, like `login` does. Never retried.
   * @throws InvalidCredentialsError for a wrong or used code, or a challenge that expired
   *   (log in again); TooManyAttemptsError while the factor is locked.
   */
  async completeLogin(challenge: MfaChallenge, factor: LoginFactor): Promise<SessionResult> {
    // The route's body model holds strings only, so a passkey answer travels as JSON text.
    const answerField = 'passkey' in factor ? { passkey: JSON.stringify(factor.passkey) } : factor;
    const answer = await this.client.call({
      path: '/login/mfa',
      body: { challenge: challenge.token, ...answerField },
      retry: 'retry-after',
    });
    return this.client.acceptLogin(answer);
  }

  /** What the signed-in user has set up. Retried on transient failures. */
  async status(): Promise<MfaStatus> {
    const body = record(
      await this.client.call({ method: 'GET', path: '/mfa', bearer: true, retry: true }),
      'factor list',
    );
    if (
      typeof body['totp'] !== 'object' ||
      typeof body['recoveryCodesLeft'] !== 'number' ||
      !Array.isArray(body['passkeys'])
    ) {
      throw new UnexpectedResponseError('The token vending machine sent a malformed factor list.');
    }
    return body as unknown as MfaStatus;
  }

  /**
   * Starts setting up an authenticator app, after a step-up (the current password; on an
   * account with passkeys, one of its factors). The secret is pending until {@link confirmTotp}.
   * @throws InvalidCredentialsError for a wrong proof; SecondFactorRequiredError for the
   *   password alone on an account with a factor; AlreadyEnrolledError when one is set up.
   */
  async startTotp(stepUp: StepUp | string): Promise<TotpEnrolment> {
    const proof = typeof stepUp === 'string' ? { currentPassword: stepUp } : stepUp;
    const body = record(
      await this.client.call({ path: '/mfa/totp', body: stepUpBody(proof), bearer: true, retry: false }),
      'TOTP secret',
    );
    if (typeof body['secret'] !== 'string' || typeof body['otpauthUri'] !== 'string') {
      throw new UnexpectedResponseError('The token vending machine sent a malformed TOTP secret.');
    }
    return { secret: body['secret'], otpauthUri: body['otpauthUri'] };
  }

  /**
   * Confirms the app with a current code. Returns the ten recovery codes: show them once; the
   * server keeps only their hashes.
   */
  async confirmTotp(code: string): Promise<string[]> {
    const body = record(
      await this.client.call({ path: '/mfa/totp/confirm', body: { code }, bearer: true, retry: false }),
      'recovery code list',
    );
    const codes = body['recoveryCodes'];
    if (!Array.isArray(codes) || !codes.every((entry) => typeof entry === 'string')) {
      throw new UnexpectedResponseError('The token vending machine sent a malformed recovery code list.');
    }
    return codes as string[];
  }

  /** Removes the authenticator app, after a fresh code, a recovery code or a passkey (step-up). */
  async removeTotp(factor: SecondFactor | PasskeyStepUp): Promise<void> {
    await this.client.call({
      method: 'DELETE',
      path: '/mfa/totp',
      body: stepUpBody(factor),
      bearer: true,
      retry: false,
    });
  }

  /**
   * Options for a passkey step-up: pass `passkeyOptions` to `startAuthentication({ optionsJSON })`
   * and give the answer with `challenge` as a {@link PasskeyStepUp}. Used once; five minutes.
   */
  async passkeyStepUpOptions(): Promise<{ challenge: { token: string; expiresAt: string }; passkeyOptions: object }> {
    return this.passkeyLoginOptions();
  }

  /**
   * WebAuthn options for registering a passkey, after a step-up; pass them to
   * `startRegistration({ optionsJSON })` of @simplewebauthn/browser, then to {@link addPasskey}.
   */
  async passkeyRegistrationOptions(stepUp: StepUp): Promise<object> {
    return record(
      await this.client.call({ path: '/mfa/passkeys/options', body: stepUpBody(stepUp), bearer: true, retry: false }),
      'passkey options',
    );
  }

  /** Adds the passkey the browser created. The account's first factor also brings ten recovery codes (else none). */
  async addPasskey(credential: object, name?: string): Promise<{ id: string; name: string; recoveryCodes: string[] }> {
    const body = record(
      await this.client.call({
        path: '/mfa/passkeys',
        body: { credential: compactRegistration(credential), ...(name ? { name } : {}) },
        bearer: true,
        retry: false,
      }),
      'passkey',
    );
    if (typeof body['id'] !== 'string' || typeof body['name'] !== 'string' || !Array.isArray(body['recoveryCodes'])) {
      throw new UnexpectedResponseError('The token vending machine sent a malformed passkey.');
    }
    return { id: body['id'], name: body['name'], recoveryCodes: body['recoveryCodes'] as string[] };
  }

  /** Removes a passkey, after a step-up. */
  async removePasskey(id: string, stepUp: StepUp): Promise<void> {
    await this.client.call({
      method: 'DELETE',
      path: `/mfa/passkeys/${encodeURIComponent(id)}`,
      body: stepUpBody(stepUp),
      bearer: true,
      retry: false,
    });
  }

  /**
   * Starts a passwordless sign-in: a challenge and WebAuthn options for any passkey of this
   * site. Pass `passkeyOptions` to `startAuthentication({ optionsJSON })`, then the answer to
   * {@link loginWithPasskey}.
   */
  async passkeyLoginOptions(): Promise<{ challenge: { token: string; expiresAt: string }; passkeyOptions: object }> {
    const body = record(await this.client.call({ path: '/login/passkey/options', retry: false }), 'passkey sign-in');
    const challenge = record(body['challenge'], 'passkey sign-in');
    if (
      typeof challenge['token'] !== 'string' ||
      typeof challenge['expiresAt'] !== 'string' ||
      typeof body['passkeyOptions'] !== 'object' ||
      body['passkeyOptions'] === null
    ) {
      throw new UnexpectedResponseError('The token vending machine sent a malformed passkey sign-in.');
    }
    return {
      challenge: { token: challenge['token'], expiresAt: challenge['expiresAt'] },
      passkeyOptions: body['passkeyOptions'],
    };
  }

  /** Signs in with a passkey alone and keeps the session, like `login`. Never retried. */
  async loginWithPasskey(challenge: { readonly token: string }, answer: object): Promise<SessionResult> {
    const body = { challenge: challenge.token, credential: JSON.stringify(answer) };
    return this.client.acceptLogin(await this.client.call({ path: '/login/passkey', body, retry: 'retry-after' }));
  }
}

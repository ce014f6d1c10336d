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
import type { TvmClient } from './tvm-client';
import type { SessionResult } from './types';

/** A second factor as a person gives it: a code from the app, or one recovery code. */
export type SecondFactor = { readonly code: string } | { readonly recoveryCode: string };

/** `GET /mfa`: what this user has set up. */
export interface MfaStatus {
  readonly totp: { readonly enrolled: boolean; readonly confirmedAt?: string };
  readonly recoveryCodesLeft: number;
  readonly passkeys: ReadonlyArray<{ readonly id: string; readonly name: string; readonly createdAt: string; readonly lastUsedAt?: string }>;
}

/** A TOTP secret handed out for setting up an authenticator app; show `otpauthUri` as a QR code. */
export interface TotpEnrolment {
  /** Base32, for typing into an app by hand. */
  readonly secret: string;
  /** `otpauth://totp/...`, for a QR code. */
  readonly otpauthUri: string;
}

function record(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw new UnexpectedResponseError(`The token vending machine sent a malformed ${what}.`);
  return body as Record<string, unknown>;
}

/** Second-factor calls on a {@link TvmClient}'s transport and session. */
export class TvmMfa {
  constructor(private readonly client: TvmClient) {}

  /**
   * Answers a login's challenge and keeps the session, like `login` does. Never retried.
   * @throws InvalidCredentialsError for a wrong or used code, or a challenge that expired
   *   (log in again); TooManyAttemptsError while the factor is locked.
   */
  async completeLogin(challenge: MfaChallenge, factor: SecondFactor): Promise<SessionResult> {
    const answer = await this.client.call({ path: '/login/mfa', body: { challenge: challenge.token, ...factor }, retry: false });
    return this.client.acceptLogin(answer);
  }

  /** What the signed-in user has set up. Retried on transient failures. */
  async status(): Promise<MfaStatus> {
    const body = record(await this.client.call({ method: 'GET', path: '/mfa', bearer: true, retry: true }), 'factor list');
    if (typeof body['totp'] !== 'object' || typeof body['recoveryCodesLeft'] !== 'number' || !Array.isArray(body['passkeys'])) {
      throw new UnexpectedResponseError('The token vending machine sent a malformed factor list.');
    }
    return body as unknown as MfaStatus;
  }

  /**
   * Starts setting up an authenticator app, after the current password (step-up). The secret
   * is pending until {@link confirmTotp}.
   * @throws InvalidCredentialsError for a wrong password; AlreadyEnrolledError when one is set up.
   */
  async startTotp(currentPassword: string): Promise<TotpEnrolment> {
    const body = record(await this.client.call({ path: '/mfa/totp', body: { currentPassword }, bearer: true, retry: false }), 'TOTP secret');
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
    const body = record(await this.client.call({ path: '/mfa/totp/confirm', body: { code }, bearer: true, retry: false }), 'recovery code list');
    const codes = body['recoveryCodes'];
    if (!Array.isArray(codes) || !codes.every((entry) => typeof entry === 'string')) {
      throw new UnexpectedResponseError('The token vending machine sent a malformed recovery code list.');
    }
    return codes as string[];
  }

  /** Removes the authenticator app, after a fresh code or a recovery code (step-up). */
  async removeTotp(factor: SecondFactor): Promise<void> {
    await this.client.call({ method: 'DELETE', path: '/mfa/totp', body: factor, bearer: true, retry: false });
  }
}

/**
 * Typed client errors. The first six mirror the API's error codes one to one; the rest are
 * failures that happen on the client's side of the wire. Apps switch on `code` (stable) or
 * use `instanceof`; `message` is the API's human-readable text where there is one.
 */
import type { ApiErrorCode, StorageUsage } from './types';

/** Every code a {@link TvmClientError} can carry. */
export type TvmClientErrorCode =
  | ApiErrorCode
  /** No session, or the TVM no longer accepts it: the person must log in again. */
  | 'login_required'
  /** The request could not reach the TVM (offline, DNS, TLS, CORS, connection reset). */
  | 'network_error'
  /** The TVM did not answer within the request timeout. */
  | 'timeout'
  /** The TVM answered with something that is not the documented contract. */
  | 'unexpected_response'
  /** S3 refused the user's own folder even with credentials fetched just now: access was cut off. */
  | 'access_cut_off'
  /** A share's credentials were asked for after the share's end, or the TVM no longer knows the share (revoked, left). */
  | 'share_ended'
  /** S3 refused a write because the folder is over its quota (the TVM vends credentials without writes). */
  | 'quota_exceeded';

/** What every client error carries besides its message. */
export interface TvmClientErrorDetails {
  /** The HTTP status, when the TVM answered. */
  readonly status?: number;
  /** The request field that was wrong (400 only). */
  readonly field?: string;
  /** How long the TVM asked the client to wait before trying again (429, 503). */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

/** Base class of every error the client throws. */
export class TvmClientError extends Error {
  readonly status?: number;
  readonly field?: string;
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: TvmClientErrorCode,
    message: string,
    details: TvmClientErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TvmClientError';
    if (details.status !== undefined) this.status = details.status;
    if (details.field !== undefined) this.field = details.field;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** 400: the request was malformed; `field` says which field, `message` why. */
export class InvalidRequestError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('invalid_request', message, details);
    this.name = 'InvalidRequestError';
  }
}

/** 401 from register or login: the username or password is wrong (the API does not say which). */
export class InvalidCredentialsError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('invalid_credentials', message, details);
    this.name = 'InvalidCredentialsError';
  }
}

/** 409: someone already registered this username. */
export class UsernameTakenError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('username_taken', message, details);
    this.name = 'UsernameTakenError';
  }
}

/** A second-factor challenge from `POST /login` (see docs/mfa.md). */
export interface MfaChallenge {
  /** Opaque; pass it back with the code. */
  readonly token: string;
  /** ISO 8601: at most five minutes after the password was checked. */
  readonly expiresAt: string;
  /** What this user can answer with. */
  readonly methods: readonly ('totp' | 'recovery_code' | 'passkey')[];
  /** WebAuthn request options for `startAuthentication({ optionsJSON })`, when `methods` has `passkey`. */
  readonly passkeyOptions?: object;
}

/**
 * The password was right, and the account also needs a second factor. From `login`,
 * `challenge` is set: answer it with `new TvmMfa(client).completeLogin(...)`. From a
 * password reset (401 `second_factor_required`) there is no challenge: send the reset again
 * with a code or recovery code.
 */
export class SecondFactorRequiredError extends TvmClientError {
  readonly challenge?: MfaChallenge;
  constructor(
    message = 'A second factor is required.',
    details: TvmClientErrorDetails & { readonly challenge?: MfaChallenge } = {},
  ) {
    super('second_factor_required', message, details);
    this.name = 'SecondFactorRequiredError';
    if (details.challenge) this.challenge = details.challenge;
  }
}

/** 409: an authenticator app is already set up (remove it before setting up another). */
export class AlreadyEnrolledError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('already_enrolled', message, details);
    this.name = 'AlreadyEnrolledError';
  }
}

/**
 * 400: no account is linked to this identity yet: ask for a name and send an ID token with a
 * `username` (a fresh one: the TVM spends a token's nonce on its first answer).
 */
export class UsernameRequiredError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('username_required', message, details);
    this.name = 'UsernameRequiredError';
  }
}

/** 409: a per-owner limit (shares, links) is reached; revoking one frees a place. */
export class LimitReachedError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('limit_reached', message, details);
    this.name = 'LimitReachedError';
  }
}

/** 403: this TVM does not take sign-ups (its `registration` setting is `closed`); the operator makes accounts. */
export class RegistrationClosedError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('registration_closed', message, details);
    this.name = 'RegistrationClosedError';
  }
}

/** 403: sign-up here needs an invite, and none, or an unknown, used or expired one, was given. */
export class InviteRequiredError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('invite_required', message, details);
    this.name = 'InviteRequiredError';
  }
}

/** 429: a rate was reached (a route's throttle, a session's or user's vends per minute); see `retryAfterSeconds`. */
export class RateLimitedError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('rate_limited', message, details);
    this.name = 'RateLimitedError';
  }
}

/** 404: this TVM has no passkey relying party configured, so its passkey routes are off; sign in with the password. */
export class PasskeysNotConfiguredError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('passkeys_not_configured', message, details);
    this.name = 'PasskeysNotConfiguredError';
  }
}

/** 429: the account is cooling down after too many failed logins; see `retryAfterSeconds`. */
export class TooManyAttemptsError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('too_many_attempts', message, details);
    this.name = 'TooManyAttemptsError';
  }
}

/** 503: a TVM backend is down; safe calls were already retried. See `retryAfterSeconds`. */
export class ServiceUnavailableError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('service_unavailable', message, details);
    this.name = 'ServiceUnavailableError';
  }
}

/** 500: the TVM failed in a way retrying will not fix. */
export class InternalServerError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('internal_error', message, details);
    this.name = 'InternalServerError';
  }
}

/** 404: the session to revoke is not one of the caller's, or is already gone. */
export class NotFoundError extends TvmClientError {
  constructor(message = 'Not found.', details: TvmClientErrorDetails = {}) {
    super('not_found', message, details);
    this.name = 'NotFoundError';
  }
}

/**
 * There is no session, or the TVM refused it (401 on `/token`: expired, revoked, or the user
 * is gone). The stored session has been cleared; the app should show its login screen.
 */
export class LoginRequiredError extends TvmClientError {
  constructor(
    message = 'Login required: there is no valid session. Log in again.',
    details: TvmClientErrorDetails = {},
  ) {
    super('login_required', message, details);
    this.name = 'LoginRequiredError';
  }
}

/** The request never got an answer: offline, DNS, TLS, CORS or a dropped connection. */
export class NetworkError extends TvmClientError {
  constructor(message = 'Could not reach the token vending machine.', details: TvmClientErrorDetails = {}) {
    super('network_error', message, details);
    this.name = 'NetworkError';
  }
}

/** The TVM did not answer within the request timeout. */
export class TimeoutError extends TvmClientError {
  constructor(timeoutMs: number, details: TvmClientErrorDetails = {}) {
    super('timeout', `The token vending machine did not answer within ${timeoutMs} ms.`, details);
    this.name = 'TimeoutError';
  }
}

/**
 * S3 refused a request in the user's own folder, and again with credentials fetched from the
 * TVM just after: access was cut off (the operator revoked the credentials, disabled or deleted
 * the account) and is not coming back by itself. Retrying will not help: stop, say so, and
 * offer to log in again (the next login says whether the account still works). `cause` is
 * S3's own error.
 */
export class AccessCutOffError extends TvmClientError {
  constructor(
    message = 'Access to your files was cut off. Log in again; if that fails, your account may be disabled.',
    details: TvmClientErrorDetails = {},
  ) {
    super('access_cut_off', message, details);
    this.name = 'AccessCutOffError';
  }
}

/**
 * A share is over: its `expiresAt` has passed (thrown without asking the TVM), or the TVM
 * answered 404 for its credentials (the owner revoked it, the grantee left, or an account is
 * gone). Not coming back: drop the share from the view. `cause` is the TVM's NotFoundError, if any.
 */
export class ShareEndedError extends TvmClientError {
  constructor(
    readonly shareId: string,
    message = 'This share has ended: it expired, or its owner revoked it.',
    details: TvmClientErrorDetails = {},
  ) {
    super('share_ended', message, details);
    this.name = 'ShareEndedError';
  }
}

/**
 * S3 refused a write (an upload, a new folder) and the TVM says the folder is over its quota
 * (`storage.usage.overQuota` of the latest or a freshly vended set of credentials): while it
 * is, credentials carry no write. Reading, listing and deleting still work; deleting files
 * below the quota restores writes at the next vend, or the operator can raise the quota.
 * Retrying will not help until then. `usage` is what the TVM last reported; `cause` is S3's error.
 */
export class QuotaExceededError extends TvmClientError {
  constructor(
    readonly usage: StorageUsage,
    message = 'Your storage is full: delete some files to free space, or ask the operator for a larger quota.',
    details: TvmClientErrorDetails = {},
  ) {
    super('quota_exceeded', message, details);
    this.name = 'QuotaExceededError';
  }
}

/** The TVM (or a proxy in front of it) answered outside the documented contract. */
export class UnexpectedResponseError extends TvmClientError {
  constructor(message: string, details: TvmClientErrorDetails = {}) {
    super('unexpected_response', message, details);
    this.name = 'UnexpectedResponseError';
  }
}

const errorClassByCode: Record<ApiErrorCode, new (message: string, details?: TvmClientErrorDetails) => TvmClientError> =
  {
    invalid_request: InvalidRequestError,
    invalid_credentials: InvalidCredentialsError,
    username_taken: UsernameTakenError,
    not_found: NotFoundError,
    too_many_attempts: TooManyAttemptsError,
    second_factor_required: SecondFactorRequiredError,
    already_enrolled: AlreadyEnrolledError,
    limit_reached: LimitReachedError,
    username_required: UsernameRequiredError,
    registration_closed: RegistrationClosedError,
    invite_required: InviteRequiredError,
    rate_limited: RateLimitedError,
    passkeys_not_configured: PasskeysNotConfiguredError,
    service_unavailable: ServiceUnavailableError,
    internal_error: InternalServerError,
  };

// When a proxy (API Gateway itself, a CDN) answers without the TVM's body, the status still says enough.
const codeByStatus: Readonly<Record<number, ApiErrorCode>> = {
  400: 'invalid_request',
  401: 'invalid_credentials',
  404: 'not_found',
  409: 'username_taken',
  429: 'too_many_attempts',
  500: 'internal_error',
  503: 'service_unavailable',
};

function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(errorClassByCode, value);
}

/** Builds the typed error for a non-2xx answer from its status, parsed body and Retry-After. */
export function errorFromResponse(
  status: number,
  body: unknown,
  retryAfterSeconds: number | undefined,
): TvmClientError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const message =
    typeof fields['message'] === 'string' ? fields['message'] : `The token vending machine answered HTTP ${status}.`;
  const details: TvmClientErrorDetails = {
    status,
    ...(typeof fields['field'] === 'string' ? { field: fields['field'] } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
  const code = isApiErrorCode(fields['code']) ? fields['code'] : codeByStatus[status];
  if (code === undefined) return new UnexpectedResponseError(message, details);
  return new errorClassByCode[code](message, details);
}

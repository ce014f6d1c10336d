/**
 * One error type per failure kind. `toErrorResponse` is the only place that maps them to
 * HTTP; anything that is not a TvmError becomes an opaque 500 so no internal text leaks.
 */

import { ERROR, type ErrorCode } from '../contract/error-codes';

/** The stable, machine-readable codes clients switch on: the one list in lambda/contract/error-codes.ts. */
export type { ErrorCode } from '../contract/error-codes';

/** Base class of every failure the TVM knows how to answer. */
export abstract class TvmError extends Error {
  abstract readonly status: number;
  abstract readonly code: ErrorCode;
  /** Seconds a client should wait before retrying (sent as Retry-After), if any. */
  readonly retryAfterSeconds?: number;
  /** The message that may be sent to a client. Never contains AWS or stack text. */
  get publicMessage(): string {
    return this.message;
  }
}

/** 400: the request is malformed; `field` names what was wrong. */
export class ValidationError extends TvmError {
  readonly status = 400;
  readonly code = ERROR.invalid_request;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** 401: one message for an unknown user, a wrong password and a bad or expired session. */
export class AuthenticationError extends TvmError {
  readonly status = 401;
  readonly code = ERROR.invalid_credentials;
  constructor(message = 'The username or password is incorrect, or the session has expired.') {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** 409: the username already belongs to someone. */
export class UsernameTakenError extends TvmError {
  readonly status = 409;
  readonly code = ERROR.username_taken;
  constructor() {
    super('That username is already taken.');
    this.name = 'UsernameTakenError';
  }
}

/** 404: the thing asked for does not exist, or is not the caller's (they look the same). */
export class NotFoundError extends TvmError {
  readonly status = 404;
  readonly code = ERROR.not_found;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * 401: the account has a second factor and the request did not prove it (a password reset
 * without a code). Only someone who already passed the first check sees it.
 */
export class SecondFactorMissingError extends TvmError {
  readonly status = 401;
  readonly code = ERROR.second_factor_required;
  constructor(
    message = 'This account has a second factor: also give a code from the authenticator app or a recovery code.',
  ) {
    super(message);
    this.name = 'SecondFactorMissingError';
  }
}

/** 409: the factor is already set up (remove it first to set it up again). */
export class AlreadyEnrolledError extends TvmError {
  readonly status = 409;
  readonly code = ERROR.already_enrolled;
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyEnrolledError';
  }
}

/**
 * 400: a valid ID token of an identity no account is linked to, and no `username` to create
 * one with: the app asks the user for a name and sends the same token again with it.
 */
export class UsernameRequiredError extends TvmError {
  readonly status = 400;
  readonly code = ERROR.username_required;
  constructor() {
    super('No account is linked to this identity yet: choose a username and send it with the same token.');
    this.name = 'UsernameRequiredError';
  }
}

/** 409: a per-owner limit (shares, links) is reached; revoking one frees a place. */
export class LimitReachedError extends TvmError {
  readonly status = 409;
  readonly code = ERROR.limit_reached;
  constructor(message: string) {
    super(message);
    this.name = 'LimitReachedError';
  }
}

/** 403: the `registration` setting is `closed`: only the operator creates accounts. */
export class RegistrationClosedError extends TvmError {
  readonly status = 403;
  readonly code = ERROR.registration_closed;
  constructor() {
    super('New accounts are not open to sign-up here. Ask the operator for an account.');
    this.name = 'RegistrationClosedError';
  }
}

/**
 * 403: the `registration` setting is `invite` and the request carries no invite, or one that
 * is unknown, used or expired (one message for all: a guesser learns nothing).
 */
export class InviteRequiredError extends TvmError {
  readonly status = 403;
  readonly code = ERROR.invite_required;
  constructor() {
    super('Sign-up here needs an invite: give a valid, unused invite code in "invite".');
    this.name = 'InviteRequiredError';
  }
}

/**
 * 404: this TVM has no passkey relying party configured (outside `dev` until the operator sets
 * `passkeyRpId` and `passkeyOrigins` to the web app's domain), so its passkey routes are off.
 */
export class PasskeysNotConfiguredError extends TvmError {
  readonly status = 404;
  readonly code = ERROR.passkeys_not_configured;
  constructor() {
    super('Passkeys are not configured on this service. Sign in with your password.');
    this.name = 'PasskeysNotConfiguredError';
  }
}

/**
 * 429: a rate this TVM sets was reached (a route's throttle, a session's or a user's vends
 * per minute). Nothing was done; Retry-After says when to try again.
 */
export class RateLimitedError extends TvmError {
  readonly status = 429;
  readonly code = ERROR.rate_limited;
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** 429: the account is cooling down after too many failed attempts. */
export class TooManyAttemptsError extends TvmError {
  readonly status = 429;
  readonly code = ERROR.too_many_attempts;
  constructor(override readonly retryAfterSeconds: number) {
    super(`Too many failed attempts. Try again in ${retryAfterSeconds} seconds.`);
    this.name = 'TooManyAttemptsError';
  }
}

/** 503: a backend (DynamoDB, STS) failed or throttled. The cause is logged, never sent. */
export class BackendUnavailableError extends TvmError {
  readonly status = 503;
  readonly code = ERROR.service_unavailable;
  constructor(
    readonly backend: string,
    options?: { cause?: unknown },
    override readonly retryAfterSeconds = 2,
  ) {
    super(`${backend} is unavailable`, options);
    this.name = 'BackendUnavailableError';
  }
  override get publicMessage(): string {
    return 'The service is temporarily unavailable. Please retry shortly.';
  }
}

/**
 * 503: a backend refused for its own rate (STS's `Throttling`). Retry-After is jittered by the
 * adapter, so a crowd refused together does not come back together.
 */
export class BackendThrottledError extends BackendUnavailableError {
  constructor(backend: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(`${backend} (throttled)`, options, retryAfterSeconds);
    this.name = 'BackendThrottledError';
  }
}

/**
 * 503: the user's credentials were cut off moments ago and the cut-off instant still lies
 * ahead: credentials issued now would be denied at once, so none are issued. Retry-After says
 * when they can be.
 */
export class CutOffPendingError extends TvmError {
  readonly status = 503;
  readonly code = ERROR.service_unavailable;
  constructor(override readonly retryAfterSeconds: number) {
    super(`Access was cut off moments ago; new credentials can be issued in ${retryAfterSeconds} seconds. Retry then.`);
    this.name = 'CutOffPendingError';
  }
}

/** 500: a rendered session policy exceeds what AssumeRole accepts. A deployment bug, not user input. */
export class PolicyTooLargeError extends TvmError {
  readonly status = 500;
  readonly code = ERROR.internal_error;
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`The rendered session policy is ${size} characters; AssumeRole accepts at most ${limit}.`);
    this.name = 'PolicyTooLargeError';
  }
  override get publicMessage(): string {
    return 'Internal error.';
  }
}

/** Thrown at cold start when configuration is missing or invalid. Never reaches a client. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string };
}

/** An error turned into what the client sees. */
export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Readonly<Record<string, string>>;
}

/** Maps any thrown value to the response a client may see: the one error-to-HTTP mapping. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (!(error instanceof TvmError)) {
    return { status: 500, body: { error: { code: ERROR.internal_error, message: 'Internal error.' } }, headers: {} };
  }
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
  const field = error instanceof ValidationError ? error.field : undefined;
  return {
    status: error.status,
    body: { error: { code: error.code, message: error.publicMessage, ...(field ? { field } : {}) } },
    headers,
  };
}

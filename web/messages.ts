/**
 * Turns any failure into one sentence a person can act on. Never shows a stack, an AWS error
 * code on its own, or a key.
 */
import { QuotaExceededError, TvmClientError } from '@serverless-tvm/client';
import { FileTooLargeError, InvalidFileNameError, StorageError } from '@serverless-tvm/client/storage';
import { formatSize, shortName, usageText } from './format';

/** What the app says when the TVM refused the session (a 401 from /token: expired, revoked, disabled). */
export const SESSION_ENDED = 'Your session has ended; log in again.';

/** What the app says when S3 refused the user's own folder even with fresh credentials (AccessCutOffError). */
export const ACCESS_CUT_OFF =
  'Your access to your files was cut off. Log in again; if that does not work, your account may have been disabled.';

/** What the app says when a share received is over (ShareEndedError: expired, revoked or left). */
export const SHARE_ENDED = 'This share has ended: it expired, or its owner stopped sharing it.';

/** What went wrong, in plain words, and which form field (if any) to point at. */
export interface PlainError {
  readonly message: string;
  readonly field?: 'username' | 'password';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function seconds(value: number): string {
  const whole = Math.max(1, Math.ceil(value));
  return whole === 1 ? 'a second' : `${whole} seconds`;
}

function minutes(seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds / 60));
  return whole === 1 ? 'a minute' : `${whole} minutes`;
}

/** An error from the TVM client (login, register, credentials). */
function fromTvmError(error: TvmClientError): PlainError {
  switch (error.code) {
    case 'invalid_request': {
      const field = error.field === 'username' || error.field === 'password' ? error.field : undefined;
      return { message: capitalise(error.message), ...(field ? { field } : {}) };
    }
    case 'invalid_credentials':
      return { message: "That username and password don't match. Check them and try again." };
    case 'username_taken':
      return {
        message: 'That username is already taken. Pick another one, or log in if it is yours.',
        field: 'username',
      };
    case 'too_many_attempts':
      return {
        message: `Too many failed attempts for this account. Please wait ${minutes(error.retryAfterSeconds ?? 900)} and try again.`,
      };
    case 'second_factor_required':
      return { message: 'This account also needs a code from your authenticator app or a recovery code.' };
    case 'already_enrolled':
      return { message: 'An authenticator app is already set up for this account.' };
    case 'username_required':
      return { message: 'Choose a username for your new account.', field: 'username' };
    case 'registration_closed':
      return { message: 'This service is not taking new sign-ups. Ask its operator for an account.' };
    case 'invite_required':
      return { message: 'Sign-up here needs an invite. Enter a valid, unused invite code.' };
    case 'rate_limited':
      return {
        message: `Too many requests right now. Please wait ${seconds(error.retryAfterSeconds ?? 10)} and try again.`,
      };
    case 'passkeys_not_configured':
      return { message: 'Passkeys are not available on this service. Sign in with your password.' };
    case 'limit_reached':
      return { message: 'You have reached the limit of shares or links. Revoke one you no longer need and try again.' };
    case 'service_unavailable':
      return { message: 'The service is having trouble right now. Please try again in a moment.' };
    case 'not_found':
      return { message: 'That session no longer exists.' };
    case 'login_required':
      return { message: SESSION_ENDED };
    case 'access_cut_off':
      return { message: ACCESS_CUT_OFF };
    case 'share_ended':
      return { message: SHARE_ENDED };
    case 'quota_exceeded':
      return { message: quotaMessage(error) };
    case 'network_error':
      return { message: "Can't reach the server. Check your connection and try again." };
    case 'timeout':
      return { message: 'The server took too long to answer. Please try again.' };
    case 'internal_error':
    case 'unexpected_response':
      return { message: 'Something went wrong on our side. Please try again later.' };
  }
}

/**
 * A write refused for quota: how full, what to do (delete, or ask the operator), and that
 * uploads work again once below the quota. The meter may take a moment to count a delete.
 */
function quotaMessage(error: TvmClientError): string {
  const usage = error instanceof QuotaExceededError ? error.usage : undefined;
  const how = usage ? ` (${usageText(usage)})` : '';
  return `Your storage is full${how}: nothing new can be stored. Delete files you no longer need and try again in a minute, or ask the operator for a larger quota.`;
}

/** An error from S3 (the AWS SDK names its errors after S3's codes). */
function fromStorageError(error: Error & { $metadata?: { httpStatusCode?: number } }): PlainError {
  switch (error.name) {
    case 'AccessDenied':
    case 'Forbidden':
      return { message: "You don't have permission to do that. Only your own folder is open to you." };
    case 'NoSuchKey':
    case 'NotFound':
      return { message: 'That file is no longer there. It may have been deleted elsewhere.' };
    case 'ExpiredToken':
    case 'InvalidToken':
    case 'InvalidAccessKeyId':
      return { message: 'Your access to the file store has expired. Please log in again.' };
    case 'EntityTooLarge':
      return {
        message: 'That file is too large for one request here. Please try again: large files are sent in parts.',
      };
    case 'TypeError':
      return { message: "Can't reach the file store. Check your connection and try again." };
    // The browser's WebAuthn refusals (as @simplewebauthn/browser names them).
    case 'SecurityError':
      return {
        message:
          'Passkeys do not work at this address: a browser refuses them at an IP address such as 127.0.0.1. Open the app at its name (for the sandbox, http://localhost:3000/) and try again.',
      };
    case 'NotAllowedError':
      return { message: 'No passkey was used: the request was cancelled or timed out. Try again when you are ready.' };
  }
  const status = error.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500)
    return { message: 'The file store is having trouble right now. Please try again in a moment.' };
  return { message: 'Something went wrong with the file store. Please try again.' };
}

/** An error of the storage helpers: a file that cannot be stored says why, with the limit. */
function fromStorageHelperError(error: StorageError): PlainError {
  if (error instanceof FileTooLargeError) {
    return {
      message: `"${shortName(error.fileName)}" is ${formatSize(error.sizeBytes)}, which is more than one file can be. The largest file you can store is ${formatSize(error.limitBytes)}.`,
    };
  }
  if (error instanceof InvalidFileNameError)
    return { message: `"${shortName(error.fileName)}" cannot be stored under that name. ${error.reason}` };
  switch (error.code) {
    case 'aborted':
      return { message: 'Cancelled.' };
    case 'unreachable':
      return {
        message: 'The file store stayed unreachable, so the upload stopped. Check your connection and try again.',
      };
    default:
      return { message: 'Something went wrong with the file store. Please try again.' };
  }
}

/** A mistake the person can fix (nothing chosen to upload): its message is already plain words. */
export class UserMistake extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserMistake';
  }
}

/** The plain-words version of any thrown value. */
export function plainError(error: unknown): PlainError {
  if (error instanceof UserMistake) return { message: error.message };
  if (error instanceof TvmClientError) return fromTvmError(error);
  if (error instanceof StorageError) return fromStorageHelperError(error);
  if (error instanceof Error) return fromStorageError(error);
  return { message: 'Something went wrong. Please try again.' };
}

import {
  AccessCutOffError,
  InvalidCredentialsError,
  InvalidRequestError,
  LoginRequiredError,
  NetworkError,
  QuotaExceededError,
  RegistrationClosedError,
  InviteRequiredError,
  ServiceUnavailableError,
  TooManyAttemptsError,
  UsernameTakenError,
} from '@serverless-tvm/client';
import { FileTooLargeError, InvalidFileNameError, S3_LIMITS } from '@serverless-tvm/client/storage';
import { plainError, UserMistake } from '../../web/messages';

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });
}

describe('plainError', () => {
  it.each([
    [
      'a wrong password',
      new InvalidCredentialsError('The username or password is incorrect.'),
      "That username and password don't match",
    ],
    ['a taken username', new UsernameTakenError('taken'), 'That username is already taken'],
    ['a lockout, in minutes', new TooManyAttemptsError('locked', { retryAfterSeconds: 600 }), 'wait 10 minutes'],
    ['an outage', new ServiceUnavailableError('down'), 'having trouble right now'],
    ['no network', new NetworkError(), "Can't reach the server"],
    ['an ended session', new LoginRequiredError(), 'Your session has ended; log in again.'],
    ['S3 refusing access', s3Error('AccessDenied', 403), "You don't have permission"],
    [
      'access cut off (refused even with fresh credentials)',
      new AccessCutOffError(),
      'Your access to your files was cut off. Log in again',
    ],
    [
      'an upload refused for quota, with how full and what to do',
      new QuotaExceededError({ bytes: 3.2 * 1024 ** 3, objects: 10, quotaBytes: 10 * 1024 ** 3, overQuota: true }),
      'Your storage is full (3.2 GB of 10 GB): nothing new can be stored. Delete files you no longer need',
    ],
    ['a sign-up without a valid invite', new InviteRequiredError('needs one'), 'needs an invite'],
    ['a sign-up where only the operator makes accounts', new RegistrationClosedError('closed'), 'Ask its operator'],
    ['a file deleted elsewhere', s3Error('NoSuchKey', 404), 'no longer there'],
    ['an S3 outage', s3Error('InternalError', 500), 'file store is having trouble'],
    ['the browser failing to reach S3', new TypeError('Failed to fetch'), "Can't reach the file store"],
    [
      'a passkey at an IP address',
      Object.assign(new Error('127.0.0.1 is an invalid domain'), { name: 'SecurityError' }),
      'Passkeys do not work at this address',
    ],
    [
      'a cancelled passkey prompt',
      Object.assign(new Error('The operation either timed out or was not allowed.'), { name: 'NotAllowedError' }),
      'No passkey was used',
    ],
  ])('explains %s in plain words', (_what, error, expected) => {
    expect(plainError(error).message).toContain(expected);
  });

  it('passes a validation message through, capitalised, and points at the field', () => {
    expect(
      plainError(new InvalidRequestError('password must be at least 8 characters.', { field: 'password' })),
    ).toEqual({
      message: 'Password must be at least 8 characters.',
      field: 'password',
    });
  });

  it('shows a mistake the person can fix as written', () => {
    expect(plainError(new UserMistake('Choose one or more files to upload first.')).message).toBe(
      'Choose one or more files to upload first.',
    );
  });

  it('never shows a raw value that is not an error', () => {
    expect(plainError('<stack trace>').message).toBe('Something went wrong. Please try again.');
  });
});

describe('plainError for files that cannot be stored', () => {
  it('says how large a file may be, in units people read', () => {
    expect(plainError(new FileTooLargeError('backup.img', 6 * 1024 ** 4, S3_LIMITS.maxObjectBytes)).message).toBe(
      '"backup.img" is 6.0 TB, which is more than one file can be. The largest file you can store is 5.0 TB.',
    );
  });

  it('gives the reason and the limit for a name, shortening a very long one', () => {
    const message = plainError(
      new InvalidFileNameError('x'.repeat(2000), 'A name can be at most 1018 bytes long (in UTF-8) here.'),
    ).message;
    expect(message).toMatch(/^"x{44}…x{15}" cannot be stored under that name\. A name can be at most 1018 bytes long/);
  });
});

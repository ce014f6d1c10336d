import {
  AuthenticationError,
  BackendUnavailableError,
  PolicyTooLargeError,
  TooManyAttemptsError,
  UsernameTakenError,
  ValidationError,
  toErrorResponse,
} from '../../lambda/platform/errors';

describe('toErrorResponse: the one error-to-HTTP mapping', () => {
  it.each([
    ['ValidationError', new ValidationError('username must be a string.', 'username'), 400, 'invalid_request'],
    ['AuthenticationError', new AuthenticationError(), 401, 'invalid_credentials'],
    ['UsernameTakenError', new UsernameTakenError(), 409, 'username_taken'],
    ['TooManyAttemptsError', new TooManyAttemptsError(900), 429, 'too_many_attempts'],
    ['BackendUnavailableError', new BackendUnavailableError('STS'), 503, 'service_unavailable'],
    ['PolicyTooLargeError', new PolicyTooLargeError(3000, 2048), 500, 'internal_error'],
  ])('maps %s to %i %s', (_name, error, status, code) => {
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(typeof response.body.error.message).toBe('string');
  });

  it('rule 9: a ValidationError names the field and says why', () => {
    expect(toErrorResponse(new ValidationError('username must be a string.', 'username')).body).toEqual({
      error: { code: 'invalid_request', message: 'username must be a string.', field: 'username' },
    });
    expect(toErrorResponse(new ValidationError('The body must be a JSON object.')).body.error).not.toHaveProperty(
      'field',
    );
  });

  it('sends Retry-After for 429 with the remaining seconds', () => {
    expect(toErrorResponse(new TooManyAttemptsError(900)).headers).toEqual({ 'Retry-After': '900' });
  });

  it('sends Retry-After for 503 (default 2 seconds, or the one given)', () => {
    expect(toErrorResponse(new BackendUnavailableError('DynamoDB')).headers).toEqual({ 'Retry-After': '2' });
    expect(toErrorResponse(new BackendUnavailableError('DynamoDB', {}, 5)).headers).toEqual({ 'Retry-After': '5' });
  });

  it('sends no Retry-After for 400, 401, 409 and 500', () => {
    for (const error of [
      new ValidationError('x'),
      new AuthenticationError(),
      new UsernameTakenError(),
      new PolicyTooLargeError(1, 0),
    ]) {
      expect(toErrorResponse(error).headers).toEqual({});
    }
  });

  it.each([
    [
      'a plain Error',
      new Error('ConditionalCheckFailedException at arn:aws:dynamodb:eu-west-1:123456789012:table/tvm-users'),
    ],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'passwordHash')")],
    ['a thrown string', 'secret-token-abc'],
    ['undefined', undefined],
  ])('turns %s into an opaque 500 that contains nothing of the original', (_what, thrown) => {
    const response = toErrorResponse(thrown);
    expect(response).toEqual({
      status: 500,
      body: { error: { code: 'internal_error', message: 'Internal error.' } },
      headers: {},
    });
    const text = JSON.stringify(response);
    for (const fragment of ['Conditional', 'arn:', '123456789012', 'passwordHash', 'secret-token', 'stack']) {
      expect(text).not.toContain(fragment);
    }
  });

  it("BackendUnavailableError's public message contains no cause text and no backend name", () => {
    const cause = Object.assign(
      new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform sts:AssumeRole'),
      {
        name: 'AccessDenied',
      },
    );
    const error = new BackendUnavailableError('STS', { cause });
    expect(error.cause).toBe(cause);
    const response = toErrorResponse(error);
    expect(response.body.error.message).toBe('The service is temporarily unavailable. Please retry shortly.');
    const text = JSON.stringify(response);
    for (const fragment of ['arn:', 'AccessDenied', 'not authorized', 'STS', '123456789012']) {
      expect(text).not.toContain(fragment);
    }
  });

  it('PolicyTooLargeError answers an opaque "Internal error." without the size', () => {
    const response = toErrorResponse(new PolicyTooLargeError(3000, 2048));
    expect(response.body.error.message).toBe('Internal error.');
    expect(JSON.stringify(response)).not.toContain('3000');
  });

  it('rule 4: the default AuthenticationError message is the same for unknown user, wrong password and bad session', () => {
    expect(new AuthenticationError().publicMessage).toBe(new AuthenticationError().message);
    expect(toErrorResponse(new AuthenticationError()).body.error.message).toMatch(/username or password is incorrect/);
  });
});

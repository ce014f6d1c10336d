/**
 * A TVM whose `passkeys` setting is off (a deployed stage without a real relying party) answers
 * its passkey routes with a 404 `passkeys_not_configured` and does nothing else.
 */
import '../support/handler-env';
import { bearerPost, bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { ERROR } from '../../lambda/contract/error-codes';
import { CHALLENGE_TOKEN_CHARACTERS } from '../../lambda/contract/limits';

let loginOptions: Handler;
let passkeyOptions: Handler;
let passkeyLogin: Handler;
let passkeyAdd: Handler;
beforeAll(async () => {
  process.env.PASSKEYS = 'false';
  ({ handler: passkeyLogin } = (await import('../../lambda/handlers/login-passkey')) as { handler: Handler });
  ({ handler: passkeyAdd } = (await import('../../lambda/handlers/mfa-passkey-add')) as { handler: Handler });
  ({ handler: loginOptions } = (await import('../../lambda/handlers/login-passkey-options')) as { handler: Handler });
  ({ handler: passkeyOptions } = (await import('../../lambda/handlers/mfa-passkey-options')) as { handler: Handler });
});
afterAll(() => {
  delete process.env.PASSKEYS;
});

it('POST /login/passkey/options answers 404 passkeys_not_configured', async () => {
  const result = await loginOptions(jsonPost('/login/passkey/options', null), lambdaContext());
  expect(result.statusCode).toBe(404);
  expect(bodyOf<{ error: { code: string; message: string } }>(result).error).toEqual({
    code: ERROR.passkeys_not_configured,
    message: 'Passkeys are not configured on this service. Sign in with your password.',
  });
});

it('POST /mfa/passkeys/options answers the same before it reads the session', async () => {
  const event = {
    ...bearerPost('/mfa/passkeys/options', 'a'.repeat(43)),
    body: JSON.stringify({ currentPassword: 'a long enough password' }),
  };
  event.headers = { ...event.headers, 'Content-Type': 'application/json' };
  const result = await passkeyOptions(event, lambdaContext());
  expect([result.statusCode, bodyOf<{ error: { code: string } }>(result).error.code]).toEqual([
    404,
    ERROR.passkeys_not_configured,
  ]);
});

it('POST /login/passkey and POST /mfa/passkeys answer the same, whatever the credential', async () => {
  const login = await passkeyLogin(
    jsonPost('/login/passkey', { challenge: 'c'.repeat(CHALLENGE_TOKEN_CHARACTERS), credential: '{}' }),
    lambdaContext(),
  );
  const add = await passkeyAdd(
    jsonPost('/mfa/passkeys', { credential: '{}' }, { Authorization: `Bearer ${'a'.repeat(43)}` }),
    lambdaContext(),
  );
  for (const result of [login, add])
    expect([result.statusCode, bodyOf<{ error: { code: string } }>(result).error.code]).toEqual([
      404,
      ERROR.passkeys_not_configured,
    ]);
});

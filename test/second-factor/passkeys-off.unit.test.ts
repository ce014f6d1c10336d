/**
 * A TVM whose `passkeys` setting is off (a deployed stage without a real relying party) answers
 * its passkey routes with a 404 `passkeys_not_configured` and does nothing else.
 */
import '../support/handler-env';
import { bearerPost, bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { ERROR } from '../../lambda/contract/error-codes';

let loginOptions: Handler;
let passkeyOptions: Handler;
beforeAll(async () => {
  process.env.PASSKEYS = 'false';
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

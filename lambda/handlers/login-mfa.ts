import { parseMfaLogin } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfaLogin, logger } = getRuntime();

/** `POST /login/mfa` (`{challenge, code}` or `{challenge, recoveryCode}`): 200 like a login. */
export const handler = httpEndpoint('loginMfa', async (event, { body }) => {
  const request = parseMfaLogin(body);
  const result = await mfaLogin.completeLogin(request, originOf(event));
  logger.appendKeys({ username: result.username });
  return { status: 200, body: result };
});

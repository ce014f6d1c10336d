import { parseMfaLogin } from '../core/mfa/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfaLogin, logger } = getRuntime();

/** `POST /login/mfa` (`{challenge, code}` or `{challenge, recoveryCode}`): 200 like a login. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const request = parseMfaLogin(event.body);
  const result = await mfaLogin.completeLogin(request, originOf(event));
  logger.appendKeys({ username: result.username });
  return { status: 200, body: result };
});

import { requirePasskeys } from '../second-factor/passkeys';
import { parsePasskeyLogin } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfaLogin, logger, config } = getRuntime();

/** `POST /login/passkey` (`{challenge, credential}`): signs in with a passkey alone; 200 like a login. */
export const handler = httpEndpoint('passkeyLogin', async (event, { body }) => {
  requirePasskeys(config);
  const { challenge, credential } = parsePasskeyLogin(body);
  const result = await mfaLogin.passkeyLogin(challenge, credential, originOf(event));
  logger.appendKeys({ username: result.username });
  return { status: 200, body: result };
});

import { SecondFactorRequired } from '../core/mfa/challenge';
import { parseLoginRequest } from '../core/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { service, logger } = getRuntime();

/**
 * `POST /login`: checks the password under the lockout and answers 200 like register; for a
 * user with a second factor, 200 `{mfaRequired, challenge, methods}` and no session (docs/mfa.md).
 */
export const handler = httpEndpoint('login', async (event, { body }) => {
  const request = parseLoginRequest(body);
  logger.appendKeys({ username: request.username });
  try {
    return { status: 200, body: await service.login(request, originOf(event)) };
  } catch (error) {
    if (error instanceof SecondFactorRequired) return { status: 200, body: error.result };
    throw error;
  }
});

import { parseLoginRequest } from '../accounts/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { sessions, logger } = getRuntime();

/**
 * `POST /login`: checks the password under the lockout and answers 200 like register; for a
 * user with a second factor, 200 `{mfaRequired, challenge, methods}` and no session (docs/mfa.md).
 */
export const handler = httpEndpoint('login', async (event, { body }) => {
  const request = parseLoginRequest(body);
  logger.appendKeys({ username: request.username });
  // Both outcomes answer 200: a session, or the challenge its second factor answers.
  const outcome = await sessions.login(request, originOf(event));
  return { status: 200, body: outcome.result };
});

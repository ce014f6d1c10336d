import { parseLoginRequest } from '../core/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { service, logger } = getRuntime();

/** `POST /login`: checks the password under the lockout and answers 200 like register. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const request = parseLoginRequest(event.body);
  logger.appendKeys({ username: request.username });
  return { status: 200, body: await service.login(request, originOf(event)) };
});

import { parseResetPasswordRequest } from '../core/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { service, logger } = getRuntime();

/** `POST /password/reset`: redeems an operator's one-time code; answers 200 like login. */
export const handler = httpEndpoint('passwordReset', async (event, { body }) => {
  const request = parseResetPasswordRequest(body);
  logger.appendKeys({ username: request.username });
  return { status: 200, body: await service.resetPassword(request, originOf(event)) };
});

import { parseResetPasswordRequest } from '../accounts/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { accounts, logger } = getRuntime();

/** `POST /password/reset`: redeems an operator's one-time code; answers 200 like login. */
export const handler = httpEndpoint('passwordReset', async (event, { body }) => {
  const request = parseResetPasswordRequest(body);
  logger.appendKeys({ username: request.username });
  return { status: 200, body: await accounts.resetPassword(request, originOf(event)) };
});

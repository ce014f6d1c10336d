import { parseRegisterRequest } from '../accounts/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { accounts, logger } = getRuntime();

/** `POST /register`: creates a user and answers 201 with a session, credentials and storage. */
export const handler = httpEndpoint('register', async (event, { body }) => {
  const request = parseRegisterRequest(body);
  logger.appendKeys({ username: request.username });
  return { status: 201, body: await accounts.register(request, originOf(event)) };
});

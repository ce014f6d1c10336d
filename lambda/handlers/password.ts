import { parsePasswordChange } from '../accounts/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/**
 * `POST /password`: changes the password (the current one, and on an account with a second
 * factor also that factor), revokes every session and answers 200 with a new session for the
 * caller (`{session}`); the old token stops working.
 */
export const handler = httpEndpoint('password', async (event, { token, body }) => {
  const { request, factor } = parsePasswordChange(body);
  return { status: 200, body: await mfa.changePassword(token, request, factor, originOf(event)) };
});

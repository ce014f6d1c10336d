import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/** `POST /logout`: revokes the caller's session and answers 204. */
export const handler = httpEndpoint('logout', async (event, { token }) => {
  await sessions.logout(token, originOf(event));
  return { status: 204 };
});

import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/** `POST /logout`: revokes the caller's session and answers 204. */
export const handler = httpEndpoint({ jsonBody: false }, async (event) => {
  await sessions.logout(parseBearerToken(authorizationHeader(event)), originOf(event));
  return { status: 204 };
});

import { parseBearerToken, parseChangePasswordRequest } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { service } = getRuntime();

/**
 * `POST /password`: changes the password, revokes every session and answers 200 with a new
 * session for the caller (`{session}`); the old token stops working.
 */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const request = parseChangePasswordRequest(event.body);
  return { status: 200, body: await service.changePassword(token, request, originOf(event)) };
});

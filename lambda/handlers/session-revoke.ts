import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { service } = getRuntime();

/** `DELETE /sessions/{id}`: revokes one of the caller's own sessions and answers 204. */
export const handler = httpEndpoint({ jsonBody: false }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  await service.revokeSession(token, event.pathParameters?.id, originOf(event));
  return { status: 204 };
});

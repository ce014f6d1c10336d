import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/** `POST /token`: fresh credentials for a live session. Any body is ignored. */
export const handler = httpEndpoint({ jsonBody: false }, async (event) => ({
  status: 200,
  body: await sessions.token(parseBearerToken(authorizationHeader(event)), originOf(event)),
}));

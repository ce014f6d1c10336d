import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/** `GET /sessions`: the caller's live sessions (`{sessions: [...]}`). */
export const handler = httpEndpoint({ jsonBody: false }, async (event) => ({
  status: 200,
  body: { sessions: await sessions.listSessions(parseBearerToken(authorizationHeader(event))) },
}));

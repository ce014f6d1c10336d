import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/** `GET /sessions`: the caller's live sessions (`{sessions: [...]}`). */
export const handler = httpEndpoint('sessionsList', async (_event, { token }) => ({
  status: 200,
  body: { sessions: await sessions.listSessions(token) },
}));

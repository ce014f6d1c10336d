import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { service } = getRuntime();

/** `GET /sessions`: the caller's live sessions (`{sessions: [...]}`). */
export const handler = httpEndpoint('sessionsList', async (_event, { token }) => ({
  status: 200,
  body: { sessions: await service.listSessions(token) },
}));

import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { shares } = getRuntime();

/** `GET /shares`: the shares the caller gave and received (`{given: [...], received: [...]}`). */
export const handler = httpEndpoint('sharesList', async (_event, { token }) => ({
  status: 200,
  body: await shares.list(token),
}));

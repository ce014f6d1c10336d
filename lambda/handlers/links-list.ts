import { apiBaseUrl, httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { links } = getRuntime();

/** `GET /links`: the caller's live links (`{links: [...]}`). */
export const handler = httpEndpoint('linksList', async (event, { token }) => ({
  status: 200,
  body: await links.list(token, apiBaseUrl(event)),
}));

import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { links } = getRuntime();

/**
 * `GET /l/{id}` (no authentication: the id is the secret): 302 to a presigned GET of the linked
 * file, valid at most LINK_URL_SECONDS. Never cached, and the URL is not passed on as a referrer.
 */
export const handler = httpEndpoint('linkOpen', async (event) => ({
  status: 302,
  headers: { Location: await links.open(event.pathParameters?.id, originOf(event)), 'Referrer-Policy': 'no-referrer' },
}));

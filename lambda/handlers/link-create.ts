import { apiBaseUrl, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { links } = getRuntime();

/** `POST /links`: a link to one file of the caller's folder (201 with its id and URL). */
export const handler = httpEndpoint('linkCreate', async (event, { token, body }) => ({
  status: 201,
  body: await links.create(token, body, apiBaseUrl(event), originOf(event)),
}));

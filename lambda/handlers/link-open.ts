import { S3LinkPresigner } from '../adapters/link-presigner';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { linkOpener, config } = getRuntime();
// Only this function carries the S3 client the presigner signs with.
const opener = linkOpener(new S3LinkPresigner(config.region, config.s3Endpoint));

/**
 * `GET /l/{id}` (no authentication: the id is the secret): 302 to a presigned GET of the linked
 * file, valid at most LINK_URL_SECONDS. Never cached, and the URL is not passed on as a referrer.
 */
export const handler = httpEndpoint('linkOpen', async (event) => ({
  status: 302,
  headers: { Location: await opener.open(event.pathParameters?.id, originOf(event)), 'Referrer-Policy': 'no-referrer' },
}));

/**
 * The S3 gate's CORS: the answer to a browser's preflight, and the headers every answer to a
 * page's request carries.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsAuthError } from '../shared/sigv4';

/** Response headers a browser app may read (S3's usual CORS ExposeHeaders). */
const EXPOSED_HEADERS = [
  'ETag',
  'Content-Length',
  'Content-Type',
  'Content-Range',
  'Last-Modified',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amz-version-id',
  'x-amz-delete-marker',
  'x-amz-checksum-crc32',
].join(', ');

/** The CORS headers of an answer to a request from `origin` (none without an Origin). */
export function corsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  // The sandbox serves any origin: requests are authorised by their signatures, never by cookies.
  return { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED_HEADERS, Vary: 'Origin' };
}

/** Answers a preflight (OPTIONS), or throws S3's refusal of one. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (origin === undefined) throw new AwsAuthError(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
  if (method === undefined) throw new AwsAuthError(400, 'BadRequest', 'Invalid Access-Control-Request-Method: null');
  res.writeHead(200, {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE, HEAD',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    'Access-Control-Max-Age': '3000',
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    'Content-Length': '0',
  });
  res.end();
}

/**
 * The S3 gate's CORS: the bucket's rule as the stack deploys it (lambda/contract/cors.ts),
 * for the origins the sandbox is configured with. A preflight is answered as S3 answers it
 * for that rule; every answer to a request from an allowed origin carries the rule's headers;
 * a request from any other origin is still served (signatures authorise it), but without
 * them, so a browser does not let the page read it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BUCKET_CORS } from '../../lambda/contract/cors';
import { AwsAuthError } from '../shared/sigv4';

/** The Access-Control-Allow-Origin an origin is granted: `*` under a rule for any origin, itself if listed, else none. */
function grantedOrigin(origin: string, allowedOrigins: readonly string[]): string | undefined {
  if (allowedOrigins.includes('*')) return '*';
  return allowedOrigins.includes(origin) ? origin : undefined;
}

/** The headers S3 adds for a matching rule (its methods, exposed headers and max age). */
function ruleHeaders(granted: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': granted,
    'Access-Control-Allow-Methods': BUCKET_CORS.allowedMethods.join(', '),
    'Access-Control-Expose-Headers': BUCKET_CORS.exposedHeaders.join(', '),
    'Access-Control-Max-Age': String(BUCKET_CORS.maxAgeSeconds),
    // S3 allows credentials for a named origin; a rule for any origin answers `*` without them.
    ...(granted === '*' ? {} : { 'Access-Control-Allow-Credentials': 'true' }),
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
}

/** The CORS headers of an answer to a request from `origin`: none without an Origin, or for an origin not allowed. */
export function corsHeaders(origin: string | undefined, allowedOrigins: readonly string[]): Record<string, string> {
  if (origin === undefined) return {};
  const granted = grantedOrigin(origin, allowedOrigins);
  return granted === undefined ? {} : ruleHeaders(granted);
}

/** Answers a preflight (OPTIONS) as S3 answers it under the bucket's rule, or throws S3's refusal. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, allowedOrigins: readonly string[]): void {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (origin === undefined)
    throw new AwsAuthError(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
  if (method === undefined) throw new AwsAuthError(400, 'BadRequest', 'Invalid Access-Control-Request-Method: null');
  if (allowedOrigins.length === 0)
    throw new AwsAuthError(403, 'AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
  const granted = grantedOrigin(origin, allowedOrigins);
  // The rule allows every request header ('*'), so only the origin and the method can fail to match.
  if (granted === undefined || !(BUCKET_CORS.allowedMethods as readonly string[]).includes(method)) {
    throw new AwsAuthError(
      403,
      'AccessForbidden',
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    );
  }
  const requestedHeaders = req.headers['access-control-request-headers'];
  res.writeHead(200, {
    ...ruleHeaders(granted),
    ...(requestedHeaders !== undefined ? { 'Access-Control-Allow-Headers': requestedHeaders } : {}),
    'Content-Length': '0',
  });
  res.end();
}

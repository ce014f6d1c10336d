/**
 * The browser's view of the TVM, declared once: the API's CORS (API Gateway's preflight, the
 * functions' responses) and the file bucket's CORS rule. The stack (lib/tvm-api.ts,
 * lib/file-bucket.ts), the functions (lambda/handlers/http.ts) and the sandbox (its API
 * adapter and its S3 gate) all apply these values; only the allowed origins are configured
 * (the `allowedOrigins` setting). Pure data: no imports.
 */

/** The API's CORS: what a page on an allowed origin may send to the TVM API and read back. */
export const API_CORS = {
  /** Request headers a page may send: the bearer token and the JSON body's type. */
  allowHeaders: ['Authorization', 'Content-Type'],
  /**
   * The methods the preflight names, the same for every route: the route table's methods
   * (in its order) and OPTIONS. A test checks that every route's method is here.
   */
  allowMethods: ['POST', 'GET', 'DELETE', 'OPTIONS'],
  /** Response headers a page may read beyond the safelisted ones: the client waits Retry-After on 429 and 503. */
  exposeHeaders: ['Retry-After'],
  /** How long a browser may cache a preflight answer (10 minutes). */
  maxAgeSeconds: 600,
} as const;

/**
 * The Access-Control-Allow-Origin of the errors API Gateway answers itself (its gateway
 * responses: a body the model refuses, throttling, a failed function). Their headers are
 * static, so only a single allowed origin (or `*`) can be named; with a list there is none,
 * and a browser sees those errors as network errors (the functions' own errors still carry it).
 */
export function gatewayResponseAllowOrigin(allowedOrigins: readonly string[]): string | undefined {
  return allowedOrigins.length === 1 ? allowedOrigins[0] : undefined;
}

/** The file bucket's CORS rule: what a page may do against its own folder with vended credentials. */
export const BUCKET_CORS = {
  allowedMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
  /** SigV4 signing adds authorization, x-amz-* and content headers; listing them one by one breaks with every SDK release. */
  allowedHeaders: ['*'],
  /**
   * Response headers a page may read beyond the safelisted ones (Content-Length, Content-Type,
   * Last-Modified, ...). ETag is needed to complete multipart uploads from a browser. A header
   * not listed here (Content-Range, x-amz-checksum-*) is invisible to a page, deployed and in
   * the sandbox alike: add it here if the web app comes to read one.
   */
  exposedHeaders: ['ETag', 'x-amz-version-id', 'x-amz-request-id'],
  /** How long a browser may cache a preflight answer (1 hour). */
  maxAgeSeconds: 3600,
} as const;

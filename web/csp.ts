/**
 * The web app's content security policy. `connect-src` names only the TVM's API and the S3
 * endpoint (issue 14): a script injected into the page cannot send the
 * session token or files to any other origin with fetch, XHR, WebSocket or beacons.
 */

/** The origin of a URL (scheme, host, port), for a CSP source list. */
function originOf(url: string): string {
  return new URL(url).origin;
}

/**
 * The policy for a page that calls `apiUrl` (absent: its own origin), S3 at `s3Endpoint`
 * (absent: any loopback port, where the sandbox's S3 gate always listens) and the sign-in
 * providers at `oidcIssuers` (their origins only).
 */
export function contentSecurityPolicy(options: {
  readonly apiUrl?: string;
  readonly s3Endpoint?: string;
  /** The issuers of the sign-in providers the page offers: it reads their discovery document and redeems codes there. */
  readonly oidcIssuers?: readonly string[];
}): string {
  const connect = ["'self'"];
  if (options.apiUrl) connect.push(originOf(options.apiUrl));
  for (const issuer of options.oidcIssuers ?? []) connect.push(originOf(issuer));
  connect.push(...(options.s3Endpoint ? [originOf(options.s3Endpoint)] : ['http://127.0.0.1:*', 'http://localhost:*']));
  return [
    "default-src 'self'",
    `connect-src ${[...new Set(connect)].join(' ')}`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The dev IdP's token endpoint: an authorization code and its PKCE verifier for an ID token
 * (a public client: no secret, PKCE S256 is the proof). A code works once, within its
 * lifetime, for the client and redirect_uri it was issued to; any failed attempt uses it up.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CodeStore, DevIdpClient } from './authorize';
import { FormError, readForm, sendJson, sendOAuthError, single } from './http';
import type { KeyRing } from './keys';

/** How long an ID token from the dev IdP lives, in seconds. */
export const ID_TOKEN_LIFETIME_SECONDS = 300;

/** A PKCE code_verifier (RFC 7636 section 4.1): 43-128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function matchesChallenge(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** The claims of the ID token for a sign-in; the signer adds nothing. */
export function idTokenClaims(
  issuer: string,
  grant: {
    clientId: string;
    subject: string;
    email?: string;
    nonce?: string;
    amr: readonly string[];
    authTime: number;
  },
  nowMs: number,
): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: issuer,
    sub: grant.subject,
    aud: grant.clientId,
    iat,
    exp: iat + ID_TOKEN_LIFETIME_SECONDS,
    auth_time: grant.authTime,
    amr: [...grant.amr],
    ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
    // The dev IdP never checks an email: it says so.
    ...(grant.email !== undefined ? { email: grant.email, email_verified: false } : {}),
  };
}

/** POST /token (and its CORS preflight): a browser app on a registered origin calls it directly. */
export async function handleToken(
  req: IncomingMessage,
  res: ServerResponse,
  context: {
    readonly issuer: string;
    readonly clients: readonly DevIdpClient[];
    readonly codes: CodeStore;
    readonly keys: KeyRing;
    readonly now: () => number;
  },
): Promise<void> {
  const origin = req.headers.origin;
  const cors: Record<string, string> =
    origin !== undefined && context.clients.some((client) => client.redirectOrigins.includes(origin))
      ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' }
      : { Vary: 'Origin' };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      ...cors,
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return;
  }
  if (req.method !== 'POST')
    return sendOAuthError(res, 405, 'invalid_request', 'Use POST.', { ...cors, Allow: 'POST, OPTIONS' });
  let params: URLSearchParams;
  try {
    params = await readForm(req);
  } catch (error) {
    if (error instanceof FormError) return sendOAuthError(res, 400, 'invalid_request', error.message, cors);
    throw error;
  }
  if (single(params, 'grant_type') !== 'authorization_code')
    return sendOAuthError(res, 400, 'unsupported_grant_type', 'Only grant_type=authorization_code is supported.', cors);
  const code = single(params, 'code');
  const verifier = single(params, 'code_verifier');
  const clientId = single(params, 'client_id');
  const redirectUri = single(params, 'redirect_uri');
  if (code === undefined || verifier === undefined || clientId === undefined || redirectUri === undefined)
    return sendOAuthError(
      res,
      400,
      'invalid_request',
      'code, code_verifier, client_id and redirect_uri are required, once each.',
      cors,
    );
  if (!context.clients.some((client) => client.clientId === clientId))
    return sendOAuthError(res, 401, 'invalid_client', 'Unknown client_id.', cors);
  // Taken on first use, whatever happens next: a code is never tried twice.
  const grant = context.codes.take(code);
  if (
    !grant ||
    grant.clientId !== clientId ||
    grant.redirectUri !== redirectUri ||
    !VERIFIER.test(verifier) ||
    !matchesChallenge(verifier, grant.codeChallenge)
  )
    return sendOAuthError(
      res,
      400,
      'invalid_grant',
      'The code is unknown, used, expired, or not for this client, redirect_uri and code_verifier.',
      cors,
    );
  const idToken = await context.keys.sign(idTokenClaims(context.issuer, grant, context.now()));
  sendJson(
    res,
    200,
    {
      id_token: idToken,
      // OAuth requires an access token; the dev IdP has no API it would open (no userinfo endpoint).
      access_token: randomBytes(32).toString('base64url'),
      token_type: 'Bearer',
      expires_in: ID_TOKEN_LIFETIME_SECONDS,
      scope: 'openid',
    },
    { ...cors, Pragma: 'no-cache' },
  );
}

/**
 * OpenID Connect in tests: signing in at the sandbox's dev IdP over HTTP the way an app does
 * (authorization code with PKCE), and crafting the tokens an attacker would send (unsigned,
 * HMAC-"signed" with the public key, signed by a stranger's key, malformed). Well-formed tokens
 * with chosen claims come from the IdP itself: `DevIdp.mint` (local/oidc/server.ts).
 */
import { createHash, createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { generateKeyPair, SignJWT, type JWK } from 'jose';
import type { DevIdp } from '../../local/oidc/server';
import { postJson } from './e2e';

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** What {@link signInAtIdp} types on the sign-in page. */
export interface IdpSignIn {
  readonly subject: string;
  readonly email?: string;
  /** The nonce the app got from `POST /login/oidc/nonce`. */
  readonly nonce?: string;
  /** Tick "I used a second factor" (the token's `amr` then includes `mfa`). */
  readonly mfa?: boolean;
  /** Default the IdP's first client's first origin + `/`. */
  readonly redirectUri?: string;
}

/**
 * Signs in at a dev IdP over HTTP as a browser app does: GET /authorize (the page), POST the
 * form, read the code from the redirect, exchange it with the PKCE verifier at /token.
 * Returns the ID token; throws on any unexpected answer.
 */
export async function signInAtIdp(idp: Pick<DevIdp, 'issuer' | 'clients'>, signIn: IdpSignIn): Promise<string> {
  const client = idp.clients[0];
  if (!client) throw new Error('the IdP has no client');
  const redirectUri = signIn.redirectUri ?? `${client.redirectOrigins[0]}/`;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope: 'openid email',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(signIn.nonce !== undefined ? { nonce: signIn.nonce } : {}),
  });
  const page = await fetch(`${idp.issuer}/authorize?${params}`);
  if (page.status !== 200) throw new Error(`GET /authorize answered ${page.status}`);
  await page.text();
  const form = new URLSearchParams(params);
  form.set('subject', signIn.subject);
  if (signIn.email !== undefined) form.set('email', signIn.email);
  if (signIn.mfa) form.set('mfa', '1');
  form.set('action', 'sign-in');
  const redirect = await fetch(`${idp.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
  const location = redirect.headers.get('location');
  if (redirect.status !== 303 || location === null) throw new Error(`POST /authorize answered ${redirect.status}`);
  const back = new URL(location);
  if (back.searchParams.get('state') !== state) throw new Error('the IdP did not return the state');
  const code = back.searchParams.get('code');
  if (code === null) throw new Error(`the IdP answered ${back.searchParams.get('error')}`);
  const token = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: client.clientId,
      redirect_uri: redirectUri,
    }),
  });
  const body = (await token.json()) as { id_token?: string };
  if (token.status !== 200 || body.id_token === undefined) throw new Error(`POST /token answered ${token.status}`);
  return body.id_token;
}

/** Decodes a JWT's payload without checking anything (to read what a test minted). */
export function unverifiedClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A token with `alg: none` and no signature (RFC 7519 section 6: an "unsecured JWT"). */
export function unsecuredToken(claims: Record<string, unknown>, kid?: string): string {
  return `${base64url({ alg: 'none', typ: 'JWT', ...(kid !== undefined ? { kid } : {}) })}.${base64url(claims)}.`;
}

/**
 * The classic key-confusion forgery: an HS256 token whose HMAC secret is the IdP's published
 * RSA public key (as PEM, as a naive verifier would load it), under that key's `kid`.
 */
export function hmacWithPublicKey(jwk: JWK, claims: Record<string, unknown>): string {
  const pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${base64url(claims)}`;
  return `${signingInput}.${createHmac('sha256', pem).update(signingInput).digest('base64url')}`;
}

/** A token signed by a key the IdP never published (a stranger's), with the given `kid` (e.g. the IdP's own). */
export async function strangersToken(claims: Record<string, unknown>, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
}

/** Requests a nonce from the TVM (`POST /login/oidc/nonce`). */
export async function tvmNonce(apiUrl: string): Promise<string> {
  const { status, body } = await postJson(`${apiUrl}/login/oidc/nonce`);
  if (status !== 200) throw new Error(`POST /login/oidc/nonce answered ${status}: ${JSON.stringify(body)}`);
  return (body as { nonce: string }).nonce;
}

/** `POST /login/oidc`: status and parsed body (and Retry-After when present). */
export async function loginOidc(
  apiUrl: string,
  body: { provider: string; idToken: string; username?: string },
): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const response = await fetch(`${apiUrl}/login/oidc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as unknown) : undefined,
    retryAfter: response.headers.get('retry-after'),
  };
}

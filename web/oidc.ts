/**
 * Sign-in with an outside provider in the browser: the authorization code flow with PKCE
 * (S256, WebCrypto), as a public client (no secret). The nonce comes from the TVM
 * (`POST /login/oidc/nonce`), so the ID token the provider returns can be used once, at this
 * TVM; `state` (random, kept in this tab's sessionStorage) ties the provider's answer to the
 * sign-in this tab started, so a code injected from elsewhere is refused.
 *
 * The page leaves for the provider and comes back with `?code&state`: what must survive the
 * trip (the verifier, the state, the nonce, what the sign-in was for) waits in sessionStorage
 * (this tab only) and is removed as the page comes back, whatever the answer.
 */
import type { TvmClient } from '@serverless-tvm/client';
import { UserMistake } from './messages';
import { parseWebProviders, type WebOidcProvider } from './oidc-providers';

/** What a sign-in with a provider is for; `carry` holds what the page needs after the trip (never a password). */
export type SignInPurpose =
  | { readonly kind: 'login' }
  /** A first sign-in whose token could not be used again with the chosen name: the name waits in `carry`. */
  | { readonly kind: 'signup'; readonly carry: { readonly username: string } }
  | { readonly kind: 'link' }
  /** Confirming a link with a linked identity: the new identity's token waits in `carry`. */
  | { readonly kind: 'link-confirm'; readonly carry: { readonly provider: string; readonly idToken: string } }
  | { readonly kind: 'unlink'; readonly carry: { readonly id: string } };

/** A sign-in the provider answered: the ID token, from which provider, and what it was for. */
export interface ProviderAnswer {
  readonly provider: string;
  readonly idToken: string;
  readonly purpose: SignInPurpose;
}

/** The sessionStorage key of the sign-in under way in this tab. */
export const PENDING_KEY = 'personal-file-store.oidc.pending';

interface Pending {
  readonly provider: string;
  readonly issuer: string;
  readonly state: string;
  readonly verifier: string;
  readonly nonce: string;
  readonly tokenEndpoint: string;
  readonly redirectUri: string;
  readonly purpose: SignInPurpose;
  /** Epoch ms; a trip older than the nonce's life is not finished. */
  readonly startedAt: number;
}

/** The providers the server named in the page (web/serve.ts); none when it named none. */
export function configuredProviders(): WebOidcProvider[] {
  const content = document.querySelector<HTMLMetaElement>('meta[name="tvm-oidc-providers"]')?.content.trim() ?? '';
  return content === '' || content.startsWith('%') ? [] : parseWebProviders(content);
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The PKCE S256 challenge of `verifier` (RFC 7636). */
async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** The page's own address without query or fragment: where the provider sends the person back. */
function redirectUri(): string {
  return `${window.location.origin}${window.location.pathname}`;
}

const UNREACHABLE = (name: string) =>
  new UserMistake(`The sign-in service "${name}" cannot be reached right now. Try again in a moment.`);

/** The provider's endpoints from its discovery document, whose issuer must be the configured one. */
async function discover(provider: WebOidcProvider): Promise<{ authorization: string; token: string }> {
  let document: Record<string, unknown>;
  try {
    const response = await fetch(`${provider.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as Record<string, unknown>;
  } catch (error) {
    console.error(error);
    throw UNREACHABLE(provider.name);
  }
  const { issuer, authorization_endpoint: authorization, token_endpoint: token } = document;
  if (issuer !== provider.issuer || typeof authorization !== 'string' || typeof token !== 'string')
    throw new UserMistake(`The sign-in service "${provider.name}" is not set up correctly. Tell your administrator.`);
  return { authorization, token };
}

/**
 * Leaves the page for the provider's sign-in. Resolves only if leaving fails (it throws then);
 * the page comes back to {@link finishProviderSignIn}.
 */
export async function startProviderSignIn(
  tvm: TvmClient,
  provider: WebOidcProvider,
  purpose: SignInPurpose,
): Promise<void> {
  const [{ nonce }, endpoints] = await Promise.all([tvm.createOidcNonce(), discover(provider)]);
  const verifier = randomString();
  const pending: Pending = {
    provider: provider.name,
    issuer: provider.issuer,
    state: randomString(),
    verifier,
    nonce,
    tokenEndpoint: endpoints.token,
    redirectUri: redirectUri(),
    purpose,
    startedAt: Date.now(),
  };
  const url = new URL(endpoints.authorization);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: pending.redirectUri,
    scope: 'openid',
    state: pending.state,
    nonce,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
  }).toString();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(url.href);
}

/** The `nonce` claim of a JWT's payload, read without checking anything (the TVM checks the token). */
function nonceClaim(idToken: string): unknown {
  try {
    const payload = idToken.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return (JSON.parse(json) as Record<string, unknown>)['nonce'];
  } catch {
    return undefined;
  }
}

/** How long a trip to the provider may take: the TVM's nonce lives ten minutes (OIDC_NONCE_SECONDS). */
const TRIP_MAX_MS = 10 * 60 * 1000;

/**
 * When the page comes back from a provider (`?code&state` or `?error&state`): takes the sign-in
 * this tab started (it works once), clears the address bar, checks `state`, and redeems the code
 * at the provider's token endpoint with the PKCE verifier. Undefined when the page did not come
 * back from a provider.
 * @throws UserMistake when the person cancelled, the answer is not this tab's, or the code did not work.
 */
export async function finishProviderSignIn(): Promise<ProviderAnswer | undefined> {
  const params = new URLSearchParams(window.location.search);
  const state = params.get('state');
  if (state === null || (!params.has('code') && !params.has('error'))) return undefined;
  // The code is single use and the address bar must not keep it (history, a copied link).
  window.history.replaceState(null, '', redirectUri() + window.location.hash);
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  let pending: Pending | undefined;
  try {
    pending = stored === null ? undefined : (JSON.parse(stored) as Pending);
  } catch {
    pending = undefined;
  }
  if (!pending || pending.state !== state)
    throw new UserMistake('That sign-in was not started on this page. Start it again here.');
  // RFC 9207: a provider that names itself in the answer must be the one this tab went to (mix-up attacks).
  const answeredBy = params.get('iss');
  if (answeredBy !== null && answeredBy !== pending.issuer)
    throw new UserMistake('That answer came from another sign-in service than the one you chose. Start again.');
  if (params.has('error')) {
    throw new UserMistake(
      params.get('error') === 'access_denied'
        ? 'The sign-in was cancelled.'
        : `The sign-in service refused the sign-in (${params.get('error')}). Try again.`,
    );
  }
  if (Date.now() - pending.startedAt > TRIP_MAX_MS)
    throw new UserMistake('That sign-in took too long and has expired. Start it again.');
  const code = params.get('code') ?? '';
  let answer: Record<string, unknown>;
  try {
    const response = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: pending.redirectUri,
        client_id: providerNamed(pending.provider).clientId,
        code_verifier: pending.verifier,
      }).toString(),
    });
    answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      console.error('token endpoint answered', response.status, answer['error']);
      throw new UserMistake('The sign-in could not be completed (the code was refused). Start it again.');
    }
  } catch (error) {
    if (error instanceof UserMistake) throw error;
    console.error(error);
    throw UNREACHABLE(pending.provider);
  }
  const idToken = answer['id_token'];
  // The TVM checks the nonce too; checking here first catches a token meant for another sign-in.
  if (typeof idToken !== 'string' || nonceClaim(idToken) !== pending.nonce)
    throw new UserMistake('The sign-in service sent an answer this page cannot use. Start the sign-in again.');
  return { provider: pending.provider, idToken, purpose: pending.purpose };
}

/** The configured provider of that name. */
function providerNamed(name: string): WebOidcProvider {
  const provider = configuredProviders().find((candidate) => candidate.name === name);
  if (!provider) throw new UserMistake(`The sign-in service "${name}" is no longer offered here.`);
  return provider;
}

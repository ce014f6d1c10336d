/**
 * The sandbox's dev identity provider (local/oidc/) on its own, over real HTTP on loopback:
 * the code flow with PKCE, single-use codes, registered redirects only, key rotation, and the
 * tokens checked with `jose` against its published JWKS, as a relying party would.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startDevIdp, type DevIdp } from '../../local/oidc/server';
import { signInAtIdp, unverifiedClaims } from '../support/oidc';

const APP = 'http://localhost:3999';
let idp: DevIdp;

beforeAll(async () => {
  idp = await startDevIdp({ port: 0, clients: [{ clientId: 'tvm-web', redirectOrigins: [APP] }] });
});
afterAll(() => idp.stop());

function authorizeParams(overrides: Record<string, string | undefined> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const values: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'tvm-web',
    redirect_uri: `${APP}/callback`,
    scope: 'openid',
    state: 'st',
    nonce: 'nonce-1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...overrides,
  };
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.set(name, value);
  return { params, verifier };
}

async function signInForm(params: URLSearchParams, subject: string): Promise<Response> {
  const form = new URLSearchParams(params);
  form.set('subject', subject);
  form.set('action', 'sign-in');
  return fetch(`${idp.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
}

function exchange(code: string, verifier: string, redirectUri = `${APP}/callback`) {
  return fetch(`${idp.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'tvm-web',
      redirect_uri: redirectUri,
    }),
  });
}

async function codeFor(subject: string) {
  const { params, verifier } = authorizeParams();
  const response = await signInForm(params, subject);
  const code = new URL(response.headers.get('location') as string).searchParams.get('code') as string;
  return { code, verifier };
}

describe('dev IdP: the code flow', () => {
  it('signs a subject in and its ID token verifies against the published JWKS with iss, aud, nonce, amr and an unverified email', async () => {
    const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery).toMatchObject({
      issuer: idp.issuer,
      jwks_uri: `${idp.issuer}/jwks`,
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    });
    const token = await signInAtIdp(idp, {
      subject: 'alice-123',
      email: 'alice@example.com',
      nonce: 'n-42',
      mfa: true,
    });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri as string)), {
      issuer: idp.issuer,
      audience: 'tvm-web',
      algorithms: ['RS256', 'ES256'],
    });
    expect(payload).toMatchObject({
      sub: 'alice-123',
      nonce: 'n-42',
      email: 'alice@example.com',
      email_verified: false,
      amr: ['pwd', 'mfa'],
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
  });

  it('answers the app at its redirect_uri with the code, its state and the issuer (RFC 9207)', async () => {
    const { params } = authorizeParams({ state: 'xyz' });
    const response = await signInForm(params, 'bob');
    expect(response.status).toBe(303);
    const back = new URL(response.headers.get('location') as string);
    expect(`${back.origin}${back.pathname}`).toBe(`${APP}/callback`);
    expect(back.searchParams.get('state')).toBe('xyz');
    expect(back.searchParams.get('iss')).toBe(idp.issuer);
    expect(back.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('exchanges a code once: the second exchange is invalid_grant', async () => {
    const { code, verifier } = await codeFor('carol');
    expect((await exchange(code, verifier)).status).toBe(200);
    const again = await exchange(code, verifier);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a wrong PKCE verifier, and the code is then used up for the right one too', async () => {
    const { code, verifier } = await codeFor('dave');
    const wrong = await exchange(code, randomBytes(32).toString('base64url'));
    expect(wrong.status).toBe(400);
    expect((await exchange(code, verifier)).status).toBe(400);
  });

  it('refuses a code exchanged for another redirect_uri than it was issued to', async () => {
    const { code, verifier } = await codeFor('erin');
    expect((await exchange(code, verifier, `${APP}/elsewhere`)).status).toBe(400);
  });

  it.each([
    ['no code_challenge', 'invalid_request', { code_challenge: undefined }],
    ['the plain method', 'invalid_request', { code_challenge_method: 'plain' }],
    ['no method', 'invalid_request', { code_challenge_method: undefined }],
    ['response_type token', 'unsupported_response_type', { response_type: 'token' }],
    ['no openid scope', 'invalid_scope', { scope: 'email' }],
  ])(
    'requires PKCE S256 and the code flow: %s goes back to the app as error=%s, with no code',
    async (_name, error, overrides) => {
      const { params } = authorizeParams(overrides);
      const response = await fetch(`${idp.issuer}/authorize?${params}`, { redirect: 'manual' });
      expect(response.status).toBe(303);
      const back = new URL(response.headers.get('location') as string);
      expect(back.origin).toBe(APP);
      expect(back.searchParams.get('error')).toBe(error);
      expect(back.searchParams.get('code')).toBeNull();
    },
  );

  it.each([
    ['another origin', { redirect_uri: 'http://evil.example/callback' }],
    ['another port', { redirect_uri: 'http://localhost:4000/callback' }],
    ['a fragment', { redirect_uri: `${APP}/callback#x` }],
    ['user info', { redirect_uri: 'http://user@localhost:3999/callback' }],
    ['an unknown client', { client_id: 'someone-else' }],
  ])('never redirects to an unregistered place (%s): an error page, no Location', async (_name, overrides) => {
    const { params } = authorizeParams(overrides);
    for (const response of [
      await fetch(`${idp.issuer}/authorize?${params}`, { redirect: 'manual' }),
      await signInForm(params, 'mallory'),
    ]) {
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('role="alert"');
    }
  });

  it('cancelling sends access_denied back with the state and no code', async () => {
    const { params } = authorizeParams({ state: 'cancel-state' });
    const form = new URLSearchParams(params);
    form.set('action', 'cancel');
    const response = await fetch(`${idp.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    const back = new URL(response.headers.get('location') as string);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('cancel-state');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('serves a labelled sign-in form with no script allowed by its CSP', async () => {
    const { params } = authorizeParams();
    const response = await fetch(`${idp.issuer}/authorize?${params}`);
    const html = await response.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(
      /<label for="subject">[^<]+<\/label>\s*<input type="text" id="subject" name="subject" required/,
    );
    expect(html).toMatch(/<label for="email">[^<]+<\/label>\s*<input type="email" id="email"/);
    expect(html).toContain('<button type="submit" name="action" value="sign-in">Sign in</button>');
    const csp = response.headers.get('content-security-policy') as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('carries any visible-ASCII subject of 1-255 characters into sub, and refuses others with the page (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300, unit: 'binary-ascii' }), async (subject) => {
        const { params, verifier } = authorizeParams();
        const response = await signInForm(params, subject);
        const trimmed = subject.trim();
        const valid = trimmed.length >= 1 && trimmed.length <= 255 && /^[\x21-\x7e]+$/.test(trimmed);
        const location = response.headers.get('location');
        let outcome: { status: number; sub?: unknown; location?: string | null };
        if (response.status === 303 && location !== null) {
          const code = new URL(location).searchParams.get('code') as string;
          const token = ((await (await exchange(code, verifier)).json()) as { id_token: string }).id_token;
          outcome = { status: 303, sub: unverifiedClaims(token).sub };
        } else {
          await response.text();
          outcome = { status: response.status, location };
        }
        expect(outcome).toEqual(valid ? { status: 303, sub: trimmed } : { status: 400, location: null });
      }),
      { numRuns: 60 },
    );
  });
});

describe('dev IdP: keys', () => {
  it('rotation publishes new keys, keeps the previous ones for one rotation, then drops them', async () => {
    const first = idp.currentKids();
    const before = await idp.mint({ sub: 'rotating' });
    const rotated = await fetch(`${idp.issuer}/rotate`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    const second = ((await rotated.json()) as { kids: typeof first }).kids;
    expect(second.RS256).not.toBe(first.RS256);
    expect(decodeProtectedHeader(await idp.mint()).kid).toBe(second.RS256);
    const published = async () =>
      ((await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    expect(await published()).toEqual([second.RS256, second.ES256, first.RS256, first.ES256]);
    // A token signed just before the rotation still verifies.
    await expect(jwtVerify(before, createLocalJWKSet(idp.jwks()), { audience: 'tvm-web' })).resolves.toBeDefined();
    await fetch(`${idp.issuer}/rotate`, { method: 'POST' });
    expect(await published()).not.toContain(first.RS256);
    await expect(jwtVerify(before, createLocalJWKSet(idp.jwks()))).rejects.toThrow();
  });

  it('mints ES256 tokens too, verifiable with the published key', async () => {
    const token = await idp.mint({ sub: 'ec' }, { alg: 'ES256' });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: idp.currentKids().ES256 });
    const { payload } = await jwtVerify(token, createLocalJWKSet(idp.jwks()), { issuer: idp.issuer });
    expect(payload.sub).toBe('ec');
  });

  it('refuses a rotation from a web page (a request with an Origin)', async () => {
    const kids = idp.currentKids();
    const response = await fetch(`${idp.issuer}/rotate`, {
      method: 'POST',
      headers: { Origin: 'http://evil.example' },
    });
    expect(response.status).toBe(403);
    expect(idp.currentKids()).toEqual(kids);
  });

  it('answers only for its own host name (no DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${idp.issuer}/jwks`, { headers: { Host: 'rebound.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('counts discovery and JWKS requests and can make them fail (the test switch)', async () => {
    const start = idp.hits();
    idp.setMetadataMode('down');
    const down = await fetch(`${idp.issuer}/jwks`);
    expect(down.status).toBe(503);
    idp.setMetadataMode('ok');
    expect((await fetch(`${idp.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    expect(idp.hits()).toEqual({ discovery: start.discovery + 1, jwks: start.jwks + 1 });
  });
});

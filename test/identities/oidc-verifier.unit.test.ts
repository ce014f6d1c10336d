/**
 * The real ID token verifier (jose) against keys generated here and a tiny local discovery and
 * JWKS server that counts its fetches: only asymmetric algorithms the provider publishes, exact
 * iss/aud/azp, the skew and age bounds, sub and nonce required, bounded refetching for unknown
 * key ids, rotation, provider failures as 503 with Retry-After, garbage refused with no fetch.
 */
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { createHmac } from 'node:crypto';
import { OIDC_ID_TOKEN_MAX_CHARACTERS } from '../../lambda/contract/limits';
import { JoseIdTokenVerifier } from '../../lambda/adapters/oidc-verifier';
import { INVALID_ID_TOKEN_MESSAGE } from '../../lambda/identities/messages';
import type { OidcProvider } from '../../lambda/identities/ports';
import { AuthenticationError, BackendUnavailableError } from '../../lambda/platform/errors';
import { thrown } from '../support/async';
import { LocalProvider, signingKey, type SigningKey } from '../support/local-oidc-provider';

const AUDIENCE = 'tvm-app';
let idp: LocalProvider;
let provider: OidcProvider;
let key: SigningKey;
let now = Date.now();
let verifier: JoseIdTokenVerifier;

type Claims = Record<string, unknown>;

async function mint(
  claims: Claims = {},
  signer: SigningKey = key,
  header: Record<string, unknown> = {},
): Promise<string> {
  const seconds = Math.floor(now / 1000);
  const payload = {
    iss: idp.issuer,
    aud: AUDIENCE,
    sub: 'user-1',
    nonce: 'n-1',
    iat: seconds,
    exp: seconds + 300,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete (payload as Claims)[name];
  return new SignJWT(payload as never)
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...header })
    .sign(signer.privateKey);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function expectRefused(token: string): Promise<void> {
  const error = await thrown(verifier.verify(provider, token));
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as Error).message).toBe(INVALID_ID_TOKEN_MESSAGE);
}

beforeEach(async () => {
  idp = new LocalProvider();
  await idp.start();
  key = await signingKey('k1');
  idp.keys = [key, await signingKey('k2', 'ES256')];
  provider = { name: 'local', issuer: idp.issuer, audiences: [AUDIENCE, 'other-app'], trustProviderMfa: false };
  now = Date.now();
  verifier = new JoseIdTokenVerifier({ now: () => now, timeoutMs: 500, cooldownMs: 30_000 });
});

afterEach(() => idp.stop());

describe('a valid token', () => {
  it('verifies with RS256 and ES256 keys from the JWKS and yields issuer, subject, nonce and amr', async () => {
    expect(await verifier.verify(provider, await mint({ amr: ['pwd', 'mfa'] }))).toEqual({
      issuer: idp.issuer,
      subject: 'user-1',
      nonce: 'n-1',
      methods: ['pwd', 'mfa'],
    });
    expect((await verifier.verify(provider, await mint({}, idp.keys[1]))).subject).toBe('user-1');
  });

  it('fetches discovery and the key set once for many tokens', async () => {
    for (let index = 0; index < 5; index++) await verifier.verify(provider, await mint({ sub: `u${index}` }));
    expect([idp.discoveryFetches, idp.jwksFetches]).toEqual([1, 1]);
  });
});

describe('refused tokens: the one 401', () => {
  it('alg none is refused without any fetch', async () => {
    const token = `${b64({ alg: 'none', kid: 'k1' })}.${b64({ iss: idp.issuer, aud: AUDIENCE, sub: 'x', nonce: 'n' })}.`;
    await expectRefused(token);
    await expectRefused(`${token}AAAA`);
    expect(idp.discoveryFetches + idp.jwksFetches).toBe(0);
  });

  it('HS256 "signed" with the public key as the HMAC secret is refused without any fetch', async () => {
    const seconds = Math.floor(now / 1000);
    const signingInput = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64({ iss: idp.issuer, aud: AUDIENCE, sub: 'x', nonce: 'n', iat: seconds, exp: seconds + 60 })}`;
    const secret = JSON.stringify(key.jwk);
    const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
    await expectRefused(`${signingInput}.${signature}`);
    expect(idp.discoveryFetches + idp.jwksFetches).toBe(0);
  });

  it('an algorithm the provider does not publish is refused', async () => {
    idp.algs = ['RS256'];
    await expectRefused(await mint({}, idp.keys[1]!));
  });

  it('a wrong issuer is refused without any fetch; a discovery naming another issuer is a 503', async () => {
    await expectRefused(await mint({ iss: 'https://evil.example' }));
    expect(idp.discoveryFetches).toBe(0);
    idp.discoveryIssuer = 'https://evil.example';
    expect(await thrown(verifier.verify(provider, await mint()))).toBeInstanceOf(BackendUnavailableError);
  });

  it.each([
    ['another audience', { aud: 'someone-else' }],
    ['several audiences and no azp', { aud: [AUDIENCE, 'x'] }],
    ['an azp that is not ours', { aud: [AUDIENCE, 'x'], azp: 'x' }],
    ['no sub', { sub: undefined }],
    ['an empty sub', { sub: '' }],
    ['a sub over 255 characters', { sub: 'a'.repeat(256) }],
    ['no nonce', { nonce: undefined }],
    ['no iat', { iat: undefined }],
    ['no exp', { exp: undefined }],
  ])('%s is refused', async (_what, claims) => {
    await expectRefused(await mint(claims));
  });

  it('several audiences with our azp verify', async () => {
    expect((await verifier.verify(provider, await mint({ aud: [AUDIENCE, 'x'], azp: AUDIENCE }))).subject).toBe(
      'user-1',
    );
  });

  it('exp: refused once more than 60 s past; accepted within the skew', async () => {
    const seconds = Math.floor(now / 1000);
    await expectRefused(await mint({ iat: seconds - 200, exp: seconds - 61 }));
    expect(await verifier.verify(provider, await mint({ iat: seconds - 200, exp: seconds - 30 }))).toBeDefined();
  });

  it('nbf and iat: refused more than 60 s in the future; accepted within the skew', async () => {
    const seconds = Math.floor(now / 1000);
    await expectRefused(await mint({ nbf: seconds + 61 }));
    await expectRefused(await mint({ iat: seconds + 61, exp: seconds + 600 }));
    expect(await verifier.verify(provider, await mint({ nbf: seconds + 30, iat: seconds + 30 }))).toBeDefined();
  });

  it('iat older than OIDC_TOKEN_MAX_AGE_SECONDS (+ skew) is refused even if exp is ahead', async () => {
    const seconds = Math.floor(now / 1000);
    await expectRefused(await mint({ iat: seconds - 661, exp: seconds + 3600 }));
    expect(await verifier.verify(provider, await mint({ iat: seconds - 590, exp: seconds + 3600 }))).toBeDefined();
  });

  it('a token signed by a key not in the JWKS (same kid) is refused', async () => {
    const impostor = await signingKey('k1');
    await expectRefused(await mint({}, impostor));
  });

  it('oversized and garbage tokens are refused with zero fetches', async () => {
    const big = `${b64({ alg: 'RS256', kid: 'k1' })}.${'A'.repeat(OIDC_ID_TOKEN_MAX_CHARACTERS)}.sig`;
    for (const token of [
      big,
      'garbage',
      'a.b',
      'a.b.c.d',
      '...',
      `${b64('x')}.${b64('y')}.z`,
      `${b64({ alg: 'RS256' })}.${b64({ iss: idp.issuer })}.z`,
    ])
      await expectRefused(token);
    expect(idp.discoveryFetches + idp.jwksFetches).toBe(0);
  });
});

describe('keys', () => {
  it('a flood of unknown kids refetches the JWKS at most once per cooldown', async () => {
    await verifier.verify(provider, await mint());
    expect(idp.jwksFetches).toBe(1);
    for (let index = 0; index < 20; index++) await expectRefused(await mint({}, await signingKey(`made-up-${index}`)));
    // jose refetches for an unknown kid only once the cooldown (30 s) since the last fetch has passed.
    expect(idp.jwksFetches).toBe(1);
  });

  it('after the provider rotates its keys, tokens signed with the new key verify (one refetch)', async () => {
    const cooled = new JoseIdTokenVerifier({ now: () => now, timeoutMs: 500, cooldownMs: 0 });
    await cooled.verify(provider, await mint());
    const rotated = await signingKey('k3');
    idp.keys = [rotated, key];
    expect((await cooled.verify(provider, await mint({}, rotated))).subject).toBe('user-1');
    expect(idp.jwksFetches).toBe(2);
  });

  it('a JWKS failure is a 503 with Retry-After, not a 401', async () => {
    idp.jwksStatus = 500;
    const error = await thrown(verifier.verify(provider, await mint()));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('a slow JWKS is bounded by the timeout: a 503 well before the function would time out', async () => {
    idp.jwksDelayMs = 3000;
    const started = Date.now();
    const error = await thrown(verifier.verify(provider, await mint()));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('an unreachable provider is a 503, and discovery is not retried for the cooldown', async () => {
    await idp.stop();
    const token = await mint();
    expect(await thrown(verifier.verify(provider, token))).toBeInstanceOf(BackendUnavailableError);
    const again = await thrown(verifier.verify(provider, token));
    expect(again).toBeInstanceOf(BackendUnavailableError);
    expect((again as BackendUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
    await idp.start();
  });
});

describe('pre-checks, property-based', () => {
  const part = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/);
  const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('any string that is not a well-formed token of this issuer with an asymmetric alg and a kid: the one 401, zero fetches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.tuple(part, part, part).map((parts) => parts.join('.')),
          fc
            .record({
              alg: fc.oneof(fc.constantFrom('none', 'HS256', 'HS384', 'HS512', 'RS256'), fc.string()),
              kid: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
              iss: fc.oneof(fc.constant('https://evil.example'), fc.string()),
            })
            // An asymmetric alg with a kid and our issuer passes the pre-checks; everything else must not.
            .filter(
              (claims) =>
                !(claims.alg === 'RS256' && claims.kid !== undefined && claims.kid !== '' && claims.iss === idp.issuer),
            )
            .map(
              ({ alg, kid, iss }) =>
                `${json({ alg, ...(kid !== undefined ? { kid } : {}) })}.${json({ iss, sub: 's', nonce: 'n' })}.c2ln`,
            ),
        ),
        async (token) => {
          const error = await thrown(verifier.verify(provider, token));
          expect(error).toBeInstanceOf(AuthenticationError);
          expect((error as Error).message).toBe(INVALID_ID_TOKEN_MESSAGE);
        },
      ),
      { numRuns: 300 },
    );
    expect(idp.discoveryFetches + idp.jwksFetches).toBe(0);
  });
});

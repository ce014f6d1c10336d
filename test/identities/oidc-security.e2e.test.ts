/**
 * Sign-in with outside identity providers, against the sandbox over real HTTP (issue 25, "What
 * must hold", items 1-5 and 7). The issuers are real: the sandbox's own dev IdP (`dev`) and
 * three more dev IdP instances started here, `other` (a second issuer with the same subjects
 * and emails, and two audiences), `flaky` (its keys unreachable or slow) and `late` (reached
 * only by the key-cache tests). Tokens come from the IdP's sign-in page and token endpoint as
 * an app gets them, or from `DevIdp.mint` with chosen claims; forgeries from test/support/oidc.ts.
 * One sandbox for the whole file.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OIDC_CLOCK_SKEW_SECONDS,
  OIDC_ID_TOKEN_MAX_CHARACTERS,
  OIDC_NONCE_CHARACTERS,
  OIDC_NONCE_SECONDS,
  OIDC_TOKEN_MAX_AGE_SECONDS,
} from '../../lambda/contract/limits';
import type { IdentityList } from '../../lambda/contract/wire';
import type { SandboxManifest } from '../../local/manifest';
import { startDevIdp, type DevIdp, type MintOptions } from '../../local/oidc/server';
import { readSandboxSecrets } from '../../local/secrets';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { postJson, register, runAdmin, s3ClientFor, type VendResponse } from '../support/e2e';
import { hmacWithPublicKey, loginOidc, signInAtIdp, strangersToken, tvmNonce, unsecuredToken } from '../support/oidc';

const PASSWORD = 'correct horse battery staple';
const CLIENT = 'tvm-web';
/** The second audience `other` is configured with (a mobile app's client id, say). */
const SECOND_CLIENT = 'tvm-ios';

let running: Sandbox | undefined;
let dataDir: string | undefined;
const extraIdps: DevIdp[] = [];
let other: DevIdp;
let flaky: DevIdp;
let late: DevIdp;

beforeAll(async () => {
  // Any origin will do as their client's redirect: the tests read the code from the redirect.
  const clients = [{ clientId: CLIENT, redirectOrigins: ['http://localhost:9'] }];
  [other, flaky, late] = await Promise.all([
    startDevIdp({ port: 0, clients }),
    startDevIdp({ port: 0, clients }),
    startDevIdp({ port: 0, clients }),
  ]);
  extraIdps.push(other, flaky, late);
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-oidc-'));
  process.env.TVM_DATA_DIR = dataDir;
  running = await startSandbox({
    // Floods are this file's subject; the route throttles (test/api) would answer them first.
    routeThrottles: false,
    port: 0,
    s3Port: 0,
    dataDir,
    bcryptCost: 10,
    deletionSweepMs: 0,
    oidcProviders: [
      { name: 'other', issuer: other.issuer, audiences: [CLIENT, SECOND_CLIENT], trustProviderMfa: false },
      { name: 'flaky', issuer: flaky.issuer, audiences: [CLIENT], trustProviderMfa: false },
      { name: 'late', issuer: late.issuer, audiences: [CLIENT], trustProviderMfa: false },
    ],
  });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await Promise.all(extraIdps.map((idp) => idp.stop()));
  delete process.env.TVM_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const sandbox = (): Sandbox => {
  if (!running) throw new Error('the sandbox is not running');
  return running;
};
const dev = (): DevIdp => sandbox().devIdp;
const api = () => sandbox().apiUrl;
const idps = (): DevIdp[] => [dev(), other, flaky, late];
const providerOf = (idp: DevIdp): string =>
  (sandbox().oidcProviders.find((provider) => provider.issuer === idp.issuer) as { name: string }).name;

/** Every discovery and JWKS request every issuer has received. */
const totalHits = () => idps().reduce((sum, idp) => sum + idp.hits().discovery + idp.hits().jwks, 0);

/** A token minted by `idp` with a fresh nonce from the TVM; `claims` override (`nonce: undefined` leaves it out). */
async function freshToken(idp: DevIdp, claims: Record<string, unknown> = {}, options: MintOptions = {}) {
  return idp.mint({ nonce: await tvmNonce(api()), ...claims }, options);
}

/** Signs in at `idp`'s page with a fresh TVM nonce, as the web app does, and returns the ID token. */
async function pageToken(idp: DevIdp, subject: string, email?: string): Promise<string> {
  return signInAtIdp(idp, { subject, nonce: await tvmNonce(api()), ...(email !== undefined ? { email } : {}) });
}

const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Creates an account for a new identity of `idp` and returns its vend body. */
async function registerIdentity(idp: DevIdp, subject: string, username: string): Promise<VendResponse> {
  const answer = await loginOidc(api(), {
    provider: providerOf(idp),
    idToken: await freshToken(idp, { sub: subject }),
    username,
  });
  if (answer.status !== 201)
    throw new Error(`registering ${username} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body as VendResponse;
}

/** The one 401 body of every token or identity failure (item 4); taken from a bad signature. */
let refusal: unknown;
beforeAll(async () => {
  const answer = await loginOidc(api(), {
    provider: 'dev',
    idToken: await strangersToken(
      { iss: dev().issuer, aud: CLIENT, sub: 'x', iat: now(), exp: now() + 300, nonce: await tvmNonce(api()) },
      dev().currentKids().RS256,
    ),
  });
  if (answer.status !== 401)
    throw new Error(`a bad signature answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  refusal = answer.body;
});

function expectRefused(answer: { status: number; body: unknown }): void {
  expect({ status: answer.status, body: answer.body }).toEqual({ status: 401, body: refusal });
}

/** A valid token of an identity no account has: every check passed (the nonce is spent). */
function expectAcceptedUnknown(answer: { status: number; body: unknown }): void {
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ error: { code: 'username_required' } });
}

describe('an app signs in with the sandbox dev IdP', () => {
  it('the TVM issues single-use nonces of 256 bits that expire after the documented time', async () => {
    const { status, body } = await postJson(`${api()}/login/oidc/nonce`);
    expect(status).toBe(200);
    const { nonce, expiresAt } = body as { nonce: string; expiresAt: string };
    expect(nonce).toMatch(new RegExp(`^[A-Za-z0-9_-]{${OIDC_NONCE_CHARACTERS}}$`));
    expect(Math.abs(Date.parse(expiresAt) - (Date.now() + OIDC_NONCE_SECONDS * 1000))).toBeLessThan(10_000);
  });

  it('first sign-in asks for a username, then creates a password-less account with its own folder; the next sign-in reaches it', async () => {
    const subject = unique('ann');
    const first = await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) });
    expectAcceptedUnknown(first);
    // username_required wrote nothing: the name is still free for this identity.
    const created = await loginOidc(api(), {
      provider: 'dev',
      idToken: await pageToken(dev(), subject),
      username: 'oidc-ann',
    });
    expect(created.status).toBe(201);
    const account = created.body as VendResponse;
    expect(account).toMatchObject({ username: 'oidc-ann', storage: { prefix: 'oidc-ann/' } });
    const s3 = s3ClientFor(account);
    try {
      await expect(
        s3.send(new PutObjectCommand({ Bucket: account.storage.bucket, Key: 'oidc-ann/hello.txt', Body: 'hi' })),
      ).resolves.toBeDefined();
    } finally {
      s3.destroy();
    }
    const again = await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ username: 'oidc-ann', session: { token: expect.any(String) } });
    // No password was ever set: password sign-in is refused with the usual 401.
    expect((await postJson(`${api()}/login`, { username: 'oidc-ann', password: PASSWORD })).status).toBe(401);
    const listed = await fetch(`${api()}/identities`, {
      headers: { Authorization: `Bearer ${account.session.token}` },
    });
    expect(listed.status).toBe(200);
    const { identities } = (await listed.json()) as IdentityList;
    expect(identities.map((identity) => identity.provider)).toEqual(['dev']);
    expect(JSON.stringify(identities)).not.toContain(subject);
  });

  it('a taken username is 409 exactly as POST /register answers, and nothing is linked', async () => {
    await register(api(), 'oidc-taken', PASSWORD);
    const viaRegister = await postJson(`${api()}/register`, { username: 'oidc-taken', password: PASSWORD });
    const subject = unique('taker');
    const viaOidc = await loginOidc(api(), {
      provider: 'dev',
      idToken: await freshToken(dev(), { sub: subject }),
      username: 'oidc-taken',
    });
    expect({ status: viaOidc.status, body: viaOidc.body }).toEqual({ status: 409, body: viaRegister.body });
    expectAcceptedUnknown(
      await loginOidc(api(), { provider: 'dev', idToken: await freshToken(dev(), { sub: subject }) }),
    );
  });
});

describe('item 1: the ID token is checked as OpenID Connect requires', () => {
  it.each(['RS256', 'ES256'] as const)('a token signed with the published %s key passes every check', async (alg) => {
    expectAcceptedUnknown(
      await loginOidc(api(), { provider: 'dev', idToken: await freshToken(dev(), { sub: unique('alg') }, { alg }) }),
    );
  });

  it(`exp ${OIDC_CLOCK_SKEW_SECONDS / 2} s past is within the documented skew of ${OIDC_CLOCK_SKEW_SECONDS} s`, async () => {
    const idToken = await freshToken(dev(), {
      sub: unique('skew'),
      iat: now() - 300,
      exp: now() - OIDC_CLOCK_SKEW_SECONDS / 2,
    });
    expectAcceptedUnknown(await loginOidc(api(), { provider: 'dev', idToken }));
  });

  it('with several audiences, azp must be one of the configured ones', async () => {
    const accepted = await freshToken(other, { sub: unique('azp'), aud: [CLIENT, SECOND_CLIENT], azp: SECOND_CLIENT });
    expectAcceptedUnknown(await loginOidc(api(), { provider: 'other', idToken: accepted }));
    const stranger = await freshToken(other, {
      sub: unique('azp'),
      aud: [CLIENT, 'someone-else'],
      azp: 'someone-else',
    });
    expectRefused(await loginOidc(api(), { provider: 'other', idToken: stranger }));
  });

  const forged: [string, () => Promise<string>][] = [
    [
      'alg none',
      async () =>
        unsecuredToken(
          {
            iss: dev().issuer,
            aud: CLIENT,
            sub: 'mallory',
            iat: now(),
            exp: now() + 300,
            nonce: await tvmNonce(api()),
          },
          dev().currentKids().RS256,
        ),
    ],
    [
      'HS256 keyed with the published RSA public key',
      async () => {
        const rsa = dev()
          .jwks()
          .keys.find((key) => key.kid === dev().currentKids().RS256);
        if (!rsa) throw new Error('no RS256 key');
        return hmacWithPublicKey(rsa, {
          iss: dev().issuer,
          aud: CLIENT,
          sub: 'mallory',
          iat: now(),
          exp: now() + 300,
          nonce: await tvmNonce(api()),
        });
      },
    ],
    [
      "a stranger's key under the IdP's kid",
      async () =>
        strangersToken(
          {
            iss: dev().issuer,
            aud: CLIENT,
            sub: 'mallory',
            iat: now(),
            exp: now() + 300,
            nonce: await tvmNonce(api()),
          },
          dev().currentKids().RS256,
        ),
    ],
    ['iss of another configured issuer', async () => freshToken(other, { sub: unique('iss') })],
    ['iss with a trailing slash', async () => freshToken(dev(), { iss: `${dev().issuer}/` })],
    ['aud another client', async () => freshToken(dev(), { aud: 'someone-else' })],
    ['aud missing', async () => freshToken(dev(), { aud: undefined })],
    [
      `exp ${2 * OIDC_CLOCK_SKEW_SECONDS} s past`,
      async () => freshToken(dev(), { iat: now() - 400, exp: now() - 2 * OIDC_CLOCK_SKEW_SECONDS }),
    ],
    ['exp missing', async () => freshToken(dev(), { exp: undefined })],
    [
      `nbf ${2 * OIDC_CLOCK_SKEW_SECONDS} s ahead`,
      async () => freshToken(dev(), { nbf: now() + 2 * OIDC_CLOCK_SKEW_SECONDS }),
    ],
    [
      `iat ${2 * OIDC_CLOCK_SKEW_SECONDS} s ahead`,
      async () => freshToken(dev(), { iat: now() + 2 * OIDC_CLOCK_SKEW_SECONDS, exp: now() + 600 }),
    ],
    [
      `iat older than ${OIDC_TOKEN_MAX_AGE_SECONDS} s (and the skew)`,
      async () =>
        freshToken(dev(), { iat: now() - OIDC_TOKEN_MAX_AGE_SECONDS - 2 * OIDC_CLOCK_SKEW_SECONDS, exp: now() + 300 }),
    ],
    ['sub missing', async () => freshToken(dev(), { sub: undefined })],
    ['sub of 256 characters', async () => freshToken(dev(), { sub: 's'.repeat(256) })],
    ['nonce missing', async () => freshToken(dev(), { nonce: undefined })],
    ['a nonce the TVM never issued', async () => freshToken(dev(), { nonce: randomBytes(32).toString('base64url') })],
    [
      'an unknown kid (after one refetch at most)',
      async () => freshToken(dev(), {}, { header: { kid: unique('kid') } }),
    ],
  ];

  it('the one 401 body says invalid_credentials and names no check', () => {
    expect(refusal).toMatchObject({ error: { code: 'invalid_credentials', message: expect.any(String) } });
    expect(JSON.stringify(refusal)).not.toMatch(/signature|kid|aud|audience|issuer|expired|nonce|alg/i);
  });

  it.each(forged)('%s: refused with the one 401 body (item 4)', async (_name, token) => {
    expectRefused(await loginOidc(api(), { provider: 'dev', idToken: await token() }));
  });

  it('any mix of right and wrong iss, aud, exp, nbf, iat, nonce and key (property): accepted only when all are right, else the one 401 body', async () => {
    const flaw = fc.record({
      iss: fc.boolean(),
      aud: fc.boolean(),
      exp: fc.boolean(),
      nbf: fc.boolean(),
      iat: fc.boolean(),
      nonce: fc.boolean(),
      key: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(flaw, async (bad) => {
        const t = now();
        const claims = {
          iss: bad.iss ? 'https://accounts.example.com' : dev().issuer,
          aud: bad.aud ? 'someone-else' : CLIENT,
          sub: unique('mix'),
          iat: bad.iat ? t + 3 * OIDC_CLOCK_SKEW_SECONDS : t,
          exp: bad.exp ? t - 3 * OIDC_CLOCK_SKEW_SECONDS : t + 600,
          ...(bad.nbf ? { nbf: t + 3 * OIDC_CLOCK_SKEW_SECONDS } : {}),
          nonce: bad.nonce ? randomBytes(32).toString('base64url') : await tvmNonce(api()),
        };
        const idToken = bad.key ? await strangersToken(claims, dev().currentKids().RS256) : await dev().mint(claims);
        const answer = await loginOidc(api(), { provider: 'dev', idToken });
        const allRight = !Object.values(bad).some(Boolean);
        expect({ status: answer.status, body: allRight ? undefined : answer.body }).toEqual(
          allRight ? { status: 400, body: undefined } : { status: 401, body: refusal },
        );
      }),
      // The all-right token is always among the runs, so both outcomes are exercised.
      {
        numRuns: 40,
        examples: [[{ iss: false, aud: false, exp: false, nbf: false, iat: false, nonce: false, key: false }]],
      },
    );
  });

  it('a token works once: a replay with its spent nonce is refused with the same 401 body', async () => {
    const subject = unique('replay');
    await registerIdentity(dev(), subject, unique('replay'));
    const idToken = await freshToken(dev(), { sub: subject });
    expect((await loginOidc(api(), { provider: 'dev', idToken })).status).toBe(200);
    expectRefused(await loginOidc(api(), { provider: 'dev', idToken }));
  });

  it('two parallel sign-ins with one token: exactly one succeeds', async () => {
    const subject = unique('race');
    await registerIdentity(dev(), subject, unique('race'));
    for (let round = 0; round < 3; round++) {
      const idToken = await freshToken(dev(), { sub: subject });
      const answers = await Promise.all([1, 2, 3].map(() => loginOidc(api(), { provider: 'dev', idToken })));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401]);
    }
  });

  it('two parallel registrations with one token: one account, and the other name stays free', async () => {
    const idToken = await freshToken(dev(), { sub: unique('race-reg') });
    const [first, second] = [unique('rr'), unique('rr')];
    const answers = await Promise.all(
      [first, second].map((username) => loginOidc(api(), { provider: 'dev', idToken, username })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 401]);
    const loser = answers[0]?.status === 201 ? second : first;
    expect((await postJson(`${api()}/register`, { username: loser, password: PASSWORD })).status).toBe(201);
  });
});

describe('item 2: accounts are keyed by (issuer, subject), never by email or name claims', () => {
  it('two providers with the same subject and email never reach one account', async () => {
    const subject = unique('sam');
    const email = `${subject}@example.com`;
    const devAccount = await registerIdentity(dev(), subject, unique('sam-dev'));
    // The same subject and email at another issuer is another, unknown identity.
    expectAcceptedUnknown(
      await loginOidc(api(), { provider: 'other', idToken: await pageToken(other, subject, email) }),
    );
    const otherAccount = await loginOidc(api(), {
      provider: 'other',
      idToken: await pageToken(other, subject, email),
      username: unique('sam-other'),
    });
    expect(otherAccount.status).toBe(201);
    const devAgain = await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject, email) });
    const otherAgain = await loginOidc(api(), { provider: 'other', idToken: await pageToken(other, subject, email) });
    expect((devAgain.body as VendResponse).username).toBe(devAccount.username);
    expect((otherAgain.body as VendResponse).username).toBe((otherAccount.body as VendResponse).username);
  });

  it("an email, name or subject equal to another account's username links nothing", async () => {
    const victim = await register(api(), unique('victim'), PASSWORD);
    for (const claims of [
      { email: victim.username },
      { email: `${victim.username}@example.com`, email_verified: true },
      { preferred_username: victim.username, name: victim.username },
      { sub: victim.username },
    ]) {
      expectAcceptedUnknown(
        await loginOidc(api(), {
          provider: 'dev',
          idToken: await freshToken(dev(), { sub: unique('mallory'), ...claims }),
        }),
      );
    }
    // The sub-equal-to-username case again, over the sign-in page, at the other issuer.
    expectAcceptedUnknown(
      await loginOidc(api(), { provider: 'other', idToken: await pageToken(other, victim.username) }),
    );
  });
});

describe('item 7: garbage and oversized tokens', () => {
  it('an oversized token is a 4xx without any discovery or JWKS request', async () => {
    const before = totalHits();
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: dev().currentKids().RS256 })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ iss: dev().issuer, pad: 'x'.repeat(OIDC_ID_TOKEN_MAX_CHARACTERS) }),
    ).toString('base64url');
    const answer = await loginOidc(api(), { provider: 'dev', idToken: `${header}.${payload}.sig` });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(totalHits()).toBe(before);
  });

  it('garbage tokens (property) get a 4xx and no issuer is contacted', async () => {
    const part = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.base64String({ maxLength: 60 }),
      fc.json().map((json) => Buffer.from(json).toString('base64url')),
      fc
        .record({
          alg: fc.constantFrom('none', 'HS256', 'RS256', 'ES256', 'XX'),
          kid: fc.option(fc.string({ maxLength: 20 })),
        })
        .map((header) => Buffer.from(JSON.stringify(header)).toString('base64url')),
      fc
        .record({
          iss: fc.constantFrom('http://127.0.0.1:1', 'https://accounts.example.com', ''),
          sub: fc.string({ maxLength: 10 }),
        })
        .map((payload) => Buffer.from(JSON.stringify(payload)).toString('base64url')),
    );
    const token = fc.oneof(
      fc.string({ minLength: 1, maxLength: 200 }),
      fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')),
    );
    const before = totalHits();
    await fc.assert(
      fc.asyncProperty(token, fc.constantFrom('dev', 'other'), async (idToken, provider) => {
        const answer = await loginOidc(api(), { provider, idToken });
        expect(answer.status >= 400 && answer.status < 500).toBe(true);
      }),
      { numRuns: 80 },
    );
    expect(totalHits()).toBe(before);
  });

  it('an unknown provider name is 400 naming the field, with no issuer contacted', async () => {
    const before = totalHits();
    const answer = await loginOidc(api(), { provider: 'nobody', idToken: await freshToken(dev()) });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('provider');
    expect(totalHits()).toBe(before);
  });
});

describe('item 5: the lifecycle holds', () => {
  /** Moves a deleted name's hold into the past, as time would (the hold lasts as long as its last credentials). */
  async function endHold(username: string): Promise<void> {
    const manifest = JSON.parse(readFileSync(join(dataDir as string, 'sandbox.json'), 'utf8')) as SandboxManifest;
    const table = new DynamoDBClient({
      endpoint: manifest.dynamoEndpoint,
      region: manifest.region,
      credentials: readSandboxSecrets(dataDir as string).operatorKey,
    });
    try {
      await table.send(
        new UpdateItemCommand({
          TableName: manifest.tableName,
          Key: { pk: { S: `USER#${username}` }, sk: { S: 'PROFILE' } },
          UpdateExpression: 'SET heldUntil = :past',
          ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) } },
        }),
      );
    } finally {
      table.destroy();
    }
  }

  it('a disabled account refuses provider sign-in with the one 401 body', async () => {
    const subject = unique('dora');
    const account = await registerIdentity(dev(), subject, unique('dora'));
    expect((await runAdmin(['users', 'disable', account.username])).code).toBe(0);
    expectRefused(await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) }));
  });

  it('after deletion, a new account under the freed name is not reachable with the old identity, which starts as unknown', async () => {
    const subject = unique('del');
    const account = await registerIdentity(dev(), subject, unique('del'));
    expect((await runAdmin(['users', 'delete', account.username, '--yes'])).code).toBe(0);
    await endHold(account.username);
    const newcomer = await register(api(), account.username, PASSWORD);
    expect(newcomer.username).toBe(account.username);
    const old = await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) });
    expectAcceptedUnknown(old);
    const listed = await fetch(`${api()}/identities`, {
      headers: { Authorization: `Bearer ${newcomer.session.token}` },
    });
    expect(((await listed.json()) as IdentityList).identities).toEqual([]);
  });
  it('link and unlink (with step-up) reach exactly that account, and the audit trail records sign-in, link and unlink', async () => {
    const owner = await register(api(), unique('linker'), PASSWORD);
    const bearer = { Authorization: `Bearer ${owner.session.token}`, 'Content-Type': 'application/json' };
    const subject = unique('linked');
    const linked = await fetch(`${api()}/identities`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({
        provider: 'other',
        idToken: await freshToken(other, { sub: subject }),
        currentPassword: PASSWORD,
      }),
    });
    expect(linked.status).toBe(201);
    const viaOther = await loginOidc(api(), { provider: 'other', idToken: await pageToken(other, subject) });
    expect((viaOther.body as VendResponse).username).toBe(owner.username);
    const { identities } = (await (await fetch(`${api()}/identities`, { headers: bearer })).json()) as IdentityList;
    expect(identities.map((identity) => identity.provider)).toEqual(['other']);
    const id = (identities[0] as { id: string }).id;
    // The same subject at the dev IdP is someone else: linking it links nothing to this account.
    expectAcceptedUnknown(
      await loginOidc(api(), { provider: 'dev', idToken: await freshToken(dev(), { sub: subject }) }),
    );
    const unlinked = await fetch(`${api()}/identities/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: bearer,
      body: JSON.stringify({ currentPassword: PASSWORD }),
    });
    expect(unlinked.status).toBe(204);
    expectAcceptedUnknown(await loginOidc(api(), { provider: 'other', idToken: await pageToken(other, subject) }));
    const audit = await runAdmin(['--json', 'audit', owner.username]);
    expect(audit.code).toBe(0);
    const events = (JSON.parse(audit.out) as { type: string }[]).map((event) => event.type);
    expect(events).toEqual(expect.arrayContaining(['identity_linked', 'oidc_login', 'identity_unlinked']));
    expect(audit.out).not.toContain(subject);
  });

  it("tvm-admin identities lists a user's links (never the subject) and removes one: the identity then signs in as unknown", async () => {
    const subject = unique('op');
    const account = await registerIdentity(dev(), subject, unique('op'));
    const listed = await runAdmin(['--json', 'identities', 'list', account.username]);
    expect(listed.code).toBe(0);
    const links = JSON.parse(listed.out) as { id: string; provider: string; issuer: string }[];
    expect(links).toEqual([expect.objectContaining({ provider: 'dev', issuer: dev().issuer })]);
    expect(listed.out).not.toContain(subject);
    const removed = await runAdmin(['identities', 'remove', account.username, (links[0] as { id: string }).id]);
    expect(removed.code).toBe(0);
    expectAcceptedUnknown(await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) }));
    const audit = await runAdmin(['--json', 'audit', account.username]);
    expect((JSON.parse(audit.out) as { type: string }[]).map((event) => event.type)).toContain('identity_unlinked');
  });

  it("a password-less account's last identity cannot be unlinked: it would have no way to sign in", async () => {
    const subject = unique('last');
    const account = await registerIdentity(dev(), subject, unique('last'));
    const bearer = { Authorization: `Bearer ${account.session.token}`, 'Content-Type': 'application/json' };
    const { identities } = (await (await fetch(`${api()}/identities`, { headers: bearer })).json()) as IdentityList;
    const refused = await fetch(`${api()}/identities/${encodeURIComponent((identities[0] as { id: string }).id)}`, {
      method: 'DELETE',
      headers: bearer,
      body: JSON.stringify({ provider: 'dev', idToken: await freshToken(dev(), { sub: subject }) }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('only way to sign in') },
    });
    expect((await loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) })).status).toBe(200);
    const audit = await runAdmin(['--json', 'audit', account.username]);
    expect((JSON.parse(audit.out) as { type: string }[]).map((event) => event.type)).toContain('oidc_registered');
  });
});

describe('item 3: keys', () => {
  it('JWKS answers are cached: known keys cost no request to the issuer', async () => {
    // Warm both function instances for `late`: four sign-ins sent at once reach both.
    const warm = await Promise.all([1, 2, 3, 4].map(() => freshToken(late)));
    await Promise.all(warm.map((idToken) => loginOidc(api(), { provider: 'late', idToken })));
    const before = late.hits();
    for (let i = 0; i < 6; i++)
      expectAcceptedUnknown(await loginOidc(api(), { provider: 'late', idToken: await freshToken(late) }));
    expect(late.hits()).toEqual(before);
  });

  it('a flood of made-up key ids refetches at most once per function instance per cooldown', async () => {
    const before = late.hits().jwks;
    const tokens = await Promise.all(
      Array.from({ length: 30 }, () => freshToken(late, {}, { header: { kid: unique('made-up') } })),
    );
    const answers = await Promise.all(tokens.map((idToken) => loginOidc(api(), { provider: 'late', idToken })));
    for (const answer of answers) expectRefused(answer);
    // The sandbox runs two function instances, each with its own cache (as Lambda would).
    expect(late.hits().jwks - before).toBeLessThanOrEqual(2);
  });

  it('a provider whose keys do not answer cannot hold the function: 503 with Retry-After within the fetch timeout', async () => {
    flaky.setMetadataMode('hang');
    const started = Date.now();
    const answer = await loginOidc(api(), { provider: 'flaky', idToken: await freshToken(flaky) });
    const elapsed = Date.now() - started;
    flaky.setMetadataMode('down');
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toMatch(/^\d+$/);
    expect(answer.body).toMatchObject({ error: { code: 'service_unavailable' } });
    // Lambda's timeout is 10 s; the fetch gives up long before.
    expect(elapsed).toBeLessThan(8_000);
  });

  it('a JWKS fetch failure is a 503 with Retry-After, not a 401', async () => {
    flaky.setMetadataMode('down');
    const answer = await loginOidc(api(), { provider: 'flaky', idToken: await freshToken(flaky) });
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toMatch(/^\d+$/);
  });

  it('after the provider rotates its keys (POST /rotate), new tokens work, and tokens of the previous key still do', async () => {
    const subject = unique('rot');
    const account = await registerIdentity(dev(), subject, unique('rot'));
    expect((await fetch(`${dev().issuer}/rotate`, { method: 'POST' })).status).toBe(200);
    const previous = await freshToken(dev(), { sub: subject }, { generation: 'previous' });
    expect((await loginOidc(api(), { provider: 'dev', idToken: previous })).body).toMatchObject({
      username: account.username,
    });
    // A new kid is fetched at most once per cooldown (30 s) by each function instance, so it
    // may take that long to be seen; two parallel sign-ins reach both instances.
    const signInTwice = () =>
      Promise.all(
        [1, 2].map(async () => loginOidc(api(), { provider: 'dev', idToken: await pageToken(dev(), subject) })),
      );
    const deadline = Date.now() + 45_000;
    let answers = await signInTwice();
    while (answers.some((answer) => answer.status !== 200) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      answers = await signInTwice();
    }
    expect(answers.map((answer) => (answer.body as VendResponse).username)).toEqual([
      account.username,
      account.username,
    ]);
  }, 70_000);
});

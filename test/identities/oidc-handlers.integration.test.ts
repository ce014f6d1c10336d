/**
 * The sign-in-with-a-provider handlers against dynalite and a local provider (discovery and
 * JWKS on 127.0.0.1, keys made here): the nonce, a first sign-in that asks for a username and
 * writes nothing, the 201 sign-up, the 200 sign-in, one 401 body for every bad token, a replay
 * lost by one of two parallel sign-ins, and a provider outage as 503 with Retry-After.
 * STS is mocked: it is not what these tests are about.
 */
import '../support/handler-env';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { LocalProvider, mintToken, signingKey, type SigningKey } from '../support/local-oidc-provider';

const TABLE = 'tvm-oidc-handlers';
const AUDIENCE = 'tvm-web';
const sts = mockClient(STSClient);
const context = lambdaContext();
let dynamo: TestDynamoDb;
let idp: LocalProvider;
/** A provider whose key set answers 500. */
let down: LocalProvider;
let key: SigningKey;
let nonceHandler: Handler;
let loginOidc: Handler;
let identitiesList: Handler;

async function itemCount(): Promise<number> {
  const result = await dynamo.client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return result.Count ?? 0;
}

async function freshToken(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const answer = await nonceHandler(jsonPost('/login/oidc/nonce', ''), context);
  expect(answer.statusCode).toBe(200);
  const { nonce } = bodyOf<{ nonce: string }>(answer);
  return mintToken(key, idp.issuer, AUDIENCE, { sub, nonce, ...claims });
}

const signIn = (body: Record<string, unknown>) =>
  loginOidc(jsonPost('/login/oidc', { provider: 'dev', ...body }), context);

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  idp = new LocalProvider();
  await idp.start();
  key = await signingKey('k1');
  idp.keys = [key];
  down = new LocalProvider();
  await down.start();
  down.keys = [key];
  down.jwksStatus = 500;
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.OIDC_PROVIDERS = JSON.stringify([
    { name: 'dev', issuer: idp.issuer, audiences: [AUDIENCE] },
    { name: 'down', issuer: down.issuer, audiences: [AUDIENCE] },
  ]);
  ({ handler: nonceHandler } = await import('../../lambda/handlers/oidc-nonce'));
  ({ handler: loginOidc } = await import('../../lambda/handlers/login-oidc'));
  ({ handler: identitiesList } = await import('../../lambda/handlers/identities-list'));
});

beforeEach(() => {
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: 'ASIATESTTESTTESTTEST',
      SecretAccessKey: 'sts-secret',
      SessionToken: 'sts-session-token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  delete process.env.OIDC_PROVIDERS;
  await idp.stop();
  await down.stop();
  await dynamo.stop();
});

describe('POST /login/oidc', () => {
  it('an unknown identity: 400 username_required and nothing written; with a username 201; again 200', async () => {
    const before = await itemCount();
    const first = await signIn({ idToken: await freshToken('dev-alice') });
    expect(first.statusCode).toBe(400);
    expect(bodyOf<{ error: { code: string } }>(first).error.code).toBe('username_required');
    // Only the nonce the test asked for was written, and the sign-in spent it.
    expect(await itemCount()).toBe(before);

    const created = await signIn({ idToken: await freshToken('dev-alice'), username: 'oidc-alice' });
    expect(created.statusCode).toBe(201);
    const body = bodyOf<{ username: string; session: { token: string }; deviceToken: string }>(created);
    expect(body.username).toBe('oidc-alice');
    expect(body.deviceToken).toHaveLength(43);

    const again = await signIn({ idToken: await freshToken('dev-alice') });
    expect(again.statusCode).toBe(200);
    expect(bodyOf<{ username: string }>(again).username).toBe('oidc-alice');

    const listed = await identitiesList(
      {
        ...jsonPost('/identities', ''),
        httpMethod: 'GET',
        body: null,
        headers: { Authorization: `Bearer ${body.session.token}` },
      },
      context,
    );
    expect(listed.statusCode).toBe(200);
    expect(
      bodyOf<{ identities: { provider: string }[] }>(listed).identities.map((identity) => identity.provider),
    ).toEqual(['dev']);
  });

  it("email and name claims link nothing: another identity carrying an account's name or email is still unknown", async () => {
    const created = await signIn({
      idToken: await freshToken('dev-grace', { email: 'grace@example.com' }),
      username: 'oidc-grace',
    });
    expect(created.statusCode).toBe(201);
    for (const claims of [
      { email: 'grace@example.com', email_verified: true },
      { email: 'oidc-grace', preferred_username: 'oidc-grace', name: 'oidc-grace' },
    ]) {
      const answer = await signIn({ idToken: await freshToken('dev-mallory', claims) });
      expect(answer.statusCode).toBe(400);
      expect(bodyOf<{ error: { code: string } }>(answer).error.code).toBe('username_required');
    }
  });

  it('every bad token gets the same 401 body', async () => {
    await signIn({ idToken: await freshToken('dev-bob'), username: 'oidc-bob' });
    const stranger = await signingKey('k1');
    const bodies = await Promise.all(
      [
        'garbage',
        await mintToken(stranger, idp.issuer, AUDIENCE, { sub: 'dev-bob', nonce: 'x' }),
        await freshToken('dev-bob', { aud: 'someone-else' }),
        await freshToken('dev-bob', { exp: Math.floor(Date.now() / 1000) - 120 }),
        await mintToken(key, idp.issuer, AUDIENCE, { sub: 'dev-bob', nonce: 'never-issued' }),
      ].map(async (idToken) => {
        const answer = await signIn({ idToken });
        return [answer.statusCode, answer.body];
      }),
    );
    expect(new Set(bodies.map((entry) => JSON.stringify(entry))).size).toBe(1);
    expect(bodies[0]![0]).toBe(401);
  });

  it('two parallel sign-ins with one token: one succeeds, the other is the 401', async () => {
    await signIn({ idToken: await freshToken('dev-carol'), username: 'oidc-carol' });
    const idToken = await freshToken('dev-carol');
    const answers = await Promise.all([signIn({ idToken }), signIn({ idToken })]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 401]);
  });

  it('a taken username is 409 username_taken, as at register', async () => {
    await signIn({ idToken: await freshToken('dev-dave'), username: 'oidc-dave' });
    const answer = await signIn({ idToken: await freshToken('dev-eve'), username: 'oidc-dave' });
    expect(answer.statusCode).toBe(409);
    expect(bodyOf<{ error: { code: string } }>(answer).error.code).toBe('username_taken');
  });

  it('an unknown provider name is 400 invalid_request naming the field', async () => {
    const answer = await loginOidc(jsonPost('/login/oidc', { provider: 'nope', idToken: 'a.b.c' }), context);
    expect(answer.statusCode).toBe(400);
  });

  it('a provider whose keys cannot be fetched is 503 service_unavailable with Retry-After, not the 401', async () => {
    const idToken = await mintToken(key, down.issuer, AUDIENCE, { sub: 'dev-frank', nonce: 'n' });
    const answer = await loginOidc(jsonPost('/login/oidc', { provider: 'down', idToken }), context);
    expect(answer.statusCode).toBe(503);
    expect(bodyOf<{ error: { code: string } }>(answer).error.code).toBe('service_unavailable');
    expect(Number(answer.headers?.['Retry-After'])).toBeGreaterThan(0);
    expect(down.jwksFetches).toBe(1);
  });
});

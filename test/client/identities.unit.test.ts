import {
  InvalidCredentialsError,
  InvalidRequestError,
  LoginRequiredError,
  MemorySessionStore,
  NotFoundError,
  SecondFactorRequiredError,
  TvmClient,
  TvmIdentities,
  TvmMfa,
  UnexpectedResponseError,
  UsernameRequiredError,
  UsernameTakenError,
  type SessionEvent,
} from '@serverless-tvm/client';
import { apiError, FakeTvm, json, loggedInClient, sessionResult } from './fake-tvm';

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-07T12:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

const idToken = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIxMjMifQ.c2ln';
const nonce = { nonce: 'n'.repeat(43), expiresAt: '2026-12-07T12:10:00.000Z' };

function signedOutClient(tvm: FakeTvm, options: { device?: string } = {}): TvmClient {
  return new TvmClient({ baseUrl: 'https://tvm.example.com/v1/', fetch: tvm.fetch, random: () => 0, ...options });
}

describe('TvmClient.createOidcNonce', () => {
  it('asks POST /login/oidc/nonce without a bearer token and returns the nonce and its end', async () => {
    const tvm = new FakeTvm().answer(json(200, nonce));
    await expect(signedOutClient(tvm).createOidcNonce()).resolves.toEqual(nonce);
    expect(tvm.requests).toEqual([
      expect.objectContaining({ path: '/v1/login/oidc/nonce', method: 'POST', body: undefined }),
    ]);
    expect(tvm.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it('asks again after a dropped network (an unused nonce only expires)', async () => {
    const tvm = new FakeTvm().answer(new TypeError('fetch failed'), json(200, nonce));
    const created = signedOutClient(tvm).createOidcNonce();
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(created).resolves.toEqual(nonce);
    expect(tvm.callsTo('/v1/login/oidc/nonce')).toHaveLength(2);
  });

  it('refuses an answer without a nonce or with an end that is not a date', async () => {
    const tvm = new FakeTvm().answer(
      json(200, { nonce: 42, expiresAt: nonce.expiresAt }),
      json(200, { ...nonce, expiresAt: 'soon' }),
    );
    const client = signedOutClient(tvm);
    await expect(client.createOidcNonce()).rejects.toEqual(expect.any(UnexpectedResponseError));
    await expect(client.createOidcNonce()).rejects.toEqual(expect.any(UnexpectedResponseError));
  });
});

describe('TvmClient.loginWithIdToken', () => {
  it('sends the provider, the ID token and the device label, keeps the session and tells listeners', async () => {
    const result = sessionResult('alice');
    const tvm = new FakeTvm().answer(json(200, result));
    const client = signedOutClient(tvm, { device: 'web' });
    const events: SessionEvent[] = [];
    client.onSessionChange((event) => events.push(event));

    await expect(client.loginWithIdToken({ provider: 'google', idToken })).resolves.toMatchObject({
      username: 'alice',
      session: result.session,
    });
    expect(tvm.requests[0]).toMatchObject({
      path: '/v1/login/oidc',
      method: 'POST',
      body: { provider: 'google', idToken, device: 'web' },
    });
    await expect(client.getSession()).resolves.toMatchObject({ username: 'alice', token: result.session.token });
    expect(events).toEqual([expect.objectContaining({ type: 'signedIn', username: 'alice' })]);
  });

  it('throws UsernameRequiredError for an unknown identity, keeps no session, and sends the next token with the chosen username', async () => {
    const tvm = new FakeTvm().answer(
      apiError(400, 'username_required', 'Choose a username.', {}, 'username'),
      json(201, sessionResult('newcomer')),
    );
    const client = signedOutClient(tvm);

    const first = await client.loginWithIdToken({ provider: 'dev', idToken }).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(UsernameRequiredError);
    expect(first).toMatchObject({ code: 'username_required', status: 400 });
    await expect(client.getSession()).resolves.toBeUndefined();

    await expect(client.loginWithIdToken({ provider: 'dev', idToken, username: 'newcomer' })).resolves.toMatchObject({
      username: 'newcomer',
    });
    expect(tvm.requests.map((request) => request.body)).toEqual([
      { provider: 'dev', idToken },
      { provider: 'dev', idToken, username: 'newcomer' },
    ]);
    await expect(client.getSession()).resolves.toMatchObject({ username: 'newcomer' });
  });

  it('throws the login second-factor challenge for TvmMfa.completeLogin, which then keeps the session', async () => {
    const challenge = { token: 'c'.repeat(43), expiresAt: '2026-12-07T12:05:00.000Z' };
    const tvm = new FakeTvm().answer(
      json(200, { mfaRequired: true, challenge, methods: ['totp', 'recovery'] }),
      json(200, sessionResult('alice')),
    );
    const client = signedOutClient(tvm);

    const error = await client.loginWithIdToken({ provider: 'dev', idToken }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SecondFactorRequiredError);
    expect((error as SecondFactorRequiredError).challenge).toEqual({ ...challenge, methods: ['totp', 'recovery'] });
    await expect(client.getSession()).resolves.toBeUndefined();

    await new TvmMfa(client).completeLogin((error as SecondFactorRequiredError).challenge!, { code: '123456' });
    expect(tvm.requests[1]).toMatchObject({
      path: '/v1/login/mfa',
      body: { challenge: challenge.token, code: '123456' },
    });
    await expect(client.getSession()).resolves.toMatchObject({ username: 'alice' });
  });

  it('sends the device token kept for the username of a first sign-in, and keeps the one the TVM returns', async () => {
    const saved: Record<string, string> = { newcomer: 'd'.repeat(43) };
    const deviceTokens = {
      load: (username: string) => saved[username],
      save: (username: string, token: string) => {
        saved[username] = token;
      },
    };
    const tvm = new FakeTvm().answer(json(201, { ...sessionResult('newcomer'), deviceToken: 'e'.repeat(43) }));
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch, deviceTokens });

    await client.loginWithIdToken({ provider: 'dev', idToken, username: 'NewComer', device: 'phone' });
    expect(tvm.requests[0]?.body).toEqual({
      provider: 'dev',
      idToken,
      username: 'NewComer',
      device: 'phone',
      deviceToken: 'd'.repeat(43),
    });
    expect(saved['newcomer']).toBe('e'.repeat(43));
  });

  it('maps refusals to typed errors and never sends a refused token again', async () => {
    const tvm = new FakeTvm().answer(
      apiError(401, 'invalid_credentials', 'The sign-in was refused.'),
      apiError(409, 'username_taken', 'That username is taken.'),
      apiError(400, 'invalid_request', 'No such provider.', {}, 'provider'),
      new TypeError('fetch failed'),
    );
    const client = signedOutClient(tvm);
    await expect(client.loginWithIdToken({ provider: 'dev', idToken })).rejects.toEqual(
      expect.any(InvalidCredentialsError),
    );
    await expect(client.loginWithIdToken({ provider: 'dev', idToken, username: 'bob' })).rejects.toEqual(
      expect.any(UsernameTakenError),
    );
    await expect(client.loginWithIdToken({ provider: 'nope', idToken })).rejects.toMatchObject({
      code: 'invalid_request',
      field: 'provider',
    });
    await expect(client.loginWithIdToken({ provider: 'dev', idToken })).rejects.toMatchObject({
      code: 'network_error',
    });
    expect(tvm.requests).toHaveLength(4);
  });

  it('waits out a 503 with Retry-After (the provider keys could not be fetched) and sends the token once more', async () => {
    const tvm = new FakeTvm().answer(
      apiError(503, 'service_unavailable', 'Try again shortly.', { 'retry-after': '2' }),
      json(200, sessionResult('alice')),
    );
    const login = signedOutClient(tvm).loginWithIdToken({ provider: 'dev', idToken });
    await jest.advanceTimersByTimeAsync(5_000);
    await expect(login).resolves.toMatchObject({ username: 'alice' });
    expect(tvm.callsTo('/v1/login/oidc')).toHaveLength(2);
  });
});

describe('TvmIdentities', () => {
  const linked = { id: 'i'.repeat(32), provider: 'dev', linkedAt: '2026-12-07T11:00:00.000Z' };

  it('lists the linked identities with the bearer token, keeping only the documented fields', async () => {
    const tvm = new FakeTvm().answer(json(200, { identities: [{ ...linked, subject: 'never shown' }] }));
    await expect(new TvmIdentities(loggedInClient(tvm)).list()).resolves.toEqual({ identities: [linked] });
    expect(tvm.requests[0]).toMatchObject({
      path: '/identities',
      method: 'GET',
      headers: expect.objectContaining({ authorization: 'Bearer bearer-stored' }),
    });
  });

  it('refuses a malformed identity list', async () => {
    const tvm = new FakeTvm().answer(
      json(200, { identities: {} }),
      json(200, { identities: [{ ...linked, linkedAt: 'yesterday' }] }),
    );
    const identities = new TvmIdentities(loggedInClient(tvm));
    await expect(identities.list()).rejects.toEqual(expect.any(UnexpectedResponseError));
    await expect(identities.list()).rejects.toEqual(expect.any(UnexpectedResponseError));
  });

  it('links an identity with the step-up fields beside its token, and never sends it twice', async () => {
    const tvm = new FakeTvm().answer(json(201, linked), new TypeError('fetch failed'));
    const identities = new TvmIdentities(loggedInClient(tvm));

    await expect(identities.link({ provider: 'dev', idToken }, { currentPassword: 'old secret' })).resolves.toEqual(
      linked,
    );
    expect(tvm.requests[0]).toMatchObject({
      path: '/identities',
      method: 'POST',
      body: { provider: 'dev', idToken, currentPassword: 'old secret' },
      headers: expect.objectContaining({ authorization: 'Bearer bearer-stored' }),
    });

    await expect(identities.link({ provider: 'dev', idToken }, { code: '123456' })).rejects.toMatchObject({
      code: 'network_error',
    });
    expect(tvm.requests[1]?.body).toEqual({ provider: 'dev', idToken, code: '123456' });
    expect(tvm.requests).toHaveLength(2);
  });

  it('sends a fresh ID token of a linked identity as the step-up of an account without a password, beside the new one', async () => {
    const tvm = new FakeTvm().answer(json(201, linked));
    await new TvmIdentities(loggedInClient(tvm)).link(
      { provider: 'google', idToken },
      { provider: 'dev', idToken: 'linked.id.token' },
    );
    expect(tvm.requests[0]?.body).toEqual({
      provider: 'google',
      idToken,
      stepUpProvider: 'dev',
      stepUpIdToken: 'linked.id.token',
    });
  });

  it('sends a passkey step-up as JSON text with its challenge', async () => {
    const tvm = new FakeTvm().answer(json(201, linked));
    await new TvmIdentities(loggedInClient(tvm)).link(
      { provider: 'dev', idToken },
      { passkey: { id: 'cred', response: {} }, challenge: { token: 'c'.repeat(43) } },
    );
    expect(tvm.requests[0]?.body).toEqual({
      provider: 'dev',
      idToken,
      challenge: 'c'.repeat(43),
      passkey: JSON.stringify({ id: 'cred', response: {} }),
    });
  });

  it('unlinks by id with a password, a code, or a fresh ID token of a linked identity as the step-up', async () => {
    const tvm = new FakeTvm().answer(
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
    );
    const identities = new TvmIdentities(loggedInClient(tvm));
    await identities.unlink('a/b', { currentPassword: 'old secret' });
    await identities.unlink(linked.id, { recoveryCode: 'ABCD-EFGH-IJKL' });
    await identities.unlink(linked.id, { provider: 'dev', idToken });
    expect(tvm.requests.map(({ path, method, body }) => ({ path, method, body }))).toEqual([
      { path: '/identities/a%2Fb', method: 'DELETE', body: { currentPassword: 'old secret' } },
      { path: `/identities/${linked.id}`, method: 'DELETE', body: { recoveryCode: 'ABCD-EFGH-IJKL' } },
      { path: `/identities/${linked.id}`, method: 'DELETE', body: { provider: 'dev', idToken } },
    ]);
  });

  it("maps the refusals: unlinking the last way in, someone else's id, a wrong step-up", async () => {
    const tvm = new FakeTvm().answer(
      apiError(400, 'invalid_request', 'This is your only way to sign in.'),
      apiError(404, 'not_found', 'No such identity.'),
      apiError(401, 'invalid_credentials', 'That password is not right.'),
    );
    const identities = new TvmIdentities(loggedInClient(tvm));
    await expect(identities.unlink(linked.id, { code: '123456' })).rejects.toEqual(expect.any(InvalidRequestError));
    await expect(identities.unlink('other', { code: '123456' })).rejects.toEqual(expect.any(NotFoundError));
    await expect(identities.unlink(linked.id, { currentPassword: 'wrong' })).rejects.toEqual(
      expect.any(InvalidCredentialsError),
    );
    expect(tvm.requests).toHaveLength(3);
  });

  it('needs a session: LoginRequiredError and no request without one', async () => {
    const tvm = new FakeTvm();
    const client = new TvmClient({
      baseUrl: 'https://tvm.example.com',
      fetch: tvm.fetch,
      sessionStore: new MemorySessionStore(),
    });
    await expect(new TvmIdentities(client).list()).rejects.toEqual(expect.any(LoginRequiredError));
    expect(tvm.requests).toHaveLength(0);
  });
});

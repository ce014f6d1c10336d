import {
  InternalServerError,
  InvalidCredentialsError,
  InvalidRequestError,
  LocalStorageSessionStore,
  LoginRequiredError,
  MemorySessionStore,
  NetworkError,
  ServiceUnavailableError,
  TimeoutError,
  TooManyAttemptsError,
  TvmClient,
  TvmClientError,
  UnexpectedResponseError,
  UsernameTakenError,
  type SessionEvent,
  type StoredSession,
  type TvmClientOptions,
} from '@serverless-tvm/client';
import { apiError, FakeTvm, json, sessionResult, vendResult } from './fake-tvm';

const BASE_URL = 'https://tvm.example.com/prod/';

function liveSession(token = 'bearer-stored'): StoredSession {
  return { username: 'alice', token, expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
}

function clientFor(tvm: FakeTvm, options: Partial<TvmClientOptions> = {}): TvmClient {
  // random() = 0.5 makes the jitter deterministic: half of each backoff ceiling.
  return new TvmClient({ baseUrl: BASE_URL, fetch: tvm.fetch, random: () => 0.5, ...options });
}

/** Starts `promise`, and records how it settles, so fake time can move while it waits. */
function track<T>(promise: Promise<T>): { settled: () => boolean; result: Promise<T> } {
  let done = false;
  const result = promise.finally(() => {
    done = true;
  });
  result.catch(() => undefined);
  return { settled: () => done, result };
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-11-26T12:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('TvmClient register and login', () => {
  it('register posts the username and password, returns the result and keeps the session', async () => {
    const result = sessionResult('alice');
    const tvm = new FakeTvm().answer(json(201, result));
    const store = new MemorySessionStore();
    const client = clientFor(tvm, { sessionStore: store });

    await expect(client.register('Alice', 'correct horse')).resolves.toEqual(result);

    expect(tvm.requests).toEqual([
      {
        path: '/prod/register',
        method: 'POST',
        headers: expect.objectContaining({ 'content-type': 'application/json' }),
        body: { username: 'Alice', password: 'correct horse' },
      },
    ]);
    expect(store.load()).toEqual({
      username: 'alice',
      token: result.session.token,
      expiresAt: result.session.expiresAt,
    });
  });

  it('register sends the device label, so the session it opens carries it; an explicit label wins', async () => {
    const tvm = new FakeTvm().answer(json(201, sessionResult('alice'))).answer(json(201, sessionResult('bob')));
    const client = clientFor(tvm, { device: 'phone' });

    await client.register('alice', 'correct horse');
    await client.register('bob', 'correct horse', { device: 'tablet' });

    expect(tvm.requests.map((request) => request.body)).toEqual([
      { username: 'alice', password: 'correct horse', device: 'phone' },
      { username: 'bob', password: 'correct horse', device: 'tablet' },
    ]);
  });

  it('login sends the device label and keeps the session', async () => {
    const result = sessionResult('alice');
    const tvm = new FakeTvm().answer(json(200, result));
    const client = clientFor(tvm, { device: 'pixel-8' });

    await client.login('alice', 'pw');

    expect(tvm.requests[0]?.body).toEqual({ username: 'alice', password: 'pw', device: 'pixel-8' });
    await expect(client.getSession()).resolves.toMatchObject({ username: 'alice', token: result.session.token });
  });

  it('tells listeners about a login, with its credentials', async () => {
    const result = sessionResult('alice');
    const client = clientFor(new FakeTvm().answer(json(200, result)));
    const events: SessionEvent[] = [];
    client.onSessionChange((event) => events.push(event));

    await client.login('alice', 'pw');

    expect(events).toEqual([{ type: 'signedIn', username: 'alice', result }]);
  });

  it.each([
    [
      'invalid_request',
      apiError(400, 'invalid_request', 'Usernames are 2 to 64 characters.', {}, 'username'),
      InvalidRequestError,
    ],
    [
      'invalid_credentials',
      apiError(401, 'invalid_credentials', 'The username or password is incorrect.'),
      InvalidCredentialsError,
    ],
    ['username_taken', apiError(409, 'username_taken', 'That username is already taken.'), UsernameTakenError],
    [
      'too_many_attempts',
      apiError(429, 'too_many_attempts', 'Too many failed attempts.', { 'retry-after': '900' }),
      TooManyAttemptsError,
    ],
    ['service_unavailable', apiError(503, 'service_unavailable', 'Retry shortly.'), ServiceUnavailableError],
    ['internal_error', apiError(500, 'internal_error', 'Internal error.'), InternalServerError],
  ])('maps the API error %s to its typed error', async (code, response, errorClass) => {
    const client = clientFor(new FakeTvm().answer(response));

    const error = await client.login('alice', 'pw').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(TvmClientError);
    expect(error).toMatchObject({ code, status: response.status });
  });

  it('keeps the field of a 400 and the Retry-After of a 429', async () => {
    const client = clientFor(
      new FakeTvm().answer(
        apiError(400, 'invalid_request', 'Passwords are at most 72 bytes.', {}, 'password'),
        apiError(429, 'too_many_attempts', 'Too many failed attempts. Try again in 900 seconds.', {
          'retry-after': '900',
        }),
      ),
    );

    await expect(client.register('alice', 'x'.repeat(80))).rejects.toMatchObject({
      field: 'password',
      message: 'Passwords are at most 72 bytes.',
    });
    await expect(client.login('alice', 'pw')).rejects.toMatchObject({ retryAfterSeconds: 900 });
  });

  it('maps an answer from a proxy without the TVM body by its status, or as unexpected', async () => {
    const client = clientFor(
      new FakeTvm().answer(
        new Response('<html>Bad Gateway</html>', { status: 502 }),
        json(403, { message: 'Forbidden' }),
        json(429, { message: 'Too Many Requests' }),
      ),
    );

    await expect(client.login('a1', 'pw')).rejects.toMatchObject({ code: 'unexpected_response', status: 502 });
    await expect(client.login('a1', 'pw')).rejects.toBeInstanceOf(UnexpectedResponseError);
    await expect(client.login('a1', 'pw')).rejects.toBeInstanceOf(TooManyAttemptsError);
  });

  it('refuses a success answer that is not the documented shape', async () => {
    const client = clientFor(
      new FakeTvm().answer(json(200, { username: 'alice' }), new Response('ok', { status: 200 })),
    );

    await expect(client.login('alice', 'pw')).rejects.toBeInstanceOf(UnexpectedResponseError);
    await expect(client.login('alice', 'pw')).rejects.toBeInstanceOf(UnexpectedResponseError);
    await expect(client.getSession()).resolves.toBeUndefined();
  });

  it('never retries a login on a 503 without Retry-After or on a network error', async () => {
    const tvm = new FakeTvm().answer(apiError(503, 'service_unavailable', 'Down.'), new TypeError('fetch failed'));
    const client = clientFor(tvm);

    await expect(client.login('alice', 'pw')).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(client.login('alice', 'pw')).rejects.toBeInstanceOf(NetworkError);
    expect(tvm.callsTo('/prod/login')).toHaveLength(2);
  });

  it.each([
    ['login', '/prod/login', (client: TvmClient) => client.login('alice', 'pw')],
    ['register', '/prod/register', (client: TvmClient) => client.register('alice', 'pw')],
    [
      'password reset',
      '/prod/password/reset',
      (client: TvmClient) => client.resetPassword('alice', 'ABCDEFGHJKMNPQRS', 'a new passphrase'),
    ],
  ])(
    'retries a %s on a 503 with Retry-After (a cut-off instant still ahead) no sooner than asked, and keeps the session',
    async (_what, path, call) => {
      const result = sessionResult();
      const tvm = new FakeTvm().answer(
        apiError(503, 'service_unavailable', 'Access was cut off moments ago; retry in 12 seconds.', {
          'retry-after': '12',
        }),
        json(200, result),
      );
      const client = clientFor(tvm);

      const pending = track(call(client));
      await jest.advanceTimersByTimeAsync(11_999);
      expect(tvm.callsTo(path)).toHaveLength(1);
      // The jitter adds up to a quarter of the wait.
      await jest.advanceTimersByTimeAsync(3_001);

      await expect(pending.result).resolves.toMatchObject({ username: 'alice' });
      expect(tvm.callsTo(path)).toHaveLength(2);
      expect((await client.getSession())?.token).toBe(result.session.token);
    },
  );

  it('gives up on a login when the Retry-After is longer than the policy waits, and says how long', async () => {
    const tvm = new FakeTvm().answer(apiError(503, 'service_unavailable', 'Retry later.', { 'retry-after': '120' }));
    const client = clientFor(tvm);
    await expect(client.login('alice', 'pw')).rejects.toMatchObject({
      code: 'service_unavailable',
      retryAfterSeconds: 120,
    });
    expect(tvm.callsTo('/prod/login')).toHaveLength(1);
  });

  it('never retries a register on a network error', async () => {
    const tvm = new FakeTvm().answer(new TypeError('fetch failed'));
    const client = clientFor(tvm);

    await expect(client.register('alice', 'pw')).rejects.toBeInstanceOf(NetworkError);
    expect(tvm.callsTo('/prod/register')).toHaveLength(1);
  });
});

describe('TvmClient token', () => {
  it('sends the stored session as a bearer token and returns credentials and storage', async () => {
    const vend = vendResult();
    const tvm = new FakeTvm().answer(json(200, vend));
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession('bearer-123')) });

    await expect(client.token()).resolves.toEqual(vend);

    expect(tvm.requests[0]).toMatchObject({
      path: '/prod/token',
      method: 'POST',
      headers: { authorization: 'Bearer bearer-123' },
    });
  });

  it('throws LoginRequiredError without calling the TVM when there is no session', async () => {
    const tvm = new FakeTvm();
    const client = clientFor(tvm);

    await expect(client.token()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(tvm.requests).toHaveLength(0);
  });

  it('treats a stored session past its expiry as no session, and clears it', async () => {
    const store = new MemorySessionStore({
      username: 'alice',
      token: 't',
      expiresAt: new Date(Date.now() - 1).toISOString(),
    });
    const tvm = new FakeTvm();
    const client = clientFor(tvm, { sessionStore: store });

    await expect(client.token()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(tvm.requests).toHaveLength(0);
    expect(store.load()).toBeUndefined();
  });

  it('turns a 401 into LoginRequiredError, clears the session and tells listeners', async () => {
    const store = new MemorySessionStore(liveSession());
    const tvm = new FakeTvm().answer(apiError(401, 'invalid_credentials', 'The session has expired.'));
    const client = clientFor(tvm, { sessionStore: store });
    const events: SessionEvent[] = [];
    client.onSessionChange((event) => events.push(event));

    const error = await client.token().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LoginRequiredError);
    expect(error).toMatchObject({ code: 'login_required', status: 401 });
    expect((error as Error).cause).toBeInstanceOf(InvalidCredentialsError);
    expect(store.load()).toBeUndefined();
    expect(events).toEqual([{ type: 'signedOut', reason: 'rejected' }]);
    expect(tvm.requests).toHaveLength(1);
  });

  it('retries a 503 no sooner than its Retry-After in seconds', async () => {
    const vend = vendResult();
    const tvm = new FakeTvm().answer(
      apiError(503, 'service_unavailable', 'Retry shortly.', { 'retry-after': '2' }),
      json(200, vend),
    );
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) });

    const call = track(client.token());
    await jest.advanceTimersByTimeAsync(1_999);
    expect(tvm.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1_000);

    await expect(call.result).resolves.toEqual(vend);
    expect(tvm.requests).toHaveLength(2);
  });

  it('retries a /token refused 429 rate_limited after its Retry-After plus jitter, and keeps the session', async () => {
    const vend = vendResult();
    const tvm = new FakeTvm().answer(
      apiError(429, 'rate_limited', 'This session asked for credentials too often this minute.', {
        'retry-after': '8',
      }),
      json(200, vend),
    );
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) });

    const call = track(client.token());
    // random() = 0.5: half of the jitter span, a quarter of the wait (8 s): 1 s after the Retry-After.
    await jest.advanceTimersByTimeAsync(8_999);
    expect(tvm.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2);

    await expect(call.result).resolves.toEqual(vend);
    expect(tvm.requests).toHaveLength(2);
    expect(await client.getSession()).toBeDefined();
  });

  it('gives up on a /token 429 rate_limited whose Retry-After is longer than the policy waits, and says how long', async () => {
    const tvm = new FakeTvm().answer(apiError(429, 'rate_limited', 'Slow down.', { 'retry-after': '45' }));
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) });
    await expect(client.token()).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 45 });
    expect(tvm.requests).toHaveLength(1);
  });

  it('retries a 503 no sooner than its Retry-After as an HTTP date', async () => {
    const retryAt = new Date(Date.now() + 5_000).toUTCString();
    const tvm = new FakeTvm().answer(
      apiError(503, 'service_unavailable', 'Retry shortly.', { 'retry-after': retryAt }),
      json(200, vendResult()),
    );
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) });

    const call = track(client.token());
    await jest.advanceTimersByTimeAsync(4_999);
    expect(tvm.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1_000);

    await expect(call.result).resolves.toBeDefined();
    expect(tvm.requests).toHaveLength(2);
  });

  it('retries network errors with growing backoff, then gives up after maxAttempts', async () => {
    const tvm = new FakeTvm(() => new TypeError('fetch failed'));
    const client = clientFor(tvm, {
      sessionStore: new MemorySessionStore(liveSession()),
      retry: { maxAttempts: 3, baseDelayMs: 1_000 },
    });

    const call = track(client.token());
    await jest.advanceTimersByTimeAsync(0);
    expect(tvm.requests).toHaveLength(1);
    // random() = 0.5: the first wait is half of 1 s, the second half of 2 s.
    await jest.advanceTimersByTimeAsync(500);
    expect(tvm.requests).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(999);
    expect(tvm.requests).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(tvm.requests).toHaveLength(3);

    await expect(call.result).rejects.toBeInstanceOf(NetworkError);
    expect(tvm.requests).toHaveLength(3);
  });

  it.each([
    ['400', apiError(400, 'invalid_request', 'Bad.')],
    ['401', apiError(401, 'invalid_credentials', 'Expired.')],
    ['429', apiError(429, 'too_many_attempts', 'Slow down.', { 'retry-after': '1' })],
    ['500', apiError(500, 'internal_error', 'Internal error.')],
  ])('does not retry a %s', async (_status, response) => {
    const tvm = new FakeTvm(() => json(200, vendResult())).answer(response);
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) });

    await expect(client.token()).rejects.toBeInstanceOf(TvmClientError);
    expect(tvm.requests).toHaveLength(1);
  });

  it('stops retrying when Retry-After is longer than the cap, and says how long to wait', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult())).answer(
      apiError(503, 'service_unavailable', 'Down.', { 'retry-after': '120' }),
    );
    const client = clientFor(tvm, {
      sessionStore: new MemorySessionStore(liveSession()),
      retry: { maxRetryAfterMs: 30_000 },
    });

    await expect(client.token()).rejects.toMatchObject({ code: 'service_unavailable', retryAfterSeconds: 120 });
    expect(tvm.requests).toHaveLength(1);
  });

  it('abandons an attempt after the timeout, retries it, and throws TimeoutError when all time out', async () => {
    const tvm = new FakeTvm(() => 'hang');
    const client = clientFor(tvm, {
      sessionStore: new MemorySessionStore(liveSession()),
      timeoutMs: 3_000,
      retry: { maxAttempts: 2, baseDelayMs: 100 },
    });

    const call = track(client.token());
    await jest.advanceTimersByTimeAsync(2_999);
    expect(call.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(tvm.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(50 + 3_000);

    await expect(call.result).rejects.toBeInstanceOf(TimeoutError);
    expect(tvm.requests).toHaveLength(2);
  });

  it('recovers when a timed-out attempt is followed by an answer', async () => {
    const vend = vendResult();
    const tvm = new FakeTvm().answer('hang', json(200, vend));
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()), timeoutMs: 1_000 });

    const call = track(client.token());
    await jest.advanceTimersByTimeAsync(1_000 + 125);

    await expect(call.result).resolves.toEqual(vend);
  });
});

describe('TvmClient logout', () => {
  it('forgets the session at once, then revokes it with the bearer token', async () => {
    const store = new MemorySessionStore(liveSession('bearer-9'));
    const tvm = new FakeTvm().answer(new Response(null, { status: 204 }));
    const client = clientFor(tvm, { sessionStore: store });
    const events: SessionEvent[] = [];
    client.onSessionChange((event) => events.push(event));

    await client.logout();

    expect(tvm.requests).toEqual([
      expect.objectContaining({
        path: '/prod/logout',
        headers: expect.objectContaining({ authorization: 'Bearer bearer-9' }),
      }),
    ]);
    expect(events).toEqual([{ type: 'signedOut', reason: 'logout' }]);
    expect(store.load()).toBeUndefined();
    await expect(client.getSession()).resolves.toBeUndefined();
  });

  it('counts a 401 (the session was already gone) as a successful logout', async () => {
    const client = clientFor(new FakeTvm().answer(apiError(401, 'invalid_credentials', 'Expired.')), {
      sessionStore: new MemorySessionStore(liveSession()),
    });

    await expect(client.logout()).resolves.toBeUndefined();
  });

  it('retries the revocation on 503, because revoking twice is harmless', async () => {
    const tvm = new FakeTvm().answer(
      apiError(503, 'service_unavailable', 'Down.', { 'retry-after': '1' }),
      new Response(null, { status: 204 }),
    );
    const client = clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) });

    const call = track(client.logout());
    await jest.advanceTimersByTimeAsync(2_000);

    await expect(call.result).resolves.toBeUndefined();
    expect(tvm.requests).toHaveLength(2);
  });

  it('throws when the revocation keeps failing, but the session is gone on this device', async () => {
    const store = new MemorySessionStore(liveSession());
    const client = clientFor(new FakeTvm(() => new TypeError('offline')), {
      sessionStore: store,
      retry: { maxAttempts: 1 },
    });

    await expect(client.logout()).rejects.toBeInstanceOf(NetworkError);
    expect(store.load()).toBeUndefined();
  });

  it('does nothing without a session', async () => {
    const tvm = new FakeTvm();

    await clientFor(tvm).logout();

    expect(tvm.requests).toHaveLength(0);
  });
});

describe('TvmClient session persistence', () => {
  it('a new client restores the session a previous one saved in localStorage', async () => {
    const backing = new Map<string, string>();
    const storage = {
      getItem: (key: string) => backing.get(key) ?? null,
      setItem: (key: string, value: string) => void backing.set(key, value),
      removeItem: (key: string) => void backing.delete(key),
    };
    const result = sessionResult('alice');
    const first = clientFor(new FakeTvm().answer(json(200, result)), {
      sessionStore: new LocalStorageSessionStore({ storage }),
    });
    await first.login('alice', 'pw');

    const tvm = new FakeTvm().answer(json(200, vendResult()));
    const second = clientFor(tvm, { sessionStore: new LocalStorageSessionStore({ storage }) });
    await second.token();

    expect(tvm.requests[0]?.headers['authorization']).toBe(`Bearer ${result.session.token}`);
    expect(JSON.parse(backing.get('tvm.session') ?? '{}')).toEqual({
      username: 'alice',
      token: result.session.token,
      expiresAt: result.session.expiresAt,
    });
  });

  it('a store that cannot write (private browsing) still leaves the person logged in for this run', async () => {
    const failingStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
      removeItem: () => undefined,
    };
    const tvm = new FakeTvm().answer(json(200, sessionResult('alice')), json(200, vendResult()));
    const client = clientFor(tvm, { sessionStore: new LocalStorageSessionStore({ storage: failingStorage }) });

    await expect(client.login('alice', 'pw')).resolves.toMatchObject({ username: 'alice' });
    await expect(client.token()).resolves.toBeDefined();
  });

  it('a store that throws on reading counts as no session', async () => {
    const brokenStore = {
      load: () => {
        throw new Error('SecurityError: storage is disabled');
      },
      save: () => undefined,
      clear: () => undefined,
    };
    const tvm = new FakeTvm();

    await expect(clientFor(tvm, { sessionStore: brokenStore }).token()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(tvm.requests).toHaveLength(0);
  });

  it('a listener that throws does not keep the others from hearing a logout', async () => {
    const client = clientFor(new FakeTvm().answer(new Response(null, { status: 204 })), {
      sessionStore: new MemorySessionStore(liveSession()),
    });
    const heard: string[] = [];
    client.onSessionChange(() => {
      throw new Error('broken listener');
    });
    const unsubscribe = client.onSessionChange((event) => heard.push(event.type));

    await client.logout();
    unsubscribe();

    expect(heard).toEqual(['signedOut']);
  });
});

describe('TvmClient deleteAccount', () => {
  const completesAfter = '2026-11-26T12:05:00.000Z';
  const accepted = () => json(202, { deletion: { status: 'pending', completesAfter } });

  it('sends the same step-up body as the other routes (a passkey answer as JSON text with its challenge), then forgets the session', async () => {
    const store = new MemorySessionStore(liveSession('bearer-7'));
    const tvm = new FakeTvm().answer(accepted()).answer(accepted()).answer(accepted());
    const client = clientFor(tvm, { sessionStore: store });
    const answer = { id: 'cred-1', response: { signature: 'sig' } };

    await expect(client.deleteAccount({ passkey: answer, challenge: { token: 'challenge-1' } })).resolves.toEqual({
      status: 'pending',
      completesAfter,
    });
    expect(store.load()).toBeUndefined();
    await clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) }).deleteAccount({ code: '123456' });
    await clientFor(tvm, { sessionStore: new MemorySessionStore(liveSession()) }).deleteAccount({
      currentPassword: 'correct horse',
    });

    expect(tvm.requests.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'DELETE', path: '/prod/account', body: { challenge: 'challenge-1', passkey: JSON.stringify(answer) } },
      { method: 'DELETE', path: '/prod/account', body: { code: '123456' } },
      { method: 'DELETE', path: '/prod/account', body: { currentPassword: 'correct horse' } },
    ]);
    expect(tvm.requests[0]?.headers['authorization']).toBe('Bearer bearer-7');
  });

  it('keeps the session when the step-up is refused, and never retries', async () => {
    const store = new MemorySessionStore(liveSession());
    const tvm = new FakeTvm().answer(apiError(401, 'second_factor_required', 'This account has a second factor.'));
    const client = clientFor(tvm, { sessionStore: store });

    await expect(client.deleteAccount({ currentPassword: 'correct horse' })).rejects.toMatchObject({
      code: 'second_factor_required',
    });
    expect(tvm.requests).toHaveLength(1);
    expect(store.load()).toBeDefined();
  });
});

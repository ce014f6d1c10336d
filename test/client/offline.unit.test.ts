import {
  fromTvm,
  LoginRequiredError,
  NetworkError,
  type ConnectivityState,
  type SessionEvent,
} from '@serverless-tvm/client';
import { apiError, FakeTvm, json, loggedInClient as sharedLoggedInClient, vendResult } from './fake-tvm';

/** No retries: each test scripts every answer. */
const loggedInClient = (tvm: FakeTvm) => sharedLoggedInClient(tvm, { random: () => 0, retry: { maxAttempts: 1 } });

const MINUTE = 60_000;

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-11-26T12:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('offline', () => {
  it('reports offline when /token gets no answer and online at the next answer, keeping the session', async () => {
    const tvm = new FakeTvm().answer(new TypeError('fetch failed'), json(200, vendResult()));
    const client = loggedInClient(tvm);
    const states: ConnectivityState[] = [];
    client.connectivity.onChange((state) => states.push(state));

    await expect(client.token()).rejects.toBeInstanceOf(NetworkError);
    expect(client.connectivity.state).toBe('offline');
    expect(await client.getSession()).toBeDefined();
    await client.token();
    expect(states).toEqual(['offline', 'online']);
  });

  it('keeps handing out still-valid credentials while /token is unreachable, and retries it with a growing backoff', async () => {
    const first = vendResult(10 * MINUTE);
    const tvm = new FakeTvm(() => new TypeError('fetch failed')).answer(json(200, first));
    const client = loggedInClient(tvm);
    const provider = fromTvm(client, { refreshBackoffMs: 2_000, maxRefreshBackoffMs: 8_000 });
    await provider();
    // Five minutes before expiry the provider wants fresh credentials, but the TVM is unreachable.
    jest.advanceTimersByTime(5 * MINUTE + 1);

    const attemptsAt: number[] = [];
    for (let second = 0; second < 20; second++) {
      const before = tvm.callsTo('/token').length;
      await expect(provider()).resolves.toMatchObject({ accessKeyId: first.credentials.accessKeyId });
      if (tvm.callsTo('/token').length > before) attemptsAt.push(second);
      jest.advanceTimersByTime(1_000);
    }
    // Backoff 2 s, 4 s, 8 s, 8 s: not one /token call per S3 request.
    expect(attemptsAt).toEqual([0, 2, 6, 14]);
    expect(client.connectivity.state).toBe('offline');
    expect(await client.getSession()).toBeDefined();
  });

  it('throws the network error (not a logout) once the cached credentials have run out while offline', async () => {
    const tvm = new FakeTvm(() => new TypeError('fetch failed')).answer(json(200, vendResult(10 * MINUTE)));
    const client = loggedInClient(tvm);
    const events: SessionEvent[] = [];
    client.onSessionChange((event) => events.push(event));
    const provider = fromTvm(client);
    await provider();
    jest.advanceTimersByTime(10 * MINUTE);

    await expect(provider()).rejects.toBeInstanceOf(NetworkError);
    expect(events).toEqual([]);
  });

  it('ends the session only on a 401 from /token', async () => {
    const tvm = new FakeTvm().answer(
      json(200, vendResult(10 * MINUTE)),
      apiError(401, 'invalid_credentials', 'Session expired or revoked.'),
    );
    const client = loggedInClient(tvm);
    const events: SessionEvent[] = [];
    client.onSessionChange((event) => events.push(event));
    const provider = fromTvm(client);
    await provider();

    await expect(provider({ forceRefresh: true })).rejects.toBeInstanceOf(LoginRequiredError);
    expect(events).toEqual([{ type: 'signedOut', reason: 'rejected' }]);
    expect(await client.getSession()).toBeUndefined();
  });
});

import { fromShare, LoginRequiredError, ShareEndedError, type TvmClient } from '@serverless-tvm/client';
import { apiError, FakeTvm, json, loggedInClient, sessionResult, shareCredentials } from './fake-tvm';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = new Date('2026-12-07T12:00:00Z').getTime();
const at = (ms: number): string => new Date(START + ms).toISOString();

beforeEach(() => {
  jest.useFakeTimers({ now: START });
});

afterEach(() => {
  jest.useRealTimers();
});

function client(tvm: FakeTvm): TvmClient {
  return loggedInClient(tvm, { random: () => 0 });
}

describe('fromShare', () => {
  it('returns the share credentials and its storage details (prefix, access, end, kind) from one call', async () => {
    const tvm = new FakeTvm().answer(json(200, shareCredentials({ access: 'readwrite' })));
    const provider = fromShare(client(tvm), 'share-1');

    const identity = await provider();
    const info = await provider.storage();

    expect(identity.accessKeyId).toMatch(/^ASIASHARE/);
    expect(identity.expiration).toEqual(new Date(START + HOUR));
    expect(info).toMatchObject({
      shareId: 'share-1',
      prefix: 'alice/photos/',
      access: 'readwrite',
      expiresAt: null,
      kind: 'folder',
    });
    expect(tvm.callsTo('/shares/share-1/credentials')).toHaveLength(1);
  });

  it('tells a file share by its prefix', async () => {
    const tvm = new FakeTvm().answer(json(200, shareCredentials({ prefix: 'alice/photos/a.jpg' })));
    await expect(fromShare(client(tvm), 's').storage()).resolves.toMatchObject({ kind: 'file' });
  });

  it('serves cached credentials until five minutes before expiry, then refreshes them once for many callers', async () => {
    const tvm = new FakeTvm(() => json(200, shareCredentials()));
    const provider = fromShare(client(tvm), 's');

    const first = await provider();
    jest.advanceTimersByTime(HOUR - 5 * MINUTE - 1);
    await expect(provider()).resolves.toBe(first);
    expect(tvm.requests).toHaveLength(1);

    jest.advanceTimersByTime(1);
    const [a, b, c] = await Promise.all([provider(), provider(), provider()]);
    expect(a.accessKeyId).not.toBe(first.accessKeyId);
    expect(new Set([a, b, c]).size).toBe(1);
    expect(tvm.requests).toHaveLength(2);
  });

  it('never hands out an expiration past the share end, and does not refresh credentials that already last as long as the share', async () => {
    // STS gives an hour; the share ends in 20 minutes.
    const tvm = new FakeTvm(() => json(200, shareCredentials({ lifetimeMs: HOUR, expiresAt: at(20 * MINUTE) })));
    const provider = fromShare(client(tvm), 's');

    const identity = await provider();
    expect(identity.expiration).toEqual(new Date(START + 20 * MINUTE));

    // Inside the refresh margin, but nothing newer could last longer: no call.
    jest.advanceTimersByTime(19 * MINUTE);
    await expect(provider()).resolves.toBe(identity);
    expect(tvm.requests).toHaveLength(1);
  });

  it('after the share end throws ShareEndedError without calling the TVM', async () => {
    const tvm = new FakeTvm(() => json(200, shareCredentials({ lifetimeMs: HOUR, expiresAt: at(20 * MINUTE) })));
    const provider = fromShare(client(tvm), 's');
    await provider();

    jest.advanceTimersByTime(20 * MINUTE);
    await expect(provider()).rejects.toEqual(expect.any(ShareEndedError));
    await expect(provider({ forceRefresh: true })).rejects.toMatchObject({ code: 'share_ended', shareId: 's' });
    await expect(provider.storage()).rejects.toEqual(expect.any(ShareEndedError));
    expect(tvm.requests).toHaveLength(1);
    expect(provider.cached()).toBeUndefined();
  });

  it('refuses a share known to be over from the list before any call', async () => {
    const tvm = new FakeTvm(() => json(200, shareCredentials()));
    const provider = fromShare(client(tvm), 's', { expiresAt: at(-1) });
    await expect(provider()).rejects.toEqual(expect.any(ShareEndedError));
    expect(tvm.requests).toHaveLength(0);
  });

  it('refreshes when STS credentials end before the share does, and the new ones still stop at the share end', async () => {
    const tvm = new FakeTvm(() => json(200, shareCredentials({ lifetimeMs: 15 * MINUTE, expiresAt: at(25 * MINUTE) })));
    const provider = fromShare(client(tvm), 's');

    await provider();
    jest.advanceTimersByTime(10 * MINUTE);
    const second = await provider();
    expect(tvm.requests).toHaveLength(2);
    expect(second.expiration).toEqual(new Date(START + 25 * MINUTE));
  });

  it('turns a 404 (revoked, left) into ShareEndedError and stops asking', async () => {
    const tvm = new FakeTvm(() => apiError(404, 'not_found', 'Not found.'));
    const provider = fromShare(client(tvm), 's');

    await expect(provider()).rejects.toMatchObject({ code: 'share_ended', status: 404 });
    await expect(provider()).rejects.toEqual(expect.any(ShareEndedError));
    expect(tvm.requests).toHaveLength(1);
  });

  it('keeps cached credentials through a short outage, and throws once they are nearly spent', async () => {
    const tvm = new FakeTvm().answer(json(200, shareCredentials({ lifetimeMs: 15 * MINUTE })));
    const provider = fromShare(client(tvm), 's');
    const cached = await provider();

    jest.advanceTimersByTime(11 * MINUTE);
    tvm.answer(new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed'));
    const during = provider();
    await jest.runAllTimersAsync();
    await expect(during).resolves.toBe(cached);

    jest.advanceTimersByTime(3 * MINUTE + 30_000);
    tvm.answer(new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed'));
    const after = provider();
    const settled = after.catch((error: unknown) => error);
    await jest.runAllTimersAsync();
    await expect(settled).resolves.toMatchObject({ code: 'network_error' });
  });

  it('judges a refused session by /token: the session ends and LoginRequiredError is thrown', async () => {
    const tvm = new FakeTvm().answer(
      apiError(401, 'invalid_credentials', 'Session refused.'),
      apiError(401, 'invalid_credentials', 'Session refused.'),
    );
    const tvmClient = client(tvm);
    const events: string[] = [];
    tvmClient.onSessionChange((event) => events.push(event.type));

    await expect(fromShare(tvmClient, 's')()).rejects.toEqual(expect.any(LoginRequiredError));
    expect(tvm.requests.map((request) => request.path)).toEqual(['/shares/s/credentials', '/token']);
    expect(events).toEqual(['signedOut']);
  });

  it('forgets the credentials at a logout and a login, and throws away an answer from before', async () => {
    const tvm = new FakeTvm(() => json(200, shareCredentials()));
    const tvmClient = client(tvm);
    const provider = fromShare(tvmClient, 's');
    await provider();
    expect(provider.cached()).toBeDefined();

    tvm.answer(new Response(null, { status: 204 }));
    await tvmClient.logout();
    expect(provider.cached()).toBeUndefined();

    // A fetch in flight when bob logs in must not become bob's.
    let release: (response: Response) => void = () => undefined;
    tvm.answer(json(200, sessionResult('alice')));
    await tvmClient.login('alice', 'pw');
    tvm.answer(() => new Promise<Response>((resolve) => (release = resolve)));
    const pending = provider();
    await jest.advanceTimersByTimeAsync(0);
    tvm.answer(json(200, sessionResult('bob')));
    await tvmClient.login('bob', 'pw');
    release(json(200, shareCredentials()));
    await expect(pending).rejects.toEqual(expect.any(LoginRequiredError));
    expect(provider.cached()).toBeUndefined();
    provider.dispose();
  });
});

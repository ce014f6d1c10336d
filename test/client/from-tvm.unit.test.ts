import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  fromTvm,
  LoginRequiredError,
  MemorySessionStore,
  ServiceUnavailableError,
  TvmClient,
  type StoredSession,
} from '@serverless-tvm/client';
import { apiError, FakeTvm, json, sessionResult, storage, vendResult } from './fake-tvm';

const HOUR = 3_600_000;
const MINUTE = 60_000;

function liveSession(): StoredSession {
  return { username: 'alice', token: 'bearer-stored', expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
}

function loggedInClient(tvm: FakeTvm): TvmClient {
  return new TvmClient({
    baseUrl: 'https://tvm.example.com',
    fetch: tvm.fetch,
    sessionStore: new MemorySessionStore(liveSession()),
    random: () => 0,
  });
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-11-26T12:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('fromTvm', () => {
  it('returns AWS SDK credentials and the storage details from one /token call', async () => {
    const vend = vendResult(HOUR);
    const tvm = new FakeTvm().answer(json(200, vend));
    const provider = fromTvm(loggedInClient(tvm));

    await expect(provider()).resolves.toEqual({
      accessKeyId: vend.credentials.accessKeyId,
      secretAccessKey: vend.credentials.secretAccessKey,
      sessionToken: vend.credentials.sessionToken,
      expiration: new Date(vend.credentials.expiration),
    });
    await expect(provider.storage()).resolves.toEqual(storage);
    expect(provider.cached()).toEqual({ expiration: new Date(vend.credentials.expiration), storage });
    expect(tvm.requests).toHaveLength(1);
  });

  it('serves cached credentials until five minutes before expiry, then refreshes them', async () => {
    const first = vendResult(HOUR);
    const tvm = new FakeTvm(() => json(200, vendResult(HOUR))).answer(json(200, first));
    const provider = fromTvm(loggedInClient(tvm));

    await provider();
    jest.advanceTimersByTime(HOUR - 5 * MINUTE - 1);
    await expect(provider()).resolves.toMatchObject({ accessKeyId: first.credentials.accessKeyId });
    expect(tvm.requests).toHaveLength(1);

    jest.advanceTimersByTime(1);
    const refreshed = await provider();

    expect(refreshed.accessKeyId).not.toBe(first.credentials.accessKeyId);
    expect(tvm.requests).toHaveLength(2);
  });

  it('honours a custom refresh margin', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult(HOUR)));
    const provider = fromTvm(loggedInClient(tvm), { refreshBeforeExpiryMs: 10 * MINUTE });

    await provider();
    jest.advanceTimersByTime(HOUR - 10 * MINUTE - 1);
    await provider();
    expect(tvm.requests).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await provider();

    expect(tvm.requests).toHaveLength(2);
  });

  it('makes a single /token call however many of 100 concurrent callers wait', async () => {
    const tvm = new FakeTvm(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return json(200, vendResult(HOUR));
    });
    const provider = fromTvm(loggedInClient(tvm));

    const calls = Promise.all(Array.from({ length: 100 }, () => provider()));
    await jest.advanceTimersByTimeAsync(50);
    const identities = await calls;

    expect(tvm.requests).toHaveLength(1);
    expect(new Set(identities.map((identity) => identity.accessKeyId)).size).toBe(1);
  });

  it('makes a single /token call for 100 concurrent callers during a refresh, too', async () => {
    const tvm = new FakeTvm(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return json(200, vendResult(HOUR));
    });
    const provider = fromTvm(loggedInClient(tvm));
    const first = provider();
    await jest.advanceTimersByTimeAsync(50);
    const old = await first;
    jest.advanceTimersByTime(HOUR - 4 * MINUTE);

    const calls = Promise.all(Array.from({ length: 100 }, () => provider()));
    await jest.advanceTimersByTimeAsync(50);
    const identities = await calls;

    expect(tvm.requests).toHaveLength(2);
    expect(identities.every((identity) => identity.accessKeyId !== old.accessKeyId)).toBe(true);
  });

  it('turns a 401 into a clear "login required" error and forgets everything', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult(HOUR)));
    const client = loggedInClient(tvm);
    const provider = fromTvm(client);
    await provider();
    jest.advanceTimersByTime(HOUR);
    tvm.answer(apiError(401, 'invalid_credentials', 'The session has expired.'));

    const error = await provider().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LoginRequiredError);
    expect(error).toMatchObject({ code: 'login_required', message: expect.stringMatching(/^Login required/) });
    expect(provider.cached()).toBeUndefined();
    await expect(provider()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(tvm.requests).toHaveLength(2);
  });

  it('forgets cached credentials on logout and asks for a login afterwards', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult(HOUR)));
    const client = loggedInClient(tvm);
    const provider = fromTvm(client);
    await provider();
    tvm.answer(new Response(null, { status: 204 }));

    await client.logout();

    expect(provider.cached()).toBeUndefined();
    await expect(provider()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(tvm.callsTo('/token')).toHaveLength(1);
  });

  it('throws away a /token answer that arrives after a logout', async () => {
    const tvm = new FakeTvm()
      .answer(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return json(200, vendResult(HOUR));
      })
      .answer(new Response(null, { status: 204 }));
    const client = loggedInClient(tvm);
    const provider = fromTvm(client);

    const pending = provider();
    pending.catch(() => undefined);
    await jest.advanceTimersByTimeAsync(10);
    await client.logout();
    await jest.advanceTimersByTimeAsync(100);

    await expect(pending).rejects.toBeInstanceOf(LoginRequiredError);
    expect(provider.cached()).toBeUndefined();
  });

  it("gives callers waiting on the previous session's /token the credentials of a login that happened meanwhile", async () => {
    const bobLogin = sessionResult('bob', HOUR);
    const tvm = new FakeTvm()
      .answer(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return json(200, vendResult(HOUR));
      })
      .answer(json(200, bobLogin));
    const client = loggedInClient(tvm);
    const provider = fromTvm(client);

    const pending = provider();
    await jest.advanceTimersByTimeAsync(10);
    await client.login('bob', 'pw');
    await jest.advanceTimersByTimeAsync(100);

    await expect(pending).resolves.toMatchObject({ accessKeyId: bobLogin.credentials.accessKeyId });
  });

  it('uses the credentials a login returned, with no extra /token call', async () => {
    const result = sessionResult('bob', HOUR);
    const tvm = new FakeTvm().answer(json(200, result));
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch });
    const provider = fromTvm(client);

    await client.login('bob', 'pw');

    await expect(provider()).resolves.toMatchObject({ accessKeyId: result.credentials.accessKeyId });
    expect(tvm.callsTo('/token')).toHaveLength(0);
  });

  it('keeps serving still-valid credentials when an early refresh fails transiently', async () => {
    const first = vendResult(HOUR);
    const tvm = new FakeTvm(() => apiError(503, 'service_unavailable', 'Down.')).answer(json(200, first));
    const client = new TvmClient({
      baseUrl: 'https://tvm.example.com',
      fetch: tvm.fetch,
      sessionStore: new MemorySessionStore(liveSession()),
      retry: { maxAttempts: 1 },
    });
    const provider = fromTvm(client);
    await provider();
    jest.advanceTimersByTime(HOUR - 4 * MINUTE);

    await expect(provider()).resolves.toMatchObject({ accessKeyId: first.credentials.accessKeyId });

    jest.advanceTimersByTime(3 * MINUTE + 1);
    await expect(provider()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('does not cache a failure: the next call asks the TVM again', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult(HOUR))).answer(
      apiError(500, 'internal_error', 'Internal error.'),
    );
    const provider = fromTvm(loggedInClient(tvm));

    await expect(provider()).rejects.toMatchObject({ code: 'internal_error' });
    await expect(provider()).resolves.toBeDefined();
    expect(tvm.requests).toHaveLength(2);
  });

  it('skips the cache when the AWS SDK asks for a forced refresh', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult(HOUR)));
    const provider = fromTvm(loggedInClient(tvm));

    const first = await provider();
    const forced = await provider({ forceRefresh: true });

    expect(forced.accessKeyId).not.toBe(first.accessKeyId);
    expect(tvm.requests).toHaveLength(2);
  });

  it('a refresh for refused credentials never answers with them: a 503 with Retry-After is thrown to be waited out', async () => {
    const first = vendResult(HOUR);
    const tvm = new FakeTvm(() =>
      apiError(503, 'service_unavailable', 'Access was cut off moments ago.', { 'retry-after': '90' }),
    ).answer(json(200, first));
    const client = new TvmClient({
      baseUrl: 'https://tvm.example.com',
      fetch: tvm.fetch,
      sessionStore: new MemorySessionStore(liveSession()),
      retry: { maxAttempts: 1 },
    });
    const provider = fromTvm(client);
    await provider();

    await expect(provider({ forceRefresh: true, credentialsRefused: true })).rejects.toMatchObject({
      code: 'service_unavailable',
      retryAfterSeconds: 90,
    });
    // A plain forced refresh (offline, say) still falls back to them; only the caller that saw them refused is told.
    await expect(provider({ forceRefresh: true })).resolves.toMatchObject({
      accessKeyId: first.credentials.accessKeyId,
    });
  });

  it('marks itself as caching for the AWS SDK, in a way the SDK may set again', () => {
    'use strict';
    const provider = fromTvm(loggedInClient(new FakeTvm())) as unknown as { memoized: boolean };

    expect(provider.memoized).toBe(true);
    // The SDK's browser build assigns the flag again in strict mode; a read-only flag made it throw.
    expect(() => {
      provider.memoized = true;
    }).not.toThrow();
  });

  it('stops following logins after dispose', async () => {
    const tvm = new FakeTvm().answer(json(200, sessionResult('bob', HOUR)));
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch });
    const provider = fromTvm(client);

    provider.dispose();
    await client.login('bob', 'pw');

    expect(provider.cached()).toBeUndefined();
  });
});

describe('fromTvm with a real S3Client', () => {
  let server: Server;
  let endpoint: string;
  const authorizations: string[] = [];

  beforeEach(async () => {
    jest.useRealTimers();
    authorizations.length = 0;
    server = createServer((request, response) => {
      authorizations.push(String(request.headers['authorization']));
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>files-bucket</Name><Prefix>alice/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('is accepted as S3Client credentials and signs 20 parallel requests after one /token call', async () => {
    const vend = vendResult(HOUR);
    const tvm = new FakeTvm().answer(json(200, vend));
    const credentials: S3ClientConfig['credentials'] = fromTvm(loggedInClient(tvm));
    const s3 = new S3Client({ credentials, region: 'eu-west-1', endpoint, forcePathStyle: true });

    await Promise.all(
      Array.from({ length: 20 }, () => s3.send(new ListObjectsV2Command({ Bucket: 'files-bucket', Prefix: 'alice/' }))),
    );
    s3.destroy();

    expect(tvm.callsTo('/token')).toHaveLength(1);
    expect(authorizations).toHaveLength(20);
    expect(authorizations.every((header) => header.includes(`Credential=${vend.credentials.accessKeyId}/`))).toBe(true);
  });

  it("an S3Client signs with the new user's keys after a logout and another login, without being rebuilt", async () => {
    const aliceLogin = sessionResult('alice', HOUR);
    const bobLogin = sessionResult('bob', HOUR);
    const tvm = new FakeTvm().answer(json(200, aliceLogin), new Response(null, { status: 204 }), json(200, bobLogin));
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch });
    const s3 = new S3Client({ credentials: fromTvm(client), region: 'eu-west-1', endpoint, forcePathStyle: true });
    const list = () => s3.send(new ListObjectsV2Command({ Bucket: 'files-bucket', Prefix: 'x/' }));

    await client.login('alice', 'pw');
    await list();
    await client.logout();
    await expect(list()).rejects.toBeInstanceOf(LoginRequiredError);
    await client.login('bob', 'pw');
    await list();
    s3.destroy();

    expect(authorizations).toHaveLength(2);
    expect(authorizations[0]).toContain(`Credential=${aliceLogin.credentials.accessKeyId}/`);
    expect(authorizations[1]).toContain(`Credential=${bobLogin.credentials.accessKeyId}/`);
  });
});

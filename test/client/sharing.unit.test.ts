import {
  InvalidRequestError,
  LimitReachedError,
  NotFoundError,
  TvmLinks,
  TvmShares,
  UnexpectedResponseError,
} from '@serverless-tvm/client';
import { apiError, FakeTvm, json, loggedInClient, shareCredentials, shareSummary } from './fake-tvm';

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-07T12:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('TvmShares', () => {
  it('creates a share with the bearer token and the documented body, and returns it typed', async () => {
    const created = shareSummary({ access: 'readwrite', expiresAt: '2026-12-31T00:00:00.000Z' });
    const tvm = new FakeTvm().answer(json(201, created));
    const shares = new TvmShares(loggedInClient(tvm));

    await expect(
      shares.create({
        path: 'photos/',
        grantee: 'bob',
        access: 'readwrite',
        expiresAt: new Date('2026-12-31T00:00:00Z'),
      }),
    ).resolves.toEqual(created);

    expect(tvm.requests).toEqual([
      expect.objectContaining({
        path: '/shares',
        method: 'POST',
        body: { path: 'photos/', grantee: 'bob', access: 'readwrite', expiresAt: '2026-12-31T00:00:00.000Z' },
        headers: expect.objectContaining({ authorization: 'Bearer bearer-stored' }),
      }),
    ]);
  });

  it('sends no expiresAt for a share until revoked', async () => {
    const tvm = new FakeTvm().answer(json(201, shareSummary()));
    await new TvmShares(loggedInClient(tvm)).create({ path: '', grantee: 'bob', access: 'read' });
    expect(tvm.requests[0]?.body).toEqual({ path: '', grantee: 'bob', access: 'read' });
  });

  it('maps a refusal to its typed error: no such grantee (field grantee), the per-owner limit', async () => {
    const tvm = new FakeTvm().answer(
      apiError(400, 'invalid_request', 'no such user', {}, 'grantee'),
      apiError(409, 'limit_reached', 'at most 100 shares'),
    );
    const shares = new TvmShares(loggedInClient(tvm));
    const share = { path: 'a.txt', grantee: 'nobody', access: 'read' } as const;

    await expect(shares.create(share)).rejects.toEqual(expect.any(InvalidRequestError));
    await expect(shares.create(share)).rejects.toEqual(expect.any(LimitReachedError));
    expect(tvm.requests).toHaveLength(2);
  });

  it('does not send a create again after a lost answer (it may have created the share), but does after a 503 with Retry-After', async () => {
    const lost = new FakeTvm().answer(new TypeError('fetch failed'));
    await expect(
      new TvmShares(loggedInClient(lost)).create({ path: 'a', grantee: 'bob', access: 'read' }),
    ).rejects.toMatchObject({ code: 'network_error' });
    expect(lost.requests).toHaveLength(1);

    const busy = new FakeTvm().answer(
      apiError(503, 'service_unavailable', 'busy', { 'retry-after': '1' }),
      json(201, shareSummary()),
    );
    const created = new TvmShares(loggedInClient(busy, { random: () => 0 })).create({
      path: 'a',
      grantee: 'bob',
      access: 'read',
    });
    await jest.advanceTimersByTimeAsync(5_000);
    await expect(created).resolves.toMatchObject({ owner: 'alice' });
    expect(busy.requests).toHaveLength(2);
  });

  it('lists given and received shares, with last use, and drops fields outside the contract', async () => {
    const given = shareSummary({ lastUsedAt: '2026-12-07T11:00:00.000Z', lastUsedBy: 'bob' });
    const received = shareSummary({ owner: 'carol', grantee: 'alice' });
    const tvm = new FakeTvm().answer(
      json(200, { given: [{ ...given, internal: 'USER#alice' }], received: [received] }),
    );

    await expect(new TvmShares(loggedInClient(tvm)).list()).resolves.toEqual({ given: [given], received: [received] });
    expect(tvm.requests[0]).toMatchObject({ path: '/shares', method: 'GET' });
  });

  it('refuses an answer outside the contract with UnexpectedResponseError', async () => {
    const tvm = new FakeTvm().answer(
      json(200, { given: [{ ...shareSummary(), access: 'admin' }], received: [] }),
      json(200, { given: [] }),
      json(201, { ...shareSummary(), expiresAt: 'tomorrow' }),
    );
    const shares = new TvmShares(loggedInClient(tvm));
    await expect(shares.list()).rejects.toEqual(expect.any(UnexpectedResponseError));
    await expect(shares.list()).rejects.toEqual(expect.any(UnexpectedResponseError));
    await expect(shares.create({ path: 'a', grantee: 'bob', access: 'read' })).rejects.toEqual(
      expect.any(UnexpectedResponseError),
    );
  });

  it('revokes (and leaves) with DELETE /shares/{id}, the id kept to one path segment', async () => {
    const tvm = new FakeTvm(() => new Response(null, { status: 204 }));
    const shares = new TvmShares(loggedInClient(tvm));
    await shares.revoke('abc_DEF-123');
    await shares.leave('x/../y');
    expect(tvm.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /shares/abc_DEF-123',
      'DELETE /shares/x%2F..%2Fy',
    ]);
  });

  it("reports an id that is not one of the caller's as NotFoundError", async () => {
    const tvm = new FakeTvm().answer(apiError(404, 'not_found', 'No such share.'));
    await expect(new TvmShares(loggedInClient(tvm)).revoke('gone')).rejects.toEqual(expect.any(NotFoundError));
  });

  it('vends share credentials with the expiration as a Date and the share end as sent', async () => {
    const answer = shareCredentials({ expiresAt: '2026-12-07T13:00:00.000Z', access: 'readwrite' });
    const tvm = new FakeTvm().answer(json(200, answer));

    const result = await new TvmShares(loggedInClient(tvm)).credentials('s1');

    expect(result.credentials.expiration).toEqual(
      new Date((answer['credentials'] as { expiration: string }).expiration),
    );
    expect(result).toMatchObject({
      access: 'readwrite',
      expiresAt: '2026-12-07T13:00:00.000Z',
      storage: { prefix: 'alice/photos/', bucket: 'files-bucket' },
    });
    expect(tvm.requests[0]).toMatchObject({ path: '/shares/s1/credentials', method: 'POST' });
  });
});

describe('TvmLinks', () => {
  it('creates, lists and revokes links', async () => {
    const created = { id: 'L'.repeat(32), url: 'https://api.example.com/v1/l/' + 'L'.repeat(32), expiresAt: null };
    const listed = {
      ...created,
      path: 'photos/a.jpg',
      createdAt: '2026-12-07T12:00:00.000Z',
      lastUsedBy: '203.0.113.9',
    };
    const tvm = new FakeTvm().answer(
      json(201, created),
      json(200, { links: [listed] }),
      new Response(null, { status: 204 }),
    );
    const links = new TvmLinks(loggedInClient(tvm));

    await expect(links.create({ path: 'photos/a.jpg', expiresAt: '2026-12-08T00:00:00.000Z' })).resolves.toEqual(
      created,
    );
    await expect(links.list()).resolves.toEqual({ links: [listed] });
    await links.revoke(created.id);

    expect(tvm.requests.map((request) => [request.method, request.path, request.body])).toEqual([
      ['POST', '/links', { path: 'photos/a.jpg', expiresAt: '2026-12-08T00:00:00.000Z' }],
      ['GET', '/links', undefined],
      ['DELETE', `/links/${created.id}`, undefined],
    ]);
  });

  it('maps the per-owner limit to LimitReachedError and a malformed link to UnexpectedResponseError', async () => {
    const tvm = new FakeTvm().answer(apiError(409, 'limit_reached', 'at most 100 links'), json(201, { id: 'x' }));
    const links = new TvmLinks(loggedInClient(tvm));
    await expect(links.create({ path: 'a.txt' })).rejects.toEqual(expect.any(LimitReachedError));
    await expect(links.create({ path: 'a.txt' })).rejects.toEqual(expect.any(UnexpectedResponseError));
  });
});

/**
 * The sandbox applies each route's throttle as API Gateway applies it to each method: a burst
 * over a route's limit gets 429 `rate_limited` with Retry-After in the TVM's error shape, before
 * the body is read or the function runs, and every other route goes on answering.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOGIN_THROTTLE, type RouteDefinition } from '../../lambda/contract/routes';
import { createApiServer } from '../../local/api-gateway/api-server';
import { register, sandboxForThisFile } from '../support/e2e';

/** GET /mfa gets a tiny bucket here; every other route keeps the route table's own. */
const MFA_STATUS_THROTTLE = { ratePerSecond: 1, burst: 3 };
const sandbox = sandboxForThisFile('tvm-throttle-', { routeThrottles: { mfaStatus: MFA_STATUS_THROTTLE } });

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly cacheControl: string | null;
  readonly body: unknown;
}

async function send(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${sandbox().apiUrl}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    cacheControl: response.headers.get('cache-control'),
    body: text ? (JSON.parse(text) as unknown) : undefined,
  };
}

/** `count` requests at once; resolves with the answers and how long the burst took, in seconds. */
async function burst(count: number, request: () => Promise<Answer>): Promise<{ answers: Answer[]; seconds: number }> {
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: count }, request));
  return { answers, seconds: (performance.now() - started) / 1000 };
}

function expectThrottled(answer: Answer): void {
  expect(answer).toEqual({
    status: 429,
    retryAfter: expect.stringMatching(/^[1-9]\d*$/),
    cacheControl: 'no-store',
    body: { error: { code: 'rate_limited', message: 'Too many requests. Try again shortly.' } },
  });
}

let token: string;
beforeAll(async () => {
  token = (await register(sandbox().apiUrl, 'throttled-user', 'correct horse battery staple')).session.token;
});

describe('per-route throttles in the sandbox', () => {
  it('answers a burst over GET /mfa’s limit 429 rate_limited with Retry-After, while POST /token and GET /sessions go on answering 200', async () => {
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const { answers, seconds } = await burst(12, () => send('/mfa', auth));
    const admitted = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    // The bucket's definition: a full burst, plus what it refilled while the burst arrived.
    expect(admitted.length).toBeGreaterThanOrEqual(MFA_STATUS_THROTTLE.burst);
    expect(admitted.length).toBeLessThanOrEqual(
      MFA_STATUS_THROTTLE.burst + Math.floor(seconds * MFA_STATUS_THROTTLE.ratePerSecond),
    );
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) expectThrottled(answer);

    // Other routes have their own buckets.
    expect((await send('/token', { method: 'POST', ...auth })).status).toBe(200);
    expect((await send('/sessions', auth)).status).toBe(200);

    // And the throttled route admits again once the Retry-After it gave has passed.
    const wait = Math.max(...refused.map((answer) => Number(answer.retryAfter)));
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100));
    expect((await send('/mfa', auth)).status).toBe(200);
  });

  it('applies the route table’s POST /login throttle by default, before the body is checked: a burst of bad bodies past its burst gets 429, the rest the 400', async () => {
    const count = LOGIN_THROTTLE.burst + 100;
    const { answers, seconds } = await burst(count, () =>
      send('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"username":1}' }),
    );
    const validated = answers.filter((answer) => answer.status === 400);
    const throttled = answers.filter((answer) => answer.status === 429);
    expect(validated.length + throttled.length).toBe(count);
    expect(validated.length).toBeGreaterThanOrEqual(Math.min(count, LOGIN_THROTTLE.burst));
    expect(validated.length).toBeLessThanOrEqual(
      LOGIN_THROTTLE.burst + Math.floor(seconds * LOGIN_THROTTLE.ratePerSecond),
    );
    // The overflow would need four seconds to refill: a burst that arrives within them meets refusals.
    expect(throttled.length).toBeGreaterThan(0);
    for (const answer of throttled) expectThrottled(answer);
  });
});

describe('the sandbox API Gateway’s throttle, on a stand-in route', () => {
  let server: Server;
  let invocations = 0;
  const route = { name: 'echo', method: 'POST', path: '/echo', entry: 'unused' } as unknown as RouteDefinition;

  beforeAll(async () => {
    server = createApiServer({
      routes: [
        {
          route,
          throttle: { ratePerSecond: 1, burst: 4 },
          invoke: async () => {
            invocations += 1;
            return { statusCode: 200, body: '{}' };
          },
        },
      ],
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('never runs the function for a throttled request: invocations equal the 200s', async () => {
    const { port } = server.address() as AddressInfo;
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: '{}' });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const admitted = statuses.filter((status) => status === 200).length;
    expect(statuses.filter((status) => status !== 200).every((status) => status === 429)).toBe(true);
    expect(admitted).toBeGreaterThanOrEqual(4);
    expect(admitted).toBeLessThan(statuses.length);
    expect(invocations).toBe(admitted);
  });
});

/**
 * The sandbox's per-route throttle (local/api-gateway/throttle.ts): API Gateway's token bucket,
 * checked against its definition on generated request schedules.
 */
import fc from 'fast-check';
import { RouteThrottles, TokenBucket } from '../../local/api-gateway/throttle';

const limitsArbitrary = fc.record({
  ratePerSecond: fc.integer({ min: 1, max: 500 }),
  burst: fc.integer({ min: 1, max: 1000 }),
});
/** Gaps between requests in ms (many zero: requests that arrive together). */
const scheduleArbitrary = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2000 })), {
  minLength: 1,
  maxLength: 400,
});

describe('the token bucket of a route', () => {
  it('admits a full burst at once, then refuses the next request with Retry-After 1 s or more', () => {
    const bucket = new TokenBucket({ ratePerSecond: 5, burst: 10 }, 0);
    for (let i = 0; i < 10; i++) expect(bucket.take(0)).toEqual({ admitted: true });
    expect(bucket.take(0)).toEqual({ admitted: false, retryAfterSeconds: 1 });
  });

  it('refills at its rate: after 200 ms at 5 per second, exactly one more is admitted', () => {
    const bucket = new TokenBucket({ ratePerSecond: 5, burst: 10 }, 0);
    for (let i = 0; i < 10; i++) bucket.take(0);
    expect(bucket.take(199).admitted).toBe(false);
    expect(bucket.take(200).admitted).toBe(true);
    expect(bucket.take(200).admitted).toBe(false);
  });

  it('asks a slow route to wait the seconds until its next token (rate 1 every 4 s: Retry-After 4)', () => {
    const bucket = new TokenBucket({ ratePerSecond: 0.25, burst: 1 }, 0);
    expect(bucket.take(0).admitted).toBe(true);
    expect(bucket.take(0)).toEqual({ admitted: false, retryAfterSeconds: 4 });
  });

  it('property: within any window it admits at most burst + rate x seconds, and each refusal asks for at least 1 s', () => {
    fc.assert(
      fc.property(limitsArbitrary, scheduleArbitrary, (limits, gaps) => {
        const bucket = new TokenBucket(limits, 0);
        let now = 0;
        const admittedAt: number[] = [];
        const retryAfters: number[] = [];
        for (const gap of gaps) {
          now += gap;
          const decision = bucket.take(now);
          if (decision.admitted) admittedAt.push(now);
          else retryAfters.push(decision.retryAfterSeconds);
        }
        expect(retryAfters.every((seconds) => Number.isInteger(seconds) && seconds >= 1)).toBe(true);
        // Every window [start, end] of the schedule: admissions bounded by the bucket's definition.
        for (let i = 0; i < admittedAt.length; i++) {
          for (let j = i; j < admittedAt.length; j++) {
            const seconds = ((admittedAt[j] as number) - (admittedAt[i] as number)) / 1000;
            expect(j - i + 1).toBeLessThanOrEqual(limits.burst + limits.ratePerSecond * seconds + 1e-9);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('property: requests spaced at the rate or slower are never refused, whatever came before', () => {
    fc.assert(
      fc.property(limitsArbitrary, fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 100 }), (limits, slack) => {
        const bucket = new TokenBucket(limits, 0);
        // Empty the bucket first.
        while (bucket.take(0).admitted);
        let now = 0;
        for (const extra of slack) {
          now += Math.ceil(1000 / limits.ratePerSecond) + extra;
          expect(bucket.take(now).admitted).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('property: a client that waits the Retry-After it was given is admitted, when nobody else took the token', () => {
    fc.assert(
      fc.property(limitsArbitrary, fc.integer({ min: 1, max: 50 }), (limits, extra) => {
        const bucket = new TokenBucket(limits, 0);
        for (let i = 0; i < limits.burst; i++) expect(bucket.take(0).admitted).toBe(true);
        let refused: number | undefined;
        for (let i = 0; i < extra && refused === undefined; i++) {
          const decision = bucket.take(0);
          if (!decision.admitted) refused = decision.retryAfterSeconds;
        }
        expect(refused).toBeDefined();
        expect(bucket.take((refused as number) * 1000).admitted).toBe(true);
      }),
    );
  });

  it('refuses a throttle without a positive rate or a burst', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 10 }, 0)).toThrow(/positive rate/);
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0 }, 0)).toThrow(/burst/);
  });
});

describe('the throttles of all routes', () => {
  it('keeps one bucket per route: emptying one route leaves another untouched', () => {
    let now = 0;
    const throttles = new RouteThrottles(() => now);
    const limits = { ratePerSecond: 1, burst: 3 };
    for (let i = 0; i < 3; i++) expect(throttles.take('login', limits).admitted).toBe(true);
    expect(throttles.take('login', limits).admitted).toBe(false);
    expect(throttles.take('token', limits).admitted).toBe(true);
    now = 1000;
    expect(throttles.take('login', limits).admitted).toBe(true);
  });
});

import fc from 'fast-check';
import {
  DEFAULT_RETRY_POLICY,
  RateLimitedError,
  InvalidRequestError,
  NetworkError,
  parseRetryAfterMs,
  retryAfterOnlyDelayMs,
  retryDelayMs,
  ServiceUnavailableError,
  TimeoutError,
  TooManyAttemptsError,
  UnexpectedResponseError,
} from '@serverless-tvm/client';

const NOW = Date.parse('2026-11-26T12:00:00Z');

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('2', NOW)).toBe(2_000);
    expect(parseRetryAfterMs(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP date as the time left until it', () => {
    expect(parseRetryAfterMs(new Date(NOW + 7_000).toUTCString(), NOW)).toBe(7_000);
  });

  it('reads an HTTP date in the past as no wait', () => {
    expect(parseRetryAfterMs(new Date(NOW - 7_000).toUTCString(), NOW)).toBe(0);
  });

  it('ignores an absent or unreadable header', () => {
    expect(parseRetryAfterMs(null, NOW)).toBeUndefined();
    expect(parseRetryAfterMs('soon', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-3', NOW)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('retries 503s, network errors and timeouts', () => {
    for (const error of [new ServiceUnavailableError('down'), new NetworkError(), new TimeoutError(10)]) {
      expect(retryDelayMs(error, 2, policy, () => 0.5)).toBe(50);
    }
  });

  it('never retries a 4xx, a malformed answer or an unknown error', () => {
    for (const error of [
      new InvalidRequestError('bad'),
      new TooManyAttemptsError('slow', { retryAfterSeconds: 1 }),
      new UnexpectedResponseError('?'),
      new Error('x'),
    ]) {
      expect(retryDelayMs(error, 2, policy, () => 0.5)).toBeUndefined();
    }
  });

  it('doubles the backoff ceiling each attempt up to maxDelayMs, with full jitter', () => {
    const ceilings = [2, 3, 4, 5, 6].map((attempt) =>
      retryDelayMs(new NetworkError(), attempt, policy, () => 0.999_999),
    );
    expect(ceilings.map((delay) => Math.round(delay ?? -1))).toEqual([100, 200, 400, 800, 1_000]);
    expect(retryDelayMs(new NetworkError(), 4, policy, () => 0)).toBe(0);
  });

  it('stops after maxAttempts', () => {
    expect(retryDelayMs(new NetworkError(), 7, policy, () => 0.5)).toBeUndefined();
  });

  it('waits at least the Retry-After, plus jitter of up to a quarter of it (at least baseDelayMs)', () => {
    const error = new ServiceUnavailableError('down', { retryAfterSeconds: 3 });
    expect(retryDelayMs(error, 2, policy, () => 0)).toBe(3_000);
    expect(retryDelayMs(error, 2, policy, () => 0.5)).toBe(3_375);
    const short = new ServiceUnavailableError('down', { retryAfterSeconds: 0 });
    expect(retryDelayMs(short, 2, policy, () => 0.5)).toBe(50);
  });

  it('retries a 429 rate_limited after its Retry-After with jitter, and never one without Retry-After', () => {
    const limited = new RateLimitedError('slow down', { retryAfterSeconds: 20 });
    expect(retryDelayMs(limited, 2, policy, () => 0)).toBe(20_000);
    expect(retryDelayMs(limited, 2, policy, () => 0.999)).toBeCloseTo(24_995, 0);
    expect(retryDelayMs(new RateLimitedError('slow down'), 2, policy, () => 0.5)).toBeUndefined();
    const tooLong = new RateLimitedError('slow down', { retryAfterSeconds: 45 });
    expect(retryDelayMs(tooLong, 2, { ...policy, maxRetryAfterMs: 30_000 }, () => 0.5)).toBeUndefined();
  });

  it('a crowd told the same Retry-After comes back spread over a quarter of it (property)', () => {
    expect(() =>
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 30 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (seconds, random) => {
            const delay = retryDelayMs(
              new RateLimitedError('x', { retryAfterSeconds: seconds }),
              2,
              policy,
              () => random,
            )!;
            return (
              delay >= seconds * 1000 && delay <= seconds * 1000 + Math.max(policy.baseDelayMs, (seconds * 1000) / 4)
            );
          },
        ),
      ),
    ).not.toThrow();
  });

  it('gives up instead of waiting longer than maxRetryAfterMs', () => {
    const error = new ServiceUnavailableError('down', { retryAfterSeconds: 31 });
    expect(retryDelayMs(error, 2, { ...policy, maxRetryAfterMs: 30_000 }, () => 0.5)).toBeUndefined();
  });
});

describe('retryAfterOnlyDelayMs (register, login, reset: not safe to repeat in general)', () => {
  const policy = DEFAULT_RETRY_POLICY;
  it('retries only a 503 that carries Retry-After, and waits at least that long', () => {
    expect(
      retryAfterOnlyDelayMs(new ServiceUnavailableError('cut off', { retryAfterSeconds: 12 }), 2, policy, () => 0.5),
    ).toBeGreaterThanOrEqual(12_000);
    expect(retryAfterOnlyDelayMs(new ServiceUnavailableError('down'), 2, policy, () => 0.5)).toBeUndefined();
    expect(retryAfterOnlyDelayMs(new NetworkError(), 2, policy, () => 0.5)).toBeUndefined();
    expect(retryAfterOnlyDelayMs(new TimeoutError(1000), 2, policy, () => 0.5)).toBeUndefined();
    expect(
      retryAfterOnlyDelayMs(new TooManyAttemptsError('locked', { retryAfterSeconds: 5 }), 2, policy, () => 0.5),
    ).toBeUndefined();
  });

  it('stops after maxAttempts and past maxRetryAfterMs', () => {
    const error = new ServiceUnavailableError('cut off', { retryAfterSeconds: 3 });
    expect(retryAfterOnlyDelayMs(error, policy.maxAttempts + 1, policy, () => 0.5)).toBeUndefined();
    expect(
      retryAfterOnlyDelayMs(new ServiceUnavailableError('cut off', { retryAfterSeconds: 31 }), 2, policy, () => 0.5),
    ).toBeUndefined();
  });
});

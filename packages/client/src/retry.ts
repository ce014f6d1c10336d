/**
 * When and how long to wait before trying a safe request again. Pure functions, so the rules
 * are tested without a network or a clock.
 */
import { NetworkError, RateLimitedError, ServiceUnavailableError, TimeoutError, TvmClientError } from './errors';

/** How the client retries requests that are safe to repeat (`/token`, `/logout`). */
export interface RetryPolicy {
  /** Attempts in total, the first included. Default 3. `1` turns retries off. */
  readonly maxAttempts: number;
  /** The backoff before the second attempt; it doubles each time. Default 250 ms. */
  readonly baseDelayMs: number;
  /** The longest backoff between two attempts. Default 4,000 ms. */
  readonly maxDelayMs: number;
  /**
   * The longest Retry-After the client waits for. When the TVM asks for more, the client
   * stops retrying and throws, with `retryAfterSeconds` set, rather than wait less than
   * asked or hang a caller for minutes. Default 30,000 ms.
   */
  readonly maxRetryAfterMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 30_000,
};

/**
 * Whether an error is transient: a 503, a network failure or a timeout. Everything else (any
 * 4xx, a 500, a malformed answer) would fail the same way again.
 */
export function isTransient(error: unknown): boolean {
  return error instanceof ServiceUnavailableError || error instanceof NetworkError || error instanceof TimeoutError;
}

/**
 * Parses a Retry-After header, either delay-seconds or an HTTP date, into milliseconds from
 * `nowMs`. Returns undefined when the header is absent or unreadable.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date always names its day and month; this keeps "-3" from parsing as year -3.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * The wait before attempt `nextAttempt` of a request that is not safe to repeat in general
 * (register, login, a password reset, a second-factor login), or undefined: only a 503 that
 * carries a Retry-After is retried. The TVM sends that when it has done nothing yet (the
 * user's credential cut-off still lies ahead, or a backend failed before any commit), so
 * sending the same request again once the wait is over is what it asks for.
 */
export function retryAfterOnlyDelayMs(
  error: unknown,
  nextAttempt: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (!(error instanceof ServiceUnavailableError) || error.retryAfterSeconds === undefined) return undefined;
  return retryDelayMs(error, nextAttempt, policy, random);
}

/**
 * The wait before attempt `nextAttempt` (2 for the first retry), or undefined when the
 * request must not be retried. Retried: what {@link isTransient} names, and a 429
 * `rate_limited` that says when to come back (Retry-After: a session's or user's vends per
 * minute, a route's throttle); never a 429 without it.
 *
 * Exponential backoff with full jitter spreads many clients out after a shared outage. A
 * Retry-After is a floor: the client waits at least that long, plus jitter of up to a quarter
 * of it (at least `baseDelayMs`), so a crowd told the same instant (the end of a minute, a
 * throttled STS) does not return in the same millisecond.
 */
export function retryDelayMs(
  error: unknown,
  nextAttempt: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  const rateLimited = error instanceof RateLimitedError && error.retryAfterSeconds !== undefined;
  if (nextAttempt > policy.maxAttempts || !(isTransient(error) || rateLimited)) return undefined;
  const retryAfterSeconds = error instanceof TvmClientError ? error.retryAfterSeconds : undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (nextAttempt - 2));
  const jitter = random() * ceiling;
  if (retryAfterSeconds === undefined) return jitter;
  const retryAfterMs = retryAfterSeconds * 1000;
  if (retryAfterMs > policy.maxRetryAfterMs) return undefined;
  return retryAfterMs + random() * Math.max(policy.baseDelayMs, retryAfterMs / 4);
}

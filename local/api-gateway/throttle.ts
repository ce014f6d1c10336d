/**
 * The sandbox's per-route throttle: one token bucket per route, as API Gateway keeps one per
 * method. A bucket holds at most `burst` tokens and refills at `ratePerSecond`; each request
 * takes one, and a request that finds none is refused with the seconds until one is back.
 */
import type { ThrottleLimits } from '../../lambda/contract/routes';

/** What taking a token gave: admitted, or refused with how long to wait. */
export type ThrottleDecision =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      /** Whole seconds until a token is back (at least 1): the Retry-After to send. */
      readonly retryAfterSeconds: number;
    };

/** A token bucket (see the module's comment). Times are milliseconds on any monotonic clock. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly limits: ThrottleLimits,
    now: number,
  ) {
    if (!(limits.ratePerSecond > 0) || !(limits.burst >= 1))
      throw new Error(`A throttle needs a positive rate and a burst of at least 1, got ${JSON.stringify(limits)}.`);
    this.tokens = limits.burst;
    this.updatedAt = now;
  }

  /** Takes one token at `now`, if there is one. */
  take(now: number): ThrottleDecision {
    // A clock that steps back refills nothing and takes nothing back.
    const elapsedMs = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.limits.burst, this.tokens + (elapsedMs / 1000) * this.limits.ratePerSecond);
    this.updatedAt = Math.max(this.updatedAt, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { admitted: true };
    }
    const secondsToToken = (1 - this.tokens) / this.limits.ratePerSecond;
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(secondsToToken)) };
  }
}

/** One bucket per route name, made on first use. */
export class RouteThrottles {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes a token from the bucket of `route` with `limits`. */
  take(route: string, limits: ThrottleLimits): ThrottleDecision {
    const time = this.now();
    let bucket = this.buckets.get(route);
    if (bucket === undefined) {
      bucket = new TokenBucket(limits, time);
      this.buckets.set(route, bucket);
    }
    return bucket.take(time);
  }
}

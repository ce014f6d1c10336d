/**
 * The account-wide AssumeRole rate of the local STS. AWS shares one AssumeRole quota per
 * account and Region (about 600 requests per second, raised only through support) and answers
 * calls above it with `Throttling`; the sandbox does the same, so the TVM's fair share of STS
 * (lambda/credentials/vend-limits.ts) is tested against a real ceiling.
 */

/** The rate when STS_ASSUME_ROLE_RATE is not set: AWS's default quota. */
export const DEFAULT_ASSUME_ROLE_RATE = 600;

/** The highest rate STS_ASSUME_ROLE_RATE accepts. */
export const MAX_ASSUME_ROLE_RATE = 100_000;

/** A token bucket: `ratePerSecond` tokens a second, holding at most one second's worth. */
export class RateBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    now: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('The AssumeRole rate must be above 0.');
    this.tokens = ratePerSecond;
    this.updatedAt = now;
  }

  /** Takes one token if there is one (true), else refuses (false). */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.ratePerSecond, this.tokens + (elapsed / 1000) * this.ratePerSecond);
    this.updatedAt = Math.max(this.updatedAt, now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** STS_ASSUME_ROLE_RATE (AssumeRole calls per second, account-wide), or the default; a bad value throws. */
export function assumeRoleRateFrom(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_ASSUME_ROLE_RATE;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(value > 0) || value > MAX_ASSUME_ROLE_RATE)
    throw new RangeError(`STS_ASSUME_ROLE_RATE must be a number of AssumeRole calls per second above 0, got "${raw}".`);
  return value;
}

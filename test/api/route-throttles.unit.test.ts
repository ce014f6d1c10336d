/**
 * Each route's throttle (lambda/contract/routes.ts declares it, lib/throttles.ts sizes it): the
 * routes that run bcrypt are fixed and low, the others carry the usage profile's peak at the
 * expected monthly users with headroom, and no limit exceeds API Gateway's account throttle.
 */
import fc from 'fast-check';
import {
  PASSWORD_MEMORY_MB,
  ROUTES,
  SIZED_FOR_EXPECTED_LOAD,
  type RouteDefinition,
  type ThrottleLimits,
} from '../../lambda/contract/routes';
import { DEFAULT_SETTINGS } from '../../lambda/platform/settings';
import { peakRequestsPerSecond, usageProfile } from '../../lib/capacity/profile';
import {
  ACCOUNT_THROTTLE,
  BURST_SECONDS,
  MIN_SIZED_RATE_PER_SECOND,
  THROTTLE_HEADROOM,
  roundUpToTwoDigits,
  routeThrottles,
  sizedThrottle,
  throttleOf,
} from '../../lib/throttles';

const runsBcrypt = (route: RouteDefinition) => route.memoryMb === PASSWORD_MEMORY_MB;
const peaks = (settings = DEFAULT_SETTINGS): Readonly<Record<string, number>> =>
  peakRequestsPerSecond(settings, usageProfile(settings));

describe('the route table’s throttles', () => {
  const throttles = routeThrottles(DEFAULT_SETTINGS);

  it('gives every route a rate and a burst within API Gateway’s account throttle', () => {
    expect([...throttles.keys()]).toEqual(ROUTES.map((route) => route.name));
    for (const route of ROUTES) {
      const limits = throttleOf(throttles, route);
      expect(limits.ratePerSecond).toBeGreaterThan(0);
      expect(limits.ratePerSecond).toBeLessThanOrEqual(ACCOUNT_THROTTLE.ratePerSecond);
      expect(limits.burst).toBeGreaterThanOrEqual(limits.ratePerSecond);
      expect(limits.burst).toBeLessThanOrEqual(ACCOUNT_THROTTLE.burst);
    }
  });

  it('fixes the throttle of every route that may run bcrypt, and sizes every other route for the expected load', () => {
    const kinds = ROUTES.map((route) => [route.name, runsBcrypt(route), route.throttle === SIZED_FOR_EXPECTED_LOAD]);
    expect(kinds).toEqual(ROUTES.map((route) => [route.name, runsBcrypt(route), !runsBcrypt(route)]));
  });

  it('bounds a flood of the bcrypt routes to 75 password checks a second (about 26 functions busy at once at cost 12), whatever the expected load', () => {
    const bcryptRates = ROUTES.filter(runsBcrypt).map((route) => (route.throttle as ThrottleLimits).ratePerSecond);
    expect(bcryptRates.length).toBeGreaterThanOrEqual(10);
    expect(bcryptRates.reduce((sum, rate) => sum + rate, 0)).toBeLessThanOrEqual(75);
    const large = routeThrottles({ ...DEFAULT_SETTINGS, expectedMonthlyUsers: 100_000_000 });
    for (const route of ROUTES.filter(runsBcrypt)) expect(throttleOf(large, route)).toEqual(route.throttle);
  });

  it('carries each route’s profiled peak at the default 1,000,000 monthly users with at least the headroom (bcrypt routes ten times over)', () => {
    const peak = peaks();
    for (const route of ROUTES) {
      const needed = (peak[route.name] ?? Number.NaN) * (runsBcrypt(route) ? 10 : THROTTLE_HEADROOM);
      expect([route.name, throttleOf(throttles, route).ratePerSecond >= needed]).toEqual([route.name, true]);
    }
  });

  it('sizes POST /token from the profile: twice the peak of refreshes, rounded up, with a two-second burst', () => {
    const token = ROUTES.find((route) => route.name === 'token') as RouteDefinition;
    const peak = peaks().token ?? Number.NaN;
    const limits = throttleOf(throttles, token);
    expect(limits.ratePerSecond).toBe(roundUpToTwoDigits(peak * THROTTLE_HEADROOM));
    expect(limits.burst).toBe(limits.ratePerSecond * BURST_SECONDS);
  });

  it('property: for any expected load and credential lifetime, a sized route carries its peak with headroom up to the account throttle, never less than the floor, and grows with the load', () => {
    // The setting's range (lambda/platform/settings.ts).
    const users = fc.integer({ min: 1_000, max: 100_000_000 });
    fc.assert(
      fc.property(users, users, fc.integer({ min: 900, max: 3600 }), (a, b, credentialSeconds) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const settingsFor = (expectedMonthlyUsers: number) => ({
          ...DEFAULT_SETTINGS,
          expectedMonthlyUsers,
          credentialSeconds,
        });
        const smallThrottles = routeThrottles(settingsFor(small));
        const largeThrottles = routeThrottles(settingsFor(large));
        const peak = peaks(settingsFor(small));
        for (const route of ROUTES.filter((candidate) => candidate.throttle === SIZED_FOR_EXPECTED_LOAD)) {
          const limits = throttleOf(smallThrottles, route);
          const wanted = Math.min(ACCOUNT_THROTTLE.ratePerSecond, (peak[route.name] as number) * THROTTLE_HEADROOM);
          expect(limits.ratePerSecond).toBeGreaterThanOrEqual(wanted);
          expect(limits.ratePerSecond).toBeGreaterThanOrEqual(MIN_SIZED_RATE_PER_SECOND);
          expect(limits.burst).toBe(Math.min(ACCOUNT_THROTTLE.burst, limits.ratePerSecond * BURST_SECONDS));
          expect(throttleOf(largeThrottles, route).ratePerSecond).toBeGreaterThanOrEqual(limits.ratePerSecond);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('property: rounding up to two digits never lowers a limit and adds less than a tenth', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 1e7, noNaN: true }), (value) => {
        const rounded = roundUpToTwoDigits(value);
        expect(rounded).toBeGreaterThanOrEqual(value - 1e-9);
        expect(rounded).toBeLessThanOrEqual(value < 10 ? value + 1 : value * 1.1 + 1e-9);
      }),
    );
  });

  it('gives a sized route the floor when its peak is tiny, and the account throttle when it is huge', () => {
    expect(sizedThrottle(0.01)).toEqual({ ratePerSecond: MIN_SIZED_RATE_PER_SECOND, burst: 40 });
    expect(sizedThrottle(1e6)).toEqual(ACCOUNT_THROTTLE);
  });

  it('refuses to size a route the profile has no load for', () => {
    const stranger: RouteDefinition = { ...(ROUTES[2] as RouteDefinition), name: 'stranger' };
    expect(() => routeThrottles(DEFAULT_SETTINGS, [stranger])).toThrow(/stranger.*no load/);
  });
});

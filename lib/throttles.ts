/**
 * Each route's throttle, from its declaration in the route table (lambda/contract/routes.ts):
 * fixed limits as written, or, for a route sized for the expected load, the usage profile's
 * peak requests per second at the `expectedMonthlyUsers` setting (lib/capacity/profile.ts)
 * times {@link THROTTLE_HEADROOM}, rounded up. The stack sets these on each method
 * (lib/tvm-api.ts) and the sandbox applies the same numbers per route. Pure: no CDK, no AWS.
 */
import { ROUTES, SIZED_FOR_EXPECTED_LOAD, type RouteDefinition, type ThrottleLimits } from '../lambda/contract/routes';
import { peakRequestsPerSecond, usageProfile, type ProfileSettings } from './capacity/profile';

/** A sized route's rate over its profiled peak: a busy day above the busiest modelled hour. */
export const THROTTLE_HEADROOM = 2;
/**
 * The lowest rate a sized route gets: a route the profile calls rarely still serves a crowd
 * that arrives in the same instant (its burst, 40), and costs little (none of them runs bcrypt).
 */
export const MIN_SIZED_RATE_PER_SECOND = 20;
/** A sized route's burst, in seconds of its rate: clients that all wake at once are not refused. */
export const BURST_SECONDS = 2;
/**
 * API Gateway's account-level throttle in a Region (its default quota: 10,000 requests per
 * second, burst 5,000): no method's limit can usefully exceed it.
 */
export const ACCOUNT_THROTTLE: ThrottleLimits = { ratePerSecond: 10_000, burst: 5_000 };

/** `value` rounded up to two significant digits (137 -> 140, 1,234 -> 1,300): limits a reader can remember. */
export function roundUpToTwoDigits(value: number): number {
  if (!(value > 0)) return 0;
  const step = 10 ** Math.max(0, Math.floor(Math.log10(value)) - 1);
  return Math.ceil(value / step - 1e-9) * step;
}

/** The limits of a route sized for the expected load whose profiled peak is `peakPerSecond`. */
export function sizedThrottle(peakPerSecond: number): ThrottleLimits {
  const ratePerSecond = Math.min(
    ACCOUNT_THROTTLE.ratePerSecond,
    Math.max(MIN_SIZED_RATE_PER_SECOND, roundUpToTwoDigits(peakPerSecond * THROTTLE_HEADROOM)),
  );
  return { ratePerSecond, burst: Math.min(ACCOUNT_THROTTLE.burst, ratePerSecond * BURST_SECONDS) };
}

/**
 * Each route's throttle by route name, for the given settings (`expectedMonthlyUsers` and
 * `credentialSeconds`, which sets how often open apps refresh). Throws for a sized route the
 * profile has no load for.
 */
export function routeThrottles(
  settings: ProfileSettings,
  routes: readonly RouteDefinition[] = ROUTES,
): ReadonlyMap<string, ThrottleLimits> {
  const peaks: Readonly<Record<string, number>> = peakRequestsPerSecond(settings, usageProfile(settings));
  const throttles = new Map<string, ThrottleLimits>();
  for (const route of routes) {
    if (route.throttle !== SIZED_FOR_EXPECTED_LOAD) {
      throttles.set(route.name, route.throttle);
      continue;
    }
    const peak = peaks[route.name];
    if (peak === undefined)
      throw new Error(
        `Route ${route.name} is sized for the expected load, but lib/capacity/profile.ts has no load for it.`,
      );
    throttles.set(route.name, sizedThrottle(peak));
  }
  return throttles;
}

/** One route's throttle from {@link routeThrottles}' map; throws when it is missing. */
export function throttleOf(throttles: ReadonlyMap<string, ThrottleLimits>, route: RouteDefinition): ThrottleLimits {
  const limits = throttles.get(route.name);
  if (limits === undefined) throw new Error(`No throttle for route ${route.name}.`);
  return limits;
}

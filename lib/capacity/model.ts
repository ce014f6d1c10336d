/**
 * The capacity and cost model (docs/capacity.md; `npm run capacity`): from the settings, the
 * route table and the usage profile, each route's peak load against its per-method throttle,
 * the account-wide limits (STS, API Gateway, Lambda, DynamoDB) and the monthly users at which
 * each is reached, and the monthly bill next to Amazon Cognito's. Pure: no AWS, no I/O.
 */
import { ROUTES, PASSWORD_MEMORY_MB, type RouteDefinition } from '../../lambda/contract/routes';
import type { TvmSettings } from '../../lambda/platform/settings';
import { DAYS_PER_MONTH, monthlyRequests, peakRequestsPerSecond, usageProfile, type UsageProfile } from './profile';
import { PRICES, tieredCost } from './prices';
import { QUOTAS } from './quotas';
import { routeThrottles, throttleOf } from '../throttles';

/** The settings the model reads. */
export type ModelSettings = TvmSettings;

// Stated assumptions, each documented in docs/capacity.md.

/** Billed time of a function that only calls DynamoDB (a read, then a write), ms. */
export const LIGHT_DURATION_MS = 40;
/** Billed time of a function that also calls AssumeRole, ms. */
export const VENDING_DURATION_MS = 80;
/** bcrypt at cost 12 on one full vCPU (docs: about 350 ms), ms; each cost step doubles it. */
export const BCRYPT_COST_12_MS = 350;
/** Log bytes per request: Lambda's START/END/REPORT lines, the function's INFO lines and the API's access-log line. */
export const LOG_BYTES_PER_REQUEST = 1_500;
/** Bytes of one audit entry in the table. */
export const AUDIT_ITEM_BYTES = 400;
/** Bytes a user keeps in the table besides the audit trail: the user item, sessions, counters. */
export const USER_BYTES = 2_000;
/** X-Ray's default sampling rule, which the stage's tracing uses: the first request each second, then 5 %. */
export const XRAY_RESERVOIR_PER_SECOND = 1;
export const XRAY_FIXED_RATE = 0.05;
/** Rules of the web ACL when the WAF is on (lib/api-firewall.ts); the model test checks it against the template. */
export const WAF_RULES = 2;

const SECONDS_PER_MONTH = DAYS_PER_MONTH * 86_400;

/** A per-method throttle: steady rate (requests/s) and burst (requests). */
export interface Throttle {
  readonly rate: number;
  readonly burst: number;
}

/**
 * The throttle API Gateway applies to a route's method: the route table's declaration, sized
 * from the usage profile at `expectedMonthlyUsers` or fixed (lib/throttles.ts, which the stack
 * and the sandbox apply).
 */
export function methodThrottle(route: RouteDefinition, settings: ModelSettings): Throttle {
  const limits = throttleOf(routeThrottles(settings), route);
  return { rate: limits.ratePerSecond, burst: limits.burst };
}

/** A function's billed time per request, ms: bcrypt (at the configured cost) for the password routes. */
export function durationMs(route: RouteDefinition, settings: Pick<ModelSettings, 'bcryptCost'>): number {
  if (route.memoryMb === PASSWORD_MEMORY_MB)
    return LIGHT_DURATION_MS + BCRYPT_COST_12_MS * 2 ** (settings.bcryptCost - 12);
  return route.vendsCredentials ? VENDING_DURATION_MS : LIGHT_DURATION_MS;
}

/**
 * DynamoDB request units per request, from the actions the route table grants: each granted
 * action once (an upper bound), a BatchGetItem reading two items, items under 1 KB (writes)
 * and 4 KB (strongly consistent reads).
 */
export function requestUnits(route: RouteDefinition): { readonly reads: number; readonly writes: number } {
  let reads = 0;
  let writes = 0;
  for (const action of route.tableActions) {
    if (action === 'BatchGetItem') reads += 2;
    else if (action === 'GetItem' || action === 'Query' || action === 'QueryPartition') reads += 1;
    else writes += 1;
  }
  return { reads, writes };
}

/** One route's load and its throttle. */
export interface RouteCapacity {
  readonly route: RouteDefinition;
  readonly monthlyRequests: number;
  readonly peakPerSecond: number;
  readonly throttle: Throttle;
  /** Monthly users at which the route's peak reaches its throttle's rate. */
  readonly usersAtThrottle: number;
}

/** One limit: its capacity, the peak load on it, and the monthly users at which it is reached. */
export interface Limit {
  readonly name: string;
  readonly capacity: number;
  readonly unit: string;
  readonly load: number;
  readonly usersAtLimit: number;
  readonly source: string;
}

/** What the model computes for one profile. */
export interface CapacityReport {
  readonly profile: UsageProfile;
  readonly routes: readonly RouteCapacity[];
  /** Every limit, the first reached first. */
  readonly limits: readonly Limit[];
}

function routeEntries(profile: UsageProfile, settings: ModelSettings) {
  const monthly: Readonly<Record<string, number>> = monthlyRequests(settings, profile);
  const peaks: Readonly<Record<string, number>> = peakRequestsPerSecond(settings, profile);
  return ROUTES.map((route) => {
    const peak = peaks[route.name];
    const requests = monthly[route.name];
    if (peak === undefined || requests === undefined)
      throw new Error(`Route "${route.name}" has no load in lib/capacity/profile.ts (ROUTE_LOADS).`);
    return { route, peak, requests };
  });
}

/** Monthly users at which `load` (measured at `profile.monthlyUsers`) reaches `capacity`: load grows linearly. */
function usersAt(capacity: number, load: number, profile: UsageProfile): number {
  return load > 0 ? (capacity / load) * profile.monthlyUsers : Number.POSITIVE_INFINITY;
}

/** The capacity report: each route against its throttle, and every limit, the first reached first. */
export function capacityReport(
  settings: ModelSettings,
  profile: UsageProfile = usageProfile(settings),
): CapacityReport {
  const entries = routeEntries(profile, settings);
  const routes = entries.map(({ route, peak, requests }): RouteCapacity => {
    const throttle = methodThrottle(route, settings);
    return {
      route,
      monthlyRequests: requests,
      peakPerSecond: peak,
      throttle,
      usersAtThrottle: usersAt(throttle.rate, peak, profile),
    };
  });
  const sum = (value: (entry: (typeof entries)[number]) => number) =>
    entries.reduce((total, entry) => total + value(entry), 0);
  const sts = sum(({ route, peak }) => (route.vendsCredentials ? peak : 0));
  const requestsPerSecond = sum(({ peak }) => peak);
  const concurrency = sum(({ route, peak }) => (peak * durationMs(route, settings)) / 1000);
  const reads = sum(({ route, peak }) => peak * requestUnits(route).reads);
  const writes = sum(({ route, peak }) => peak * requestUnits(route).writes);
  const limit = (name: string, quota: { value: number; unit: string; source: string }, load: number): Limit => ({
    name,
    capacity: quota.value,
    unit: quota.unit,
    load,
    usersAtLimit: usersAt(quota.value, load, profile),
    source: quota.source,
  });
  const throttleLimits = routes.map(
    (entry): Limit => ({
      name: `throttle of ${entry.route.method} ${entry.route.path}`,
      capacity: entry.throttle.rate,
      unit: 'requests per second (per method)',
      load: entry.peakPerSecond,
      usersAtLimit: entry.usersAtThrottle,
      source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html',
    }),
  );
  const limits = [
    ...throttleLimits,
    limit('STS quota (AssumeRole of every vending route)', QUOTAS.stsRequests, sts),
    limit('API Gateway account throttle', QUOTAS.apiGatewayAccountRate, requestsPerSecond),
    limit('Lambda concurrency', QUOTAS.lambdaConcurrency, concurrency),
    limit('DynamoDB table reads', QUOTAS.dynamoDbTableReads, reads),
    limit('DynamoDB table writes', QUOTAS.dynamoDbTableWrites, writes),
    limit('DynamoDB new table reads', QUOTAS.dynamoDbNewTableReads, reads),
    limit('DynamoDB new table writes', QUOTAS.dynamoDbNewTableWrites, writes),
  ].sort((a, b) => a.usersAtLimit - b.usersAtLimit);
  return { profile, routes, limits };
}

/**
 * The most write units one user's partition can take from vending, per second: the per-user
 * vend limit times the vending route's writes. A user's items share one partition key, so
 * this, not the number of users, is what the per-partition limit meets.
 */
export function hottestPartitionWrites(settings: ModelSettings): number {
  const token = ROUTES.find((route) => route.name === 'token');
  if (!token) throw new Error('The route table has no token route.');
  return (settings.vendsPerUserPerMinute / 60) * requestUnits(token).writes;
}

/**
 * The most AssumeRole calls per second the API itself can make: the sum of the vending routes'
 * per-method throttle rates. At or under the STS quota, no flood through the API can spend
 * the account's quota alone (other workloads in the account still share it).
 */
export function vendingThrottleSum(settings: ModelSettings): number {
  return ROUTES.filter((route) => route.vendsCredentials).reduce(
    (total, route) => total + methodThrottle(route, settings).rate,
    0,
  );
}

/** One line of the bill. */
export interface CostLine {
  readonly service: string;
  readonly monthlyUsd: number;
  /** How the figure was reached, in words. */
  readonly basis: string;
}

/** The monthly bill for one profile, with Cognito's tiers for the same users beside it. */
export interface CostReport {
  readonly monthlyUsers: number;
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  readonly cognitoLiteUsd: number;
  readonly cognitoEssentialsUsd: number;
}

const GB = 1e9;

/** X-Ray traces recorded in a month under the default sampling rule. */
export function tracesRecorded(requests: number): number {
  const reservoir = Math.min(requests, XRAY_RESERVOIR_PER_SECOND * SECONDS_PER_MONTH);
  return reservoir + XRAY_FIXED_RATE * (requests - reservoir);
}

/** The monthly cost of the TVM for the profile's users (us-east-1, no free tiers), and Cognito's. */
export function monthlyCost(settings: ModelSettings, profile: UsageProfile = usageProfile(settings)): CostReport {
  const entries = routeEntries(profile, settings);
  const requests = entries.reduce((total, { requests: n }) => total + n, 0);
  const gbSeconds = entries.reduce(
    (total, { route, requests: n }) => total + n * (route.memoryMb / 1024) * (durationMs(route, settings) / 1000),
    0,
  );
  const readUnits = entries.reduce((total, { route, requests: n }) => total + n * requestUnits(route).reads, 0);
  const writeUnits = entries.reduce((total, { route, requests: n }) => total + n * requestUnits(route).writes, 0);
  // Every request of a route that may write an audit entry (one granted PutItem) is counted as one: an upper bound.
  const auditPerMonth = entries.reduce(
    (total, { route, requests: n }) => total + (route.tableActions.includes('PutItem') ? n : 0),
    0,
  );
  const tableGb =
    (profile.monthlyUsers * USER_BYTES +
      auditPerMonth * (settings.auditRetentionDays / DAYS_PER_MONTH) * AUDIT_ITEM_BYTES) /
    GB;
  const logGb = (requests * LOG_BYTES_PER_REQUEST) / GB;
  const logStoredGb = logGb * (settings.logRetentionDays / DAYS_PER_MONTH);
  const traces = tracesRecorded(requests);
  const lines: CostLine[] = [
    {
      service: 'API Gateway (REST)',
      monthlyUsd: tieredCost(requests, PRICES.apiGateway.restRequest),
      basis: `${millions(requests)} requests`,
    },
    {
      service: 'Lambda (Arm)',
      monthlyUsd: requests * PRICES.lambda.request + gbSeconds * PRICES.lambda.armGbSecond,
      basis: `${millions(requests)} invocations, ${millions(gbSeconds)} GB-s`,
    },
    {
      service: 'DynamoDB (on-demand)',
      monthlyUsd:
        readUnits * PRICES.dynamoDb.readRequestUnit +
        writeUnits * PRICES.dynamoDb.writeRequestUnit +
        tableGb * (PRICES.dynamoDb.storageGbMonth + PRICES.dynamoDb.pointInTimeRecoveryGbMonth),
      basis: `${millions(readUnits)} read units, ${millions(writeUnits)} write units, ${tableGb.toFixed(1)} GB stored with point-in-time recovery`,
    },
    {
      service: 'CloudWatch Logs',
      monthlyUsd: logGb * PRICES.cloudWatchLogs.ingestionGb + logStoredGb * PRICES.cloudWatchLogs.storageGbMonth,
      basis: `${logGb.toFixed(1)} GB ingested, ${logStoredGb.toFixed(1)} GB kept (${settings.logRetentionDays} days)`,
    },
    {
      service: 'X-Ray',
      monthlyUsd: traces * PRICES.xRay.traceRecorded,
      basis: `${millions(traces)} traces (default sampling)`,
    },
    {
      service: 'WAF',
      monthlyUsd: settings.waf
        ? PRICES.waf.webAclMonth + WAF_RULES * PRICES.waf.ruleMonth + requests * PRICES.waf.request
        : 0,
      basis: settings.waf ? `1 web ACL, ${WAF_RULES} rules, ${millions(requests)} requests` : 'off (setting waf=false)',
    },
  ];
  return {
    monthlyUsers: profile.monthlyUsers,
    lines,
    totalUsd: lines.reduce((total, line) => total + line.monthlyUsd, 0),
    cognitoLiteUsd: tieredCost(profile.monthlyUsers, PRICES.cognito.lite),
    cognitoEssentialsUsd: tieredCost(profile.monthlyUsers, PRICES.cognito.essentials),
  };
}

function millions(value: number): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(1)} M` : Math.round(value).toLocaleString('en-US');
}

/** The monthly users the docs price: ten thousand, a hundred thousand and a million. */
export const PRICED_USERS = [10_000, 100_000, 1_000_000] as const;

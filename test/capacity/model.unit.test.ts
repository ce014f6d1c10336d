/**
 * The capacity model stays true to what it models: the throttles it reports are the ones the
 * synthesised stack applies to each method, the WAF rules and the stage's tracing are what the
 * cost assumes, its limits follow from the settings and the route table, and `npm run
 * capacity` prints its numbers and refuses bad input with one line.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  ROUTES,
  PASSWORD_MEMORY_MB,
  SIZED_FOR_EXPECTED_LOAD,
  type RouteDefinition,
} from '../../lambda/contract/routes';
import { DEFAULT_SETTINGS, type TvmSettings } from '../../lambda/platform/settings';
import {
  WAF_RULES,
  capacityReport,
  durationMs,
  hottestPartitionWrites,
  methodThrottle,
  monthlyCost,
  requestUnits,
  tracesRecorded,
  vendingThrottleSum,
} from '../../lib/capacity/model';
import { PRICES, tieredCost } from '../../lib/capacity/prices';
import { peakRequestsPerSecond, usageProfile } from '../../lib/capacity/profile';
import { QUOTAS } from '../../lib/capacity/quotas';
import { CapacityUsageError, parseCapacityArguments, renderCapacity } from '../../scripts/capacity';
import { synthesiseTvm, type TemplateJson } from '../stack/synth';

process.env.CDK_VALIDATION = 'false';

interface MethodSetting {
  readonly ResourcePath: string;
  readonly HttpMethod: string;
  readonly ThrottlingRateLimit?: number;
  readonly ThrottlingBurstLimit?: number;
}

function stageProperties(json: TemplateJson): Record<string, unknown> {
  const stages = Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::ApiGateway::Stage');
  expect(stages).toHaveLength(1);
  return stages[0]?.Properties ?? {};
}

/** The throttle the stage applies to a route's method: its own method setting, else the stage's `/*\/*` one. */
function synthesisedThrottle(json: TemplateJson, route: RouteDefinition): { rate?: number; burst?: number } {
  const settings = (stageProperties(json).MethodSettings ?? []) as MethodSetting[];
  const escaped = route.path.replace(/~/g, '~0').replace(/\//g, '~1');
  const own = settings.find((s) => s.HttpMethod === route.method && s.ResourcePath === `/${escaped}`);
  const all = settings.find((s) => s.HttpMethod === '*' && s.ResourcePath === '/*');
  return {
    rate: own?.ThrottlingRateLimit ?? all?.ThrottlingRateLimit,
    burst: own?.ThrottlingBurstLimit ?? all?.ThrottlingBurstLimit,
  };
}

const settingsOf = (overrides: Partial<TvmSettings> = {}): TvmSettings => ({ ...DEFAULT_SETTINGS, ...overrides });

describe('the capacity model against the synthesised stack', () => {
  // One synthesis: the WAF flag changes neither the throttles nor the stage's tracing.
  let json: TemplateJson;
  beforeAll(() => {
    json = synthesiseTvm({ settings: { waf: true }, bundle: false }).json;
  }, 60_000);

  it('reports for every route the throttle the stack applies to its method', () => {
    for (const route of ROUTES) {
      const throttle = methodThrottle(route, DEFAULT_SETTINGS);
      expect([route.name, synthesisedThrottle(json, route)]).toEqual([
        route.name,
        { rate: throttle.rate, burst: throttle.burst },
      ]);
    }
  });

  it('prices the WAF with the rules of the synthesised web ACL, and X-Ray because the stage traces', () => {
    const acls = Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::WAFv2::WebACL');
    expect(acls).toHaveLength(1);
    expect((acls[0]?.Properties?.Rules as unknown[]).length).toBe(WAF_RULES);
    expect(stageProperties(json).TracingEnabled).toBe(true);
  });
});

describe('the capacity model', () => {
  it('reaches the STS quota when the vending routes together peak at 600 AssumeRole calls a second', () => {
    const profile = usageProfile(DEFAULT_SETTINGS);
    const peaks: Readonly<Record<string, number>> = peakRequestsPerSecond(DEFAULT_SETTINGS, profile);
    const vending = ROUTES.filter((route) => route.vendsCredentials).reduce(
      (total, route) => total + (peaks[route.name] ?? 0),
      0,
    );
    const sts = capacityReport(DEFAULT_SETTINGS, profile).limits.find((limit) => limit.name.startsWith('STS quota'));
    expect(sts?.capacity).toBe(600);
    expect(sts?.load).toBeCloseTo(vending, 9);
    expect(sts?.usersAtLimit).toBeCloseTo((600 / vending) * profile.monthlyUsers, 3);
  });

  it('with the default settings reaches no limit below one million monthly users but the documented STS quota', () => {
    const below = capacityReport(DEFAULT_SETTINGS, usageProfile(DEFAULT_SETTINGS, { monthlyUsers: 1_000_000 }))
      .limits.filter((limit) => limit.usersAtLimit < 1_000_000)
      .map((limit) => limit.name);
    expect(below.filter((name) => !name.startsWith('STS quota'))).toEqual([]);
  });

  it('reaches no sized throttle below expectedMonthlyUsers, whatever it is set to', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 100_000_000 }), (expected) => {
        const settings = settingsOf({ expectedMonthlyUsers: expected });
        const early = capacityReport(settings)
          .routes.filter(
            (entry) => entry.route.throttle === SIZED_FOR_EXPECTED_LOAD && entry.usersAtThrottle < expected,
          )
          .map((entry) => entry.route.name);
        expect(early).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });

  it('lists every limit once, the first reached first, each route throttle at rate / peak x users', () => {
    const profile = usageProfile(DEFAULT_SETTINGS);
    const report = capacityReport(DEFAULT_SETTINGS, profile);
    const reached = report.limits.map((limit) => limit.usersAtLimit);
    expect(reached).toEqual([...reached].sort((a, b) => a - b));
    expect(report.limits).toHaveLength(ROUTES.length + 7);
    for (const entry of report.routes)
      expect(entry.usersAtThrottle).toBeCloseTo((entry.throttle.rate / entry.peakPerSecond) * profile.monthlyUsers, 3);
  });

  it("bills the password routes bcrypt at the configured cost on a full vCPU, the others the route table's memory", () => {
    const login = ROUTES.find((route) => route.name === 'login') as RouteDefinition;
    const token = ROUTES.find((route) => route.name === 'token') as RouteDefinition;
    expect(login.memoryMb).toBe(PASSWORD_MEMORY_MB);
    expect(durationMs(login, settingsOf({ bcryptCost: 13 })) - 40).toBeCloseTo(
      2 * (durationMs(login, settingsOf()) - 40),
      9,
    );
    expect(durationMs(token, settingsOf({ bcryptCost: 13 }))).toBe(durationMs(token, settingsOf()));
    const cheaper = monthlyCost(settingsOf({ bcryptCost: 10 }));
    const dearer = monthlyCost(settingsOf({ bcryptCost: 14 }));
    const lambda = (report: typeof cheaper) =>
      report.lines.find((line) => line.service.startsWith('Lambda'))?.monthlyUsd;
    expect(lambda(dearer)).toBeGreaterThan(lambda(cheaper) ?? Number.POSITIVE_INFINITY);
  });

  it('counts DynamoDB units from the actions the route table grants', () => {
    expect(
      requestUnits({
        ...ROUTES[0],
        tableActions: ['BatchGetItem', 'GetItem', 'UpdateItem', 'PutItem'],
      } as RouteDefinition),
    ).toEqual({
      reads: 3,
      writes: 2,
    });
    const token = ROUTES.find((route) => route.name === 'token') as RouteDefinition;
    expect(hottestPartitionWrites(DEFAULT_SETTINGS)).toBeCloseTo(
      (DEFAULT_SETTINGS.vendsPerUserPerMinute / 60) * requestUnits(token).writes,
      9,
    );
    expect(hottestPartitionWrites(DEFAULT_SETTINGS)).toBeLessThan(QUOTAS.dynamoDbPartitionWrites.value);
  });

  it("sums the vending routes' throttles: the most AssumeRole calls the API can make", () => {
    const expected = ROUTES.filter((route) => route.vendsCredentials).reduce(
      (total, route) => total + methodThrottle(route, DEFAULT_SETTINGS).rate,
      0,
    );
    expect(vendingThrottleSum(DEFAULT_SETTINGS)).toBe(expected);
  });

  it('prices Cognito by its tiers: the first 10,000 free, Lite at 1,000,000 users $4,635, Essentials $14,850', () => {
    expect(tieredCost(10_000, PRICES.cognito.lite)).toBe(0);
    expect(tieredCost(1_000_000, PRICES.cognito.lite)).toBeCloseTo(90_000 * 0.0055 + 900_000 * 0.0046, 6);
    expect(tieredCost(1_000_000, PRICES.cognito.essentials)).toBeCloseTo(990_000 * 0.015, 6);
    const report = monthlyCost(DEFAULT_SETTINGS, usageProfile(DEFAULT_SETTINGS, { monthlyUsers: 1_000_000 }));
    expect(report.cognitoLiteUsd).toBeCloseTo(4635, 6);
    expect(report.totalUsd).toBeCloseTo(
      report.lines.reduce((total, line) => total + line.monthlyUsd, 0),
      9,
    );
  });

  it('charges the WAF only when the waf setting is on', () => {
    const waf = (settings: TvmSettings) =>
      monthlyCost(settings).lines.find((line) => line.service === 'WAF')?.monthlyUsd;
    expect(waf(settingsOf({ waf: false }))).toBe(0);
    expect(waf(settingsOf({ waf: true }))).toBeGreaterThan(PRICES.waf.webAclMonth);
  });

  it('records every request as an X-Ray trace below one a second, then the first each second and 5 % of the rest', () => {
    expect(tracesRecorded(1000)).toBe(1000);
    const month = 30 * 86_400;
    expect(tracesRecorded(month + 1_000_000)).toBeCloseTo(month + 50_000, 6);
  });
});

describe('npm run capacity', () => {
  it("prints the model's numbers for the settings and profile it was given", () => {
    const request = parseCapacityArguments([
      '--mau',
      '250,000',
      '--sessionsPerActiveDay',
      '8',
      '--set',
      'credentialSeconds=900',
      '--json',
    ]);
    expect(request.settings.credentialSeconds).toBe(900);
    expect(request.profile.monthlyUsers).toBe(250_000);
    const printed = JSON.parse(renderCapacity(request)) as {
      routes: { name: string; peakRequestsPerSecond: number; throttle: unknown }[];
      limits: { name: string; usersAtLimit: number | null }[];
      cost: { monthlyUsers: number; totalUsd: number }[];
    };
    const report = capacityReport(request.settings, request.profile);
    expect(printed.routes.map((route) => [route.name, route.peakRequestsPerSecond, route.throttle])).toEqual(
      report.routes.map((entry) => [entry.route.name, entry.peakPerSecond, entry.throttle]),
    );
    expect(printed.limits.map((limit) => [limit.name, limit.usersAtLimit])).toEqual(
      report.limits.map((limit) => [limit.name, Number.isFinite(limit.usersAtLimit) ? limit.usersAtLimit : null]),
    );
    expect(printed.cost.map((cost) => cost.monthlyUsers)).toEqual([10_000, 100_000, 250_000, 1_000_000]);
    expect(printed.cost[2]?.totalUsd).toBeCloseTo(monthlyCost(request.settings, request.profile).totalUsd, 9);
  });

  it.each([
    [['--mau', 'lots'], '--mau must be a number; got "lots".'],
    [['--mau', '0'], '--mau: Profile field "monthlyUsers" must be a whole number from 1 to 1000000000; got 0.'],
    [
      ['--dailyActiveShare', '1.5'],
      '--dailyActiveShare: Profile field "dailyActiveShare" must be a number from 0 to 1; got 1.5.',
    ],
    [
      ['--set', 'credentialSeconds=60'],
      'Invalid TVM setting "credentialSeconds": "60". It must be a whole number from 900 to 3600.',
    ],
    [['--set', 'nope=1'], 'Unknown TVM setting "nope".'],
    [['--set', 'credentialSeconds'], '--set takes SETTING=VALUE; got "credentialSeconds".'],
    [['--users', '5'], "Unknown option '--users'"],
    [['1000000'], 'Unexpected argument'],
  ])('refuses %j with a message naming what is wrong', (args, message) => {
    expect(() => parseCapacityArguments(args)).toThrow(CapacityUsageError);
    expect(() => parseCapacityArguments(args)).toThrow(message);
  });

  it('exits with code 2 and one line on stderr for bad input, and prints the report for good input', () => {
    const script = join(__dirname, '..', '..', 'scripts', 'capacity.ts');
    const tsx = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(tsx, [script, '--mau', 'many'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      failure = error as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(2);
    expect(failure?.stderr).toContain('capacity: --mau must be a number; got "many".');
    const output = execFileSync(tsx, [script, '--mau', '1000000'], { encoding: 'utf8' });
    expect(output).toContain('# Capacity for 1,000,000 monthly users');
    expect(output).toContain('| `POST /token` |');
  }, 60_000);
});

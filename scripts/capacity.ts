/**
 * `npm run capacity -- --mau 1000000`: the capacity and cost model (docs/capacity.md) for the
 * stack's settings and a usage profile. Every profile field can be overridden
 * (`--dailyActiveShare 0.2`), every setting too (`--set credentialSeconds=900`, checked by the
 * same rules as `cdk synth`). Bad input stops with one line naming the option and exit code 2.
 */
import { parseArgs } from 'node:util';
import { InvalidSettingError, resolveSettings, type TvmSettingsInput } from '../lib/settings';
import {
  PRICED_USERS,
  capacityReport,
  hottestPartitionWrites,
  monthlyCost,
  vendingThrottleSum,
} from '../lib/capacity/model';
import { QUOTAS } from '../lib/capacity/quotas';
import { PROFILE_FIELDS, PROFILE_KEYS, ProfileRuleError, usageProfile } from '../lib/capacity/profile';
import { accountLimitsTable, costTable, figure, profileTable, routesTable, users } from '../lib/capacity/tables';

/** Input the command refuses; the message says which option and why. */
export class CapacityUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapacityUsageError';
  }
}

export const USAGE = `Usage: npm run capacity -- [--mau N] [--<profile field> VALUE ...] [--set SETTING=VALUE ...] [--json]

  --mau N                 monthly active users (default: the expectedMonthlyUsers setting)
  --set SETTING=VALUE     a stack setting, as with cdk -c (repeatable), e.g. --set credentialSeconds=900
  --json                  the report as JSON
  --help                  this text

Profile fields (docs/capacity.md):
${PROFILE_KEYS.filter((key) => key !== 'monthlyUsers')
  .map(
    (key) => `  --${key.padEnd(28)} ${PROFILE_FIELDS[key].description} (default ${PROFILE_FIELDS[key].defaultValue})`,
  )
  .join('\n')}`;

const NUMBER = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

function numberOption(name: string, text: string): number {
  const cleaned = text.replace(/[_,]/g, '');
  if (!NUMBER.test(cleaned)) throw new CapacityUsageError(`--${name} must be a number; got "${text}".`);
  return Number(cleaned);
}

/** What the command was asked for. */
export interface CapacityRequest {
  readonly help: boolean;
  readonly json: boolean;
  readonly settings: ReturnType<typeof resolveSettings>;
  readonly profile: ReturnType<typeof usageProfile>;
}

/** Reads the arguments; throws {@link CapacityUsageError} for anything it cannot use. */
export function parseCapacityArguments(args: readonly string[]): CapacityRequest {
  const profileOptions = Object.fromEntries(
    PROFILE_KEYS.filter((key) => key !== 'monthlyUsers').map((key) => [key, { type: 'string' as const }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        mau: { type: 'string' },
        set: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...profileOptions,
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new CapacityUsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const settingsInput: Record<string, string> = {};
  for (const assignment of (values.set as string[] | undefined) ?? []) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new CapacityUsageError(`--set takes SETTING=VALUE; got "${assignment}".`);
    settingsInput[assignment.slice(0, equals).trim()] = assignment.slice(equals + 1);
  }
  let settings: ReturnType<typeof resolveSettings>;
  try {
    settings = resolveSettings(settingsInput as TvmSettingsInput);
  } catch (error) {
    if (error instanceof InvalidSettingError || (error as Error).message.startsWith('Unknown TVM setting'))
      throw new CapacityUsageError((error as Error).message);
    throw error;
  }
  const overrides: Record<string, number> = {};
  if (typeof values.mau === 'string') overrides.monthlyUsers = numberOption('mau', values.mau);
  for (const key of PROFILE_KEYS) {
    const given = values[key];
    if (typeof given === 'string') overrides[key] = numberOption(key, given);
  }
  let profile: ReturnType<typeof usageProfile>;
  try {
    profile = usageProfile(settings, overrides);
  } catch (error) {
    if (error instanceof ProfileRuleError) {
      const option = error.field === 'monthlyUsers' ? 'mau' : error.field;
      throw new CapacityUsageError(`--${option}: ${error.message}`);
    }
    throw error;
  }
  return { help: values.help === true, json: values.json === true, settings, profile };
}

/** The report as text (Markdown tables) or JSON. */
export function renderCapacity(request: CapacityRequest): string {
  const { settings, profile } = request;
  const priced = [...new Set([...PRICED_USERS, profile.monthlyUsers])].sort((a, b) => a - b);
  const report = capacityReport(settings, profile);
  if (request.json) {
    return JSON.stringify(
      {
        profile,
        routes: report.routes.map((entry) => ({
          name: entry.route.name,
          method: entry.route.method,
          path: entry.route.path,
          monthlyRequests: entry.monthlyRequests,
          peakRequestsPerSecond: entry.peakPerSecond,
          throttle: entry.throttle,
          monthlyUsersAtThrottle: finiteOrNull(entry.usersAtThrottle),
        })),
        limits: report.limits.map((limit) => ({ ...limit, usersAtLimit: finiteOrNull(limit.usersAtLimit) })),
        cost: priced.map((count) => monthlyCost(settings, { ...profile, monthlyUsers: count })),
      },
      null,
      2,
    );
  }
  const first = report.limits[0];
  const firstLine = first
    ? `The first limit reached: ${first.name}, at ${users(first.usersAtLimit)} monthly users.`
    : 'No limit.';
  return [
    `# Capacity for ${figure(profile.monthlyUsers, 0)} monthly users (stage ${settings.stage})`,
    '',
    firstLine,
    '',
    '## Usage profile',
    profileTable(settings, profile),
    '',
    '## Routes: peak load against the per-method throttle',
    routesTable(settings, profile),
    '',
    '## Account-wide limits',
    accountLimitsTable(settings, profile),
    '',
    `The vending routes' throttles together allow ${figure(vendingThrottleSum(settings))} AssumeRole calls per second (STS quota: ${figure(QUOTAS.stsRequests.value)} per second, shared by the account)${vendingThrottleSum(settings) > QUOTAS.stsRequests.value ? ': over the quota, so a flood through the API alone could spend it' : ''}.`,
    `One user's vends write at most ${figure(hottestPartitionWrites(settings))} write units per second to their own partition (DynamoDB allows ${figure(QUOTAS.dynamoDbPartitionWrites.value)} per partition).`,
    '',
    '## Monthly cost (us-east-1, no free tiers) next to Amazon Cognito',
    costTable(settings, profile, priced),
    '',
    'Prices, sources and the assumptions behind each figure: docs/capacity.md.',
  ].join('\n');
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

if (require.main === module) {
  try {
    const request = parseCapacityArguments(process.argv.slice(2));
    console.log(request.help ? USAGE : renderCapacity(request));
  } catch (error) {
    if (!(error instanceof CapacityUsageError)) throw error;
    console.error(`capacity: ${error.message}\nRun npm run capacity -- --help for the options.`);
    process.exitCode = 2;
  }
}

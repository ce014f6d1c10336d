/**
 * The deploy-time configuration of the TVM stack: read from CDK context (cdk.json or
 * `cdk deploy -c key=value`) and stack props, validated once at synth time so a bad value
 * stops `cdk synth` with a message naming the key, long before CloudFormation sees it.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

/** The validated configuration every construct reads. */
export interface TvmSettings {
  /**
   * Deployment stage: lower-case letters, digits and `-`, starting with a letter, at most 16
   * characters. `dev` makes the table and buckets deletable with the stack; any other stage
   * retains them and turns on the table's deletion protection. Default `prod`, the safe side.
   */
  readonly stage: string;
  /**
   * Browser origins allowed by CORS on the API and the bucket, e.g. `https://app.example.com`.
   * Default `['*']`: safe for the API because it uses bearer tokens, never cookies, and for the
   * bucket because every S3 request must be signed with a user's own credentials anyway.
   */
  readonly allowedOrigins: readonly string[];
  /** Lifetime of vended STS credentials, 900-3600 seconds (role chaining caps it at one hour). Default 3600. */
  readonly credentialSeconds: number;
  /** Lifetime of a login session in days, 1-365. Default 30. */
  readonly sessionDays: number;
  /** Days a session may sit unused before it is refused, 1-365 (ASVS 7.3.1). Default 14. */
  readonly sessionIdleDays: number;
  /** Live sessions one user may hold, 1-1000; a login past it ends the oldest (ASVS 7.1.2). Default 50. */
  readonly maxSessions: number;
  /** Shortest new password in characters, 8-64. Default 8; NIST SP 800-63B-4 asks 15 where the password is the only factor. */
  readonly passwordMinCharacters: number;
  /** bcrypt cost, 10-15 (each step doubles the time; 15 takes about 2.8 s on one vCPU). Default 12. */
  readonly bcryptCost: number;
  /** Consecutive failed logins before a cool-down, 1-100. Default 5. */
  readonly lockoutThreshold: number;
  /** Length of the cool-down in minutes, 1-1440. Default 15. */
  readonly lockoutMinutes: number;
  /** API Gateway stage steady-state rate limit, requests per second, 1-10000. Default 50. */
  readonly throttlingRateLimit: number;
  /** API Gateway stage burst limit, requests, 1-5000. Default 100. */
  readonly throttlingBurstLimit: number;
  /** Whether to attach an AWS WAF web ACL with a per-IP rate rule on login and register. Default false. */
  readonly waf: boolean;
  /** Requests one IP may send to login and register per 5 minutes before WAF blocks it, 10-2000000000. Default 100. */
  readonly wafRateLimit: number;
  /** Retention of the functions' and the API's log groups, in days (a CloudWatch Logs retention value). Default 90. */
  readonly logRetentionDays: RetentionDays;
  /**
   * Whether this stack sets the region's API Gateway CloudWatch role (an account-wide
   * setting API Gateway needs before it can write access logs). Turn it off when the account
   * already has one. Default true.
   */
  readonly apiGatewayCloudWatchRole: boolean;
}

/** Configuration as given: every key optional, values as context delivers them (CLI values are strings). */
export type TvmSettingsInput = { readonly [K in keyof TvmSettings]?: unknown };

/** The context keys the stack reads, in the order the README documents them. */
export const SETTINGS_KEYS = [
  'stage',
  'allowedOrigins',
  'credentialSeconds',
  'sessionDays',
  'sessionIdleDays',
  'maxSessions',
  'passwordMinCharacters',
  'bcryptCost',
  'lockoutThreshold',
  'lockoutMinutes',
  'throttlingRateLimit',
  'throttlingBurstLimit',
  'waf',
  'wafRateLimit',
  'logRetentionDays',
  'apiGatewayCloudWatchRole',
] as const satisfies readonly (keyof TvmSettings)[];

/** The defaults, applied when neither context nor props give a value. */
export const DEFAULT_SETTINGS: TvmSettings = {
  stage: 'prod',
  allowedOrigins: ['*'],
  credentialSeconds: 3600,
  sessionDays: 30,
  sessionIdleDays: 14,
  maxSessions: 50,
  passwordMinCharacters: 8,
  bcryptCost: 12,
  lockoutThreshold: 5,
  lockoutMinutes: 15,
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  waf: false,
  wafRateLimit: 100,
  logRetentionDays: RetentionDays.THREE_MONTHS,
  apiGatewayCloudWatchRole: true,
};

/** A configuration value that cannot be used; the message names the key, the value and the rule. */
export class InvalidSettingError extends Error {
  constructor(key: keyof TvmSettings, value: unknown, rule: string) {
    super(`Invalid TVM setting "${key}": ${JSON.stringify(value)}. ${rule}`);
    this.name = 'InvalidSettingError';
  }
}

const STAGE = /^[a-z][a-z0-9-]{0,15}$/;
// An origin is scheme://host[:port] with nothing after it; plain http only for local development.
const HTTPS_ORIGIN = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const LOCAL_HTTP_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;
const RETENTION_VALUES = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
);

function integerSetting(key: keyof TvmSettings, value: unknown, min: number, max: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new InvalidSettingError(key, value, `It must be a whole number from ${min} to ${max}.`);
  }
  return number;
}

function booleanSetting(key: keyof TvmSettings, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidSettingError(key, value, 'It must be true or false.');
}

function stageSetting(value: unknown): string {
  if (typeof value !== 'string' || !STAGE.test(value)) {
    throw new InvalidSettingError(
      'stage',
      value,
      'It must start with a lower-case letter and hold only a-z, 0-9 and "-", at most 16 characters.',
    );
  }
  return value;
}

function originsSetting(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    throw new InvalidSettingError('allowedOrigins', value, 'It must be a list of origins or a comma-separated string.');
  }
  const origins = list.map((item: string) => item.trim()).filter((item) => item !== '');
  if (origins.length === 0) {
    throw new InvalidSettingError('allowedOrigins', value, 'Give at least one origin, or "*" for any.');
  }
  if (origins.includes('*')) {
    if (origins.length > 1) throw new InvalidSettingError('allowedOrigins', value, '"*" cannot be combined with other origins.');
    return origins;
  }
  for (const origin of origins) {
    if (!HTTPS_ORIGIN.test(origin) && !LOCAL_HTTP_ORIGIN.test(origin)) {
      throw new InvalidSettingError(
        'allowedOrigins',
        value,
        `"${origin}" is not an origin: use https://host[:port] (lower case, no path or trailing slash); http only for localhost.`,
      );
    }
  }
  return [...new Set(origins)];
}

function retentionSetting(value: unknown): RetentionDays {
  const days = integerSetting('logRetentionDays', value, 1, 9999);
  if (!RETENTION_VALUES.has(days)) {
    throw new InvalidSettingError(
      'logRetentionDays',
      value,
      `CloudWatch Logs accepts only these retention periods: ${[...RETENTION_VALUES].join(', ')}.`,
    );
  }
  return days as RetentionDays;
}

/**
 * Validates configuration and fills in the defaults. Throws {@link InvalidSettingError} for
 * the first bad value and for a key it does not know (most likely a typo).
 */
export function resolveSettings(input: TvmSettingsInput = {}): TvmSettings {
  for (const key of Object.keys(input)) {
    if (!(SETTINGS_KEYS as readonly string[]).includes(key)) {
      throw new Error(`Unknown TVM setting "${key}". Known settings: ${SETTINGS_KEYS.join(', ')}.`);
    }
  }
  const given = <K extends keyof TvmSettings>(key: K): unknown => input[key] ?? DEFAULT_SETTINGS[key];
  const settings: TvmSettings = {
    stage: stageSetting(given('stage')),
    allowedOrigins: originsSetting(given('allowedOrigins')),
    credentialSeconds: integerSetting('credentialSeconds', given('credentialSeconds'), 900, 3600),
    sessionDays: integerSetting('sessionDays', given('sessionDays'), 1, 365),
    sessionIdleDays: integerSetting('sessionIdleDays', given('sessionIdleDays'), 1, 365),
    maxSessions: integerSetting('maxSessions', given('maxSessions'), 1, 1000),
    passwordMinCharacters: integerSetting('passwordMinCharacters', given('passwordMinCharacters'), 8, 64),
    bcryptCost: integerSetting('bcryptCost', given('bcryptCost'), 10, 15),
    lockoutThreshold: integerSetting('lockoutThreshold', given('lockoutThreshold'), 1, 100),
    lockoutMinutes: integerSetting('lockoutMinutes', given('lockoutMinutes'), 1, 24 * 60),
    throttlingRateLimit: integerSetting('throttlingRateLimit', given('throttlingRateLimit'), 1, 10_000),
    throttlingBurstLimit: integerSetting('throttlingBurstLimit', given('throttlingBurstLimit'), 1, 5_000),
    waf: booleanSetting('waf', given('waf')),
    wafRateLimit: integerSetting('wafRateLimit', given('wafRateLimit'), 10, 2_000_000_000),
    logRetentionDays: retentionSetting(given('logRetentionDays')),
    apiGatewayCloudWatchRole: booleanSetting('apiGatewayCloudWatchRole', given('apiGatewayCloudWatchRole')),
  };
  return settings;
}

/** The settings present in a construct's CDK context (cdk.json and `-c key=value`), unvalidated. */
export function settingsFromContext(node: Node): TvmSettingsInput {
  const input: Record<string, unknown> = {};
  for (const key of SETTINGS_KEYS) {
    const value: unknown = node.tryGetContext(key);
    if (value !== undefined) input[key] = value;
  }
  return input;
}

/** Whether resources holding data are deleted with the stack (only in `dev`). */
export function isDisposableStage(settings: TvmSettings): boolean {
  return settings.stage === 'dev';
}

/**
 * The one settings table: every configurable value of the TVM with its CDK context key, the
 * function environment variable that carries it (when the functions read it), its default,
 * its rule and its parser. lib/settings.ts (deploy time, CDK context) and core/config.ts
 * (run time, the functions' environment) are both derived from it, so a range or a default
 * is written here and nowhere else.
 */

import { MAX_QUOTA_BYTES, OIDC_PROVIDER_NAME_MAX_CHARACTERS, PASSWORD_MIN_CHARACTERS } from '../contract/limits';

/** Who may create an account (the `registration` setting). */
export const REGISTRATION_MODES = ['open', 'invite', 'closed'] as const;
/** One of {@link REGISTRATION_MODES}. */
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/** A value that breaks a setting's rule; `rule` says what the value must be. */
export class SettingRuleError extends Error {
  constructor(readonly rule: string) {
    super(rule);
    this.name = 'SettingRuleError';
  }
}

/** One setting. `parse` takes what context or the environment delivers (CLI values are strings). */
export interface SettingDefinition<T> {
  /** What the setting controls, for the docs. */
  readonly description: string;
  /** The function environment variable carrying it; absent for deploy-time-only settings. */
  readonly variable?: string;
  readonly defaultValue: T;
  /**
   * The default for a given stage, where it depends on the stage (deploy-time settings only);
   * `defaultValue` is then the default stage's.
   */
  readonly defaultForStage?: (stage: string) => T;
  /** The rule in words, for the docs and error messages. */
  readonly rule: string;
  /** Checks and converts a given value; throws {@link SettingRuleError}. */
  parse(raw: unknown): T;
  /** How the value is written into the functions' environment. Default `String(value)`. */
  toVariable?(value: T): string;
}

function integer(min: number, max: number): { rule: string; parse: (raw: unknown) => number } {
  const rule = `a whole number from ${min} to ${max}`;
  return {
    rule,
    parse(raw) {
      const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw.trim()) : raw;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        throw new SettingRuleError(`It must be ${rule}.`);
      return value;
    },
  };
}

function boolean(): { rule: string; parse: (raw: unknown) => boolean } {
  return {
    rule: 'true or false',
    parse(raw) {
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw new SettingRuleError('It must be true or false.');
    },
  };
}

const STAGE = /^[a-z][a-z0-9-]{0,15}$/;
// An origin is scheme://host[:port] with nothing after it; plain http only for local development.
const HTTPS_ORIGIN = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const RP_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOCAL_HTTP_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

/**
 * A list of origins: an array, a JSON array in a string (`-c 'allowedOrigins=["https://a"]'`)
 * or a comma-separated string (`-c allowedOrigins=https://a,https://b`, the environment).
 */
function originList(raw: unknown): readonly string[] {
  let list = raw;
  if (typeof raw === 'string') {
    if (raw.trim().startsWith('[')) {
      try {
        list = JSON.parse(raw) as unknown;
      } catch {
        throw new SettingRuleError('It looks like a JSON array but is not valid JSON.');
      }
    } else {
      list = raw.split(',');
    }
  }
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    throw new SettingRuleError('It must be a list of origins: a JSON array or a comma-separated string.');
  }
  const origins = list.map((item: string) => item.trim()).filter((item) => item !== '');
  if (origins.length === 0) throw new SettingRuleError('Give at least one origin, or "*" for any.');
  if (origins.includes('*')) {
    if (origins.length > 1) throw new SettingRuleError('"*" cannot be combined with other origins.');
    return origins;
  }
  for (const origin of origins) {
    if (!HTTPS_ORIGIN.test(origin) && !LOCAL_HTTP_ORIGIN.test(origin)) {
      throw new SettingRuleError(
        `"${origin}" is not an origin: use https://host[:port] (lower case, no path or trailing slash); http only for localhost.`,
      );
    }
  }
  return [...new Set(origins)];
}

/** One entry of the `oidcProviders` setting (lambda/identities/ports.ts has the domain's view). */
export interface OidcProviderSetting {
  readonly name: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly trustProviderMfa: boolean;
}

const PROVIDER_NAME = new RegExp(`^[a-z0-9](?:[a-z0-9-]{0,${OIDC_PROVIDER_NAME_MAX_CHARACTERS - 2}}[a-z0-9])?$`);
/** An issuer: https with a host and an optional path, no query or fragment; plain http only on loopback (the sandbox). */
const HTTPS_ISSUER = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;
const LOOPBACK_ISSUER = /^http:\/\/127\.0\.0\.1:\d{1,5}(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;

/** Parses `oidcProviders`: a JSON array (in a string, from context or the environment) or an array. */
function oidcProviderList(raw: unknown): readonly OidcProviderSetting[] {
  let list = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return [];
    try {
      list = JSON.parse(raw) as unknown;
    } catch {
      throw new SettingRuleError('It must be a JSON array of providers.');
    }
  }
  if (!Array.isArray(list)) throw new SettingRuleError('It must be a JSON array of providers.');
  const providers = list.map((item: unknown, index): OidcProviderSetting => {
    const entry = item as Record<string, unknown> | null;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new SettingRuleError(`Provider ${index + 1} must be an object.`);
    const unknownKeys = Object.keys(entry).filter(
      (key) => !['name', 'issuer', 'audiences', 'trustProviderMfa'].includes(key),
    );
    if (unknownKeys.length > 0)
      throw new SettingRuleError(`Provider ${index + 1} has unknown fields: ${unknownKeys.join(', ')}.`);
    const { name, issuer, audiences, trustProviderMfa = false } = entry;
    if (typeof name !== 'string' || !PROVIDER_NAME.test(name))
      throw new SettingRuleError(
        `Provider ${index + 1}: name must be 1-${OIDC_PROVIDER_NAME_MAX_CHARACTERS} of a-z, 0-9 and "-".`,
      );
    if (typeof issuer !== 'string' || !(HTTPS_ISSUER.test(issuer) || LOOPBACK_ISSUER.test(issuer)))
      throw new SettingRuleError(`Provider ${name}: issuer must be an https URL (http only for 127.0.0.1).`);
    if (
      !Array.isArray(audiences) ||
      audiences.length === 0 ||
      !audiences.every((a) => typeof a === 'string' && a.length > 0 && a.length <= 256)
    )
      throw new SettingRuleError(`Provider ${name}: audiences must be a non-empty array of client ids.`);
    if (typeof trustProviderMfa !== 'boolean')
      throw new SettingRuleError(`Provider ${name}: trustProviderMfa must be true or false.`);
    return { name, issuer, audiences: [...new Set(audiences as string[])], trustProviderMfa };
  });
  const names = providers.map((provider) => provider.name);
  if (new Set(names).size !== names.length) throw new SettingRuleError('Provider names must be distinct.');
  return providers;
}

/** The retention periods CloudWatch Logs accepts, in days (a stack test compares them with CDK's RetentionDays). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999,
] as const;

/** The lowest bcrypt cost the TVM accepts; each step doubles the time. */
export const BCRYPT_MIN_COST = 10;
/** The highest bcrypt cost the TVM accepts: 15 takes about 2.8 s on one vCPU. */
export const BCRYPT_MAX_COST = 15;

const bcryptCost = integer(BCRYPT_MIN_COST, BCRYPT_MAX_COST);

/** The longest credential lifetime: AssumeRole from a Lambda role is role chaining, capped at one hour. */
export const CREDENTIAL_MAX_SECONDS = 3600;

/** Every setting, in the order the docs list them. */
export const SETTINGS = {
  stage: {
    description:
      "Deployment stage and the stack name `tvm-<stage>`. `dev` makes the table and buckets deletable with the stack; any other stage retains them and turns on the table's deletion protection.",
    defaultValue: 'prod',
    rule: 'lower-case letters, digits and "-", starting with a letter, at most 16 characters',
    parse(raw: unknown): string {
      if (typeof raw !== 'string' || !STAGE.test(raw)) {
        throw new SettingRuleError(
          'It must start with a lower-case letter and hold only a-z, 0-9 and "-", at most 16 characters.',
        );
      }
      return raw;
    },
  },
  allowedOrigins: {
    description:
      'Browser origins allowed by CORS on the API and the bucket. `*` is safe for the API (bearer tokens, never cookies) and for the bucket (every request is signed).',
    variable: 'ALLOWED_ORIGINS',
    defaultValue: ['*'] as readonly string[],
    rule: 'a JSON array or comma-separated list of https://host[:port] origins (http only for localhost), or "*"',
    parse: originList,
    toVariable: (origins: readonly string[]) => origins.join(','),
  },
  credentialSeconds: {
    description: 'Lifetime of vended STS credentials (role chaining caps it at one hour).',
    variable: 'CREDENTIAL_SECONDS',
    defaultValue: 3600,
    ...integer(900, CREDENTIAL_MAX_SECONDS),
  },
  sessionDays: {
    description: 'Lifetime of a login session, in days.',
    variable: 'SESSION_DAYS',
    defaultValue: 30,
    ...integer(1, 365),
  },
  sessionIdleDays: {
    description:
      'Days a session may sit unused before it is refused, whatever its lifetime (ASVS 7.3.1). Each /token call counts as a use.',
    variable: 'SESSION_IDLE_DAYS',
    defaultValue: 14,
    ...integer(1, 365),
  },
  maxSessions: {
    description:
      'Live sessions one user may hold (ASVS 7.1.2); a login past it ends the oldest, recorded in the audit trail.',
    variable: 'MAX_SESSIONS',
    defaultValue: 50,
    ...integer(1, 1000),
  },
  vendsPerSessionPerMinute: {
    description:
      "Credential vends (`POST /token`) one session may make per minute, so one session cannot spend the account's STS quota; more answer 429 with Retry-After.",
    variable: 'VENDS_PER_SESSION_PER_MINUTE',
    defaultValue: 6,
    ...integer(1, 600),
  },
  vendsPerUserPerMinute: {
    description:
      'Credential vends (`POST /token`) one user may make per minute across all their sessions; more answer 429 with Retry-After.',
    variable: 'VENDS_PER_USER_PER_MINUTE',
    defaultValue: 30,
    ...integer(1, 6000),
  },
  passwordMinCharacters: {
    description:
      'Shortest new password, in characters. NIST SP 800-63B-4 asks 15 where the password is the only factor, 8 where it is one of two (see docs/asvs.md).',
    variable: 'PASSWORD_MIN_CHARACTERS',
    defaultValue: PASSWORD_MIN_CHARACTERS,
    ...integer(PASSWORD_MIN_CHARACTERS, 64),
  },
  bcryptCost: {
    description: 'bcrypt cost for new password hashes (each step doubles the time).',
    variable: 'BCRYPT_COST',
    defaultValue: 12,
    ...bcryptCost,
  },
  lockoutThreshold: {
    description: 'Consecutive failed logins before a cool-down.',
    variable: 'LOCKOUT_THRESHOLD',
    defaultValue: 5,
    ...integer(1, 100),
  },
  lockoutMinutes: {
    description: 'Length of the cool-down after a lockout, in minutes.',
    variable: 'LOCKOUT_MINUTES',
    defaultValue: 15,
    ...integer(1, 24 * 60),
  },
  auditRetentionDays: {
    description: "How long each user's audit entries are kept, in days (DynamoDB TTL).",
    variable: 'AUDIT_RETENTION_DAYS',
    defaultValue: 90,
    ...integer(1, 3650),
  },
  passkeyRpId: {
    description:
      'The WebAuthn relying-party id passkeys are bound to: the domain of the web app (or a parent domain of it). `localhost` for the sandbox.',
    variable: 'WEBAUTHN_RP_ID',
    defaultValue: 'localhost',
    rule: 'a lower-case domain name (letters, digits, "-" and "."), not an IP address',
    parse(raw: unknown): string {
      if (typeof raw !== 'string' || !RP_ID.test(raw) || /^[\d.]+$/.test(raw)) {
        throw new SettingRuleError(
          'It must be a lower-case domain name such as example.com (WebAuthn refuses IP addresses).',
        );
      }
      return raw;
    },
  },
  passkeyOrigins: {
    description: "The web origins allowed to use passkeys: each must be on the relying-party id's domain.",
    variable: 'WEBAUTHN_ORIGINS',
    defaultValue: ['http://localhost:3000'] as readonly string[],
    rule: 'a JSON array or comma-separated list of https://host[:port] origins (http only for localhost)',
    parse(raw: unknown): readonly string[] {
      const origins = originList(raw);
      if (origins.includes('*')) throw new SettingRuleError('Passkeys need exact origins, not "*".');
      return origins;
    },
    toVariable: (origins: readonly string[]) => origins.join(','),
  },
  passkeys: {
    description:
      'Whether the passkey routes are on. Outside `dev` the synth turns them off while `passkeyRpId` is `localhost` or a passkey origin is not https (it warns; the passkey routes then answer 404 `passkeys_not_configured` and the web app hides passkeys); `true` there stops the synth instead.',
    variable: 'PASSKEYS',
    defaultValue: true,
    ...boolean(),
  },
  oidcProviders: {
    description:
      'OpenID Connect providers users may sign in with (docs/identities.md): a JSON array of `{name, issuer, audiences, trustProviderMfa?}`. Deployed stages need https issuers; the sandbox also accepts http://127.0.0.1:<port>.',
    variable: 'OIDC_PROVIDERS',
    defaultValue: [] as readonly OidcProviderSetting[],
    rule: 'a JSON array of {name, issuer, audiences, trustProviderMfa?}: distinct names of a-z, 0-9 and "-", https issuers (http only for 127.0.0.1), at least one audience each',
    parse: oidcProviderList,
    toVariable: (providers: readonly OidcProviderSetting[]) => JSON.stringify(providers),
  },
  defaultQuotaBytes: {
    description:
      "Bytes each user's folder may hold before their credentials lose every write (docs/operating.md#quotas); `0` means no quota. `tvm-admin users quota` overrides it per user.",
    variable: 'DEFAULT_QUOTA_BYTES',
    defaultValue: 0,
    ...integer(0, MAX_QUOTA_BYTES),
  },
  registration: {
    description:
      'Who may create an account: `open` (anyone), `invite` (`POST /register` needs a single-use invite from `tvm-admin invites create`) or `closed` (only `tvm-admin users create`). Applies to every way an account is created, sign-in with an outside identity included.',
    variable: 'REGISTRATION',
    defaultValue: 'open' as RegistrationMode,
    rule: `one of ${REGISTRATION_MODES.join(', ')}`,
    parse(raw: unknown): RegistrationMode {
      if (typeof raw === 'string' && (REGISTRATION_MODES as readonly string[]).includes(raw.trim()))
        return raw.trim() as RegistrationMode;
      throw new SettingRuleError(`It must be one of ${REGISTRATION_MODES.join(', ')}.`);
    },
  },
  expectedMonthlyUsers: {
    description:
      'The monthly active users the API is sized for: the per-route throttles of the vending and light routes come from it through the usage profile (docs/capacity.md; `npm run capacity`).',
    defaultValue: 1_000_000,
    ...integer(1_000, 100_000_000),
  },
  throttlingRateLimit: {
    description:
      "API Gateway's stage-wide default rate limit, requests per second per method, for the methods without their own (the CORS preflights): each route's own comes from the route table (docs/deploying.md#throttles).",
    defaultValue: 50,
    ...integer(1, 10_000),
  },
  throttlingBurstLimit: {
    description: 'The burst of that stage-wide default, requests.',
    defaultValue: 100,
    ...integer(1, 5_000),
  },
  waf: {
    description:
      'Whether to attach an AWS WAF web ACL with two per-IP rate rules: `wafRateLimit` on the routes that check secrets, `wafAllRoutesRateLimit` on every path. On by default in every stage but `dev`.',
    defaultValue: true,
    defaultForStage: (stage: string) => stage !== 'dev',
    ...boolean(),
  },
  wafRateLimit: {
    description:
      'Requests one IP may send to the routes that check secrets (`checksSecret` in the route table) per 5 minutes before WAF blocks it.',
    defaultValue: 100,
    ...integer(10, 2_000_000_000),
  },
  wafAllRoutesRateLimit: {
    description:
      'Requests one IP may send to any route per 5 minutes before WAF blocks it: the ceiling that keeps one address from spending a route throttle everyone shares (generous, for many users behind one carrier NAT).',
    defaultValue: 3000,
    ...integer(10, 2_000_000_000),
  },
  logRetentionDays: {
    description: "Retention of the functions' and the API's log groups, in days.",
    defaultValue: 90,
    rule: `one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
    parse(raw: unknown): number {
      const days = integer(1, 9999).parse(raw);
      if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
        throw new SettingRuleError(
          `CloudWatch Logs accepts only these retention periods: ${LOG_RETENTION_DAYS.join(', ')}.`,
        );
      }
      return days;
    },
  },
  apiGatewayAccountStage: {
    description:
      "The stage whose stack owns the region's API Gateway account setting (the CloudWatch role API Gateway needs before it writes any API's logs; one per account and Region). Only that stack creates it, and keeps it when destroyed; every other stack leaves it alone. `none` when something outside the TVM sets it.",
    defaultValue: 'prod',
    rule: 'a stage name, or none',
    parse(raw: unknown): string {
      if (raw === 'none') return raw;
      return SETTINGS.stage.parse(raw);
    },
  },
} as const satisfies Record<string, SettingDefinition<never> | SettingDefinition<unknown>>;

/** A setting's key (the CDK context key). */
export type SettingKey = keyof typeof SETTINGS;

/** Every setting with its validated value. */
export type TvmSettings = { readonly [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]['parse']> };

/** The keys in documentation order. */
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The keys of the settings the functions read from their environment. */
export type RuntimeSettingKey = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { readonly variable: string } ? K : never;
}[SettingKey];

/** The settings the functions read, with their environment variables. */
export const RUNTIME_SETTING_KEYS = SETTING_KEYS.filter((key): key is RuntimeSettingKey => 'variable' in SETTINGS[key]);

/** The definition of one setting, typed for its value. */
export function settingDefinition<K extends SettingKey>(key: K): SettingDefinition<TvmSettings[K]> {
  return SETTINGS[key] as unknown as SettingDefinition<TvmSettings[K]>;
}

/** The default of every setting. */
export const DEFAULT_SETTINGS: TvmSettings = Object.fromEntries(
  SETTING_KEYS.map((key) => [key, SETTINGS[key].defaultValue]),
) as unknown as TvmSettings;

/** The function environment that carries the runtime settings: variable name to text. */
export function settingsEnvironment(settings: Pick<TvmSettings, RuntimeSettingKey>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const key of RUNTIME_SETTING_KEYS) {
    const definition = settingDefinition(key);
    const value = settings[key];
    environment[definition.variable as string] = definition.toVariable ? definition.toVariable(value) : String(value);
  }
  return environment;
}

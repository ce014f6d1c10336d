import { ConfigurationError } from './errors';
import {
  RUNTIME_SETTING_KEYS,
  SettingRuleError,
  settingDefinition,
  type RuntimeSettingKey,
  type TvmSettings,
} from './settings';

/** The settings the functions read from their environment (see lambda/platform/settings.ts). */
export type RuntimeSettings = Pick<TvmSettings, RuntimeSettingKey>;

/**
 * Everything the functions need from their environment, read once at cold start: the
 * resources the stack wires in, and the runtime settings of the settings table (bcrypt cost,
 * lifetimes, lockout, audit retention, CORS origins).
 */
export interface TvmConfig extends RuntimeSettings {
  /** TABLE_NAME: the DynamoDB table holding users, sessions and lockout counters. */
  readonly tableName: string;
  /** BUCKET_NAME: the file bucket users' folders live in. */
  readonly bucketName: string;
  /** VENDING_ROLE_ARN: the restricted role AssumeRole is called on. */
  readonly vendingRoleArn: string;
  /** AWS_REGION (set by Lambda itself): reported to apps in `storage.region`. */
  readonly region: string;
  /** The AWS partition, taken from the vending role's ARN. */
  readonly partition: string;
  /** S3_ENDPOINT: optional; reported as `storage.endpoint` when S3 is not AWS's own (the sandbox). */
  readonly s3Endpoint?: string;
  /**
   * CUT_OFF_WORKER_FUNCTION: the worker function (the deletion worker, which also applies the
   * cut-off list) that the functions revoking shares invoke; set only on those functions, so
   * read with {@link requireCutOffWorker} where it is needed.
   */
  readonly cutOffWorkerFunction?: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The environment variables the stack must set on every function (AWS_REGION is Lambda's own). */
export const RESOURCE_VARIABLES = ['TABLE_NAME', 'BUCKET_NAME', 'VENDING_ROLE_ARN'] as const;

function required(env: Environment, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`Missing required environment variable ${name}.`);
  return value;
}

/**
 * Reads the runtime settings from an environment: each variable of the settings table, or
 * its default when unset. Throws {@link ConfigurationError} naming the variable and the rule.
 */
export function readRuntimeSettings(env: Environment): RuntimeSettings {
  const settings: Record<string, unknown> = {};
  for (const key of RUNTIME_SETTING_KEYS) {
    const definition = settingDefinition(key);
    const variable = definition.variable as string;
    const raw = env[variable]?.trim();
    try {
      settings[key] = raw === undefined || raw === '' ? definition.defaultValue : definition.parse(raw);
    } catch (error) {
      if (error instanceof SettingRuleError)
        throw new ConfigurationError(`${variable} is invalid ("${raw}"). ${error.rule}`);
      throw error;
    }
  }
  return settings as unknown as RuntimeSettings;
}

/** The environment variable naming the cut-off worker's function (see {@link TvmConfig.cutOffWorkerFunction}). */
export const CUT_OFF_WORKER_VARIABLE = 'CUT_OFF_WORKER_FUNCTION';

/** A Lambda function name (or ARN), as Invoke takes it. */
const FUNCTION_NAME = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}$/;

/**
 * The cut-off worker's function name, for the functions that revoke shares: throws
 * {@link ConfigurationError} when it is missing, so such a function fails at start.
 */
export function requireCutOffWorker(config: Pick<TvmConfig, 'cutOffWorkerFunction'>): string {
  if (config.cutOffWorkerFunction === undefined)
    throw new ConfigurationError(`Missing required environment variable ${CUT_OFF_WORKER_VARIABLE}.`);
  return config.cutOffWorkerFunction;
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads and validates the configuration. Throws {@link ConfigurationError} naming the first
 * missing or invalid variable, so a misconfigured function fails at start, not per request.
 */
export function loadConfig(env: Environment): TvmConfig {
  const tableName = required(env, 'TABLE_NAME');
  const bucketName = required(env, 'BUCKET_NAME');
  const vendingRoleArn = required(env, 'VENDING_ROLE_ARN');
  const region = required(env, 'AWS_REGION');
  const roleArn = ROLE_ARN.exec(vendingRoleArn);
  if (!roleArn) throw new ConfigurationError(`VENDING_ROLE_ARN is not an IAM role ARN: "${vendingRoleArn}".`);
  if (!BUCKET_NAME.test(bucketName))
    throw new ConfigurationError(`BUCKET_NAME is not a valid bucket name: "${bucketName}".`);
  const s3Endpoint = env.S3_ENDPOINT?.trim();
  const cutOffWorkerFunction = env[CUT_OFF_WORKER_VARIABLE]?.trim();
  if (cutOffWorkerFunction && !FUNCTION_NAME.test(cutOffWorkerFunction))
    throw new ConfigurationError(
      `${CUT_OFF_WORKER_VARIABLE} is not a Lambda function name or ARN: "${cutOffWorkerFunction}".`,
    );
  return {
    tableName,
    bucketName,
    vendingRoleArn,
    region,
    partition: roleArn[1] ?? 'aws',
    ...readRuntimeSettings(env),
    ...(s3Endpoint ? { s3Endpoint } : {}),
    ...(cutOffWorkerFunction ? { cutOffWorkerFunction } : {}),
  };
}

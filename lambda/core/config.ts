import { AUDIT_RETENTION_DAYS } from './audit';
import { BCRYPT_MAX_COST, BCRYPT_MIN_COST } from './password-hash';
import { PASSWORD_MIN_CHARACTERS } from './password';
import { ConfigurationError } from './errors';

/** Everything the functions need from their environment, read once at cold start. */
export interface TvmConfig {
  /** TABLE_NAME: the DynamoDB table holding users, sessions and lockout counters. */
  readonly tableName: string;
  /** BUCKET_NAME: the file bucket users' folders live in. */
  readonly bucketName: string;
  /** VENDING_ROLE_ARN: the restricted role AssumeRole is called on. */
  readonly vendingRoleArn: string;
  /** AWS_REGION: reported to apps in `storage.region`. */
  readonly region: string;
  /** The AWS partition, taken from the vending role's ARN. */
  readonly partition: string;
  /** BCRYPT_COST: default 12, at least 10. */
  readonly bcryptCost: number;
  /** SESSION_DAYS: lifetime of a login session; default 30. */
  readonly sessionDays: number;
  /** SESSION_IDLE_DAYS: a session unused this long is refused, whatever its lifetime; default 14. */
  readonly sessionIdleDays: number;
  /** MAX_SESSIONS: live sessions one user may hold; a login past it ends the oldest. Default 50. */
  readonly maxSessions: number;
  /** PASSWORD_MIN_CHARACTERS: shortest new password, 8-64 code points; default 8 (NIST: 15 where passwords are the only factor). */
  readonly passwordMinCharacters: number;
  /** CREDENTIAL_SECONDS: STS credential lifetime, 900-3600; default 3600. */
  readonly credentialSeconds: number;
  /** LOCKOUT_THRESHOLD: consecutive failures before a cool-down; default 5. */
  readonly lockoutThreshold: number;
  /** LOCKOUT_MINUTES: length of the cool-down; default 15. */
  readonly lockoutMinutes: number;
  /** AUDIT_RETENTION_DAYS: how long audit entries are kept; default 90. */
  readonly auditRetentionDays: number;
  /**
   * ALLOWED_ORIGINS: comma-separated browser origins for CORS; default `*`. Safe as a default
   * because the API uses bearer tokens, never cookies.
   */
  readonly allowedOrigins: readonly string[];
  /** S3_ENDPOINT: optional; reported as `storage.endpoint` when S3 is not AWS's own (the sandbox). */
  readonly s3Endpoint?: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

function required(env: Environment, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`Missing required environment variable ${name}.`);
  return value;
}

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigurationError(`${name} must be a whole number, got "${raw}".`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigurationError(`${name} must be from ${min} to ${max}, got ${value}.`);
  return value;
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
  if (!BUCKET_NAME.test(bucketName)) throw new ConfigurationError(`BUCKET_NAME is not a valid bucket name: "${bucketName}".`);
  const s3Endpoint = env.S3_ENDPOINT?.trim();
  const allowedOrigins = (env.ALLOWED_ORIGINS ?? '*').split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of allowedOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^\s/]+$/.test(origin)) {
      throw new ConfigurationError(`ALLOWED_ORIGINS has an invalid origin: "${origin}".`);
    }
  }
  return {
    tableName,
    bucketName,
    vendingRoleArn,
    region,
    partition: roleArn[1] ?? 'aws',
    bcryptCost: integer(env, 'BCRYPT_COST', 12, BCRYPT_MIN_COST, BCRYPT_MAX_COST),
    sessionDays: integer(env, 'SESSION_DAYS', 30, 1, 365),
    sessionIdleDays: integer(env, 'SESSION_IDLE_DAYS', 14, 1, 365),
    maxSessions: integer(env, 'MAX_SESSIONS', 50, 1, 1000),
    passwordMinCharacters: integer(env, 'PASSWORD_MIN_CHARACTERS', PASSWORD_MIN_CHARACTERS, PASSWORD_MIN_CHARACTERS, 64),
    credentialSeconds: integer(env, 'CREDENTIAL_SECONDS', 3600, 900, 3600),
    lockoutThreshold: integer(env, 'LOCKOUT_THRESHOLD', 5, 1, 100),
    lockoutMinutes: integer(env, 'LOCKOUT_MINUTES', 15, 1, 24 * 60),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', AUDIT_RETENTION_DAYS, 1, 3650),
    allowedOrigins: allowedOrigins.length > 0 ? allowedOrigins : ['*'],
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}

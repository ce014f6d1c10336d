/**
 * The sandbox's own long-term keys: the functions' (standing in for the Lambda execution
 * role) and the operator's (tvm-admin --local). They are random per data folder, created on
 * the first start and kept in `<data folder>/secrets.json`, readable by its owner only; they
 * are never in the source. The local STS, IAM and DynamoDB accept requests signed with them
 * (and the S3 gate the operator's), so no other local process can reach those backends.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSecretAccessKey } from './sts/session-store';

/** An access key and its secret. */
export interface LongTermKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The keys of one data folder. */
export interface SandboxSecrets {
  /** The handlers' key: AssumeRole at the local STS, DynamoDB. */
  readonly functionKey: LongTermKey;
  /** The operator's key: the local IAM, DynamoDB, and the S3 gate as the bucket owner. */
  readonly operatorKey: LongTermKey;
}

/** The file name of the secrets inside the data folder. */
export const SANDBOX_SECRETS_FILE = 'secrets.json';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A long-term access key id in AWS's shape: `AKIA` and 16 upper-case base32 characters. */
function newLongTermAccessKeyId(): string {
  let id = 'AKIA';
  for (const byte of randomBytes(16)) id += BASE32[byte % 32];
  return id;
}

function newKey(): LongTermKey {
  return { accessKeyId: newLongTermAccessKeyId(), secretAccessKey: newSecretAccessKey() };
}

function isKey(value: unknown): value is LongTermKey {
  const key = value as Partial<LongTermKey> | undefined;
  return (
    typeof key?.accessKeyId === 'string' &&
    /^AKIA[A-Z2-7]{16}$/.test(key.accessKeyId) &&
    typeof key.secretAccessKey === 'string' &&
    key.secretAccessKey.length >= 40
  );
}

/** Reads the secrets of a data folder; throws if they are missing or malformed. */
export function readSandboxSecrets(dataDir: string): SandboxSecrets {
  const parsed = JSON.parse(readFileSync(join(dataDir, SANDBOX_SECRETS_FILE), 'utf8')) as Partial<SandboxSecrets>;
  if (!isKey(parsed.functionKey) || !isKey(parsed.operatorKey))
    throw new Error(`${join(dataDir, SANDBOX_SECRETS_FILE)} is malformed; delete it to make new keys.`);
  return { functionKey: parsed.functionKey, operatorKey: parsed.operatorKey };
}

/**
 * The data folder's secrets, created on first use. A file that others could read (group or
 * world bits set) is treated as disclosed: new keys replace it. A file owned by another user
 * is refused.
 */
export function loadOrCreateSandboxSecrets(dataDir: string): SandboxSecrets {
  const file = join(dataDir, SANDBOX_SECRETS_FILE);
  if (existsSync(file)) {
    const stat = statSync(file);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      throw new Error(`${file} belongs to another user; the sandbox will not use keys someone else controls.`);
    }
    if ((stat.mode & 0o077) === 0) {
      try {
        return readSandboxSecrets(dataDir);
      } catch {
        // Malformed: replaced below.
      }
    }
  }
  const secrets: SandboxSecrets = { functionKey: newKey(), operatorKey: newKey() };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
  return secrets;
}

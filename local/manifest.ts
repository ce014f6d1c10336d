/**
 * A running sandbox's marks in its data folder: the lock that keeps a second sandbox out, and
 * the manifest by which `tvm-admin --local` finds it (written on start, removed on stop; it
 * names internal loopback endpoints only).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the sandbox writes to `<TVM_DATA_DIR>/sandbox.json` while it runs. */
export interface SandboxManifest {
  readonly pid: number;
  /** The API's base URL, as apps see it (tvm-admin smoke calls it). */
  readonly apiUrl: string;
  readonly region: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly vendingRoleArn: string;
  readonly dynamoEndpoint: string;
  /** The local STS the functions call (the benchmark's floor calls it too). */
  readonly stsEndpoint: string;
  /** The local IAM: the vending role's inline policies (the credential cut-off). */
  readonly iamEndpoint: string;
  /** The S3 gate, where the operator's key acts as the bucket owner. The operator's key itself is in secrets.json (secrets.ts). */
  readonly s3Endpoint: string;
  /** The functions' `defaultQuotaBytes` (DEFAULT_QUOTA_BYTES), for tvm-admin's quota decisions. */
  readonly defaultQuotaBytes?: number;
}

/** The file name of the sandbox manifest inside the data folder. */
export const SANDBOX_MANIFEST = 'sandbox.json';

/**
 * Whether a process with this pid exists (signal 0 checks without signalling). Used to tell a
 * running sandbox's manifest or data-folder lock from one a dead process left behind.
 */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data folder for this process: LevelDB allows one opener, and two sandboxes on
 * one folder would also race on the S3 files. A lock left by a dead process is taken over.
 * Returns the release function.
 */
export function lockDataFolder(dataDir: string): () => void {
  const lockFile = join(dataDir, 'sandbox.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && processIsAlive(owner)) {
        throw new Error(
          `The data folder ${dataDir} is in use by another sandbox (pid ${owner}); stop it or set TVM_DATA_DIR to another folder.`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}.`);
}

/**
 * How `tvm-admin --local` finds a running sandbox: the sandbox writes this file into its data
 * folder on start and removes it on stop. It names internal loopback endpoints only.
 */

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

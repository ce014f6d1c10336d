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
  /** The S3 emulator itself, behind the gate: the operator acts as the bucket owner. */
  readonly s3OwnerEndpoint: string;
  /** The S3 emulator's own fixed owner key (s3rver knows no other). */
  readonly s3OwnerCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The operator's key for the local IAM and DynamoDB. */
  readonly operatorCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
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

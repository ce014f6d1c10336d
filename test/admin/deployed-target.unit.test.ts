/**
 * tvm-admin's deployed target, with CloudFormation mocked (there is no AWS account here): the
 * stack's outputs become the table, bucket, region and vending role the commands use.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../admin/cli';
import { AdminError, DEFAULT_STACK, deployedTarget } from '../../admin/target';

const cloudFormation = mockClient(CloudFormationClient);
const OUTPUTS = [
  { OutputKey: 'ApiUrl', OutputValue: 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/' },
  { OutputKey: 'TableName', OutputValue: 'tvm-prod-UserTable-1' },
  { OutputKey: 'BucketName', OutputValue: 'tvm-prod-files-1' },
  { OutputKey: 'Region', OutputValue: 'eu-west-1' },
  { OutputKey: 'VendingRoleArn', OutputValue: 'arn:aws:iam::123456789012:role/tvm-prod-VendingRole-ABC' },
];

beforeEach(() => cloudFormation.reset());

it('reads the table, bucket, region and vending role from the stack outputs', async () => {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'tvm-prod' }).resolves({
    Stacks: [{ StackName: 'tvm-prod', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: OUTPUTS }],
  });
  const target = await deployedTarget('tvm-prod', 'eu-west-1');
  try {
    expect(target).toMatchObject({
      description: 'stack tvm-prod in eu-west-1',
      tableName: 'tvm-prod-UserTable-1',
      bucketName: 'tvm-prod-files-1',
      region: 'eu-west-1',
      partition: 'aws',
      vendingRoleName: 'tvm-prod-VendingRole-ABC',
    });
  } finally {
    target.close();
  }
});

it('refuses a stack without the TVM outputs, naming the missing one', async () => {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      { StackName: 'other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: OUTPUTS.slice(0, 2) },
    ],
  });
  await expect(deployedTarget('other', 'eu-west-1')).rejects.toThrow(
    new AdminError('Stack other has no BucketName output; is it a TVM stack?'),
  );
});

it('turns a CloudFormation error into one line and exit code 1', async () => {
  cloudFormation.on(DescribeStacksCommand).rejects(new Error('Stack with id missing does not exist'));
  let err = '';
  const code = await runCli(['--stack', 'missing', '--region', 'eu-west-1', 'users', 'list'], {
    out: () => undefined,
    err: (text) => (err += text),
  });
  expect(code).toBe(1);
  expect(err).toBe('tvm-admin: Could not read stack missing: Stack with id missing does not exist');
});

it('policy prints the session policy for the deployed bucket', async () => {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: 'tvm-prod', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: OUTPUTS }],
  });
  let out = '';
  const code = await runCli(['--stack', 'tvm-prod', '--json', 'policy', 'Alice'], {
    out: (text) => (out += text),
    err: () => undefined,
  });
  expect(code).toBe(0);
  const policy = JSON.parse(out) as { Statement: Array<{ Resource: string }> };
  expect(policy.Statement[0]?.Resource).toBe('arn:aws:s3:::tvm-prod-files-1/alice/*');
});

describe('which stack', () => {
  const saved = process.env.TVM_STACK;
  afterEach(() => {
    if (saved === undefined) delete process.env.TVM_STACK;
    else process.env.TVM_STACK = saved;
  });

  async function actingOn(args: string[]): Promise<{ asked: string | undefined; err: string }> {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'any', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: OUTPUTS }],
    });
    let err = '';
    const code = await runCli([...args, '--region', 'eu-west-1', 'policy', 'alice'], {
      out: () => undefined,
      err: (text) => (err += `${text}\n`),
    });
    expect(code).toBe(0);
    return { asked: cloudFormation.commandCalls(DescribeStacksCommand)[0]?.args[0].input.StackName, err };
  }

  it("acts on the CDK app's default stack, tvm-prod, without --stack or TVM_STACK, and says so", async () => {
    delete process.env.TVM_STACK;
    expect(DEFAULT_STACK).toBe('tvm-prod');
    const { asked, err } = await actingOn([]);
    expect(asked).toBe('tvm-prod');
    expect(err).toBe('tvm-admin: acting on stack tvm-prod in eu-west-1\n');
  });

  it('takes TVM_STACK, and --stack over it', async () => {
    process.env.TVM_STACK = 'tvm-staging';
    expect((await actingOn([])).asked).toBe('tvm-staging');
    cloudFormation.reset();
    expect((await actingOn(['--stack', 'tvm-dev'])).asked).toBe('tvm-dev');
  });

  it('names the default in --help', async () => {
    let out = '';
    await runCli(['--help'], { out: (text) => (out += text), err: () => undefined });
    expect(out).toContain('else TVM_STACK, else tvm-prod');
  });
});

/**
 * Proves the cdk-nag harness the stack tests rely on: an unacknowledged AwsSolutions error
 * fails synthesis, and an acknowledgement covers only the finding it names. (The TVM itself
 * is checked in tvm-stack.test.ts and stack-variants.test.ts, on every synthesis.)
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { staleAcknowledgements, unacknowledgedFindings } from './synth';

// Only cdk-nag is under test; CDK's built-in CloudFormation validation is slow to start.
process.env.CDK_VALIDATION = 'false';

describe('the cdk-nag harness', () => {
  it('make synthesis fail when a check reports an error (negative control)', () => {
    const app = new App();
    const stack = new Stack(app, 'NonCompliant');
    new Bucket(stack, 'PlainBucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(unacknowledgedFindings(app)).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-S10 /)]));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });

  it('accept an acknowledgement only for the finding it names', () => {
    const app = new App();
    const stack = new Stack(app, 'Acknowledged');
    const bucket = new Bucket(stack, 'PlainBucket', { enforceSSL: true });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S10', reason: 'wrong finding on purpose' });
    expect(unacknowledgedFindings(app)).toEqual([expect.stringMatching(/^AwsSolutions-S1 /)]);
  });

  it('report an acknowledgement that covers no finding as stale', () => {
    const app = new App();
    const stack = new Stack(app, 'Stale');
    const bucket = new Bucket(stack, 'LoggedBucket', {
      enforceSSL: true,
      serverAccessLogsBucket: new Bucket(stack, 'Logs', { enforceSSL: true }),
    });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'not needed: the bucket logs' });
    expect(staleAcknowledgements(app)).toEqual(['AwsSolutions-S1 at Stale/LoggedBucket']);
  });
});

/**
 * What STS AssumeRole answers, for a request the TVM makes, for `bench:handlers` (through
 * aws-sdk-client-mock): a small fake, not a DynamoDB one; the keys are obviously fake.
 */
export function fakeAssumeRole(
  input: { DurationSeconds?: number; Policy?: string; RoleSessionName?: string },
  serial: number,
): object {
  if (!input.Policy) throw new Error('AssumeRole without a session policy');
  return {
    Credentials: {
      AccessKeyId: `ASIABENCH${String(serial).padStart(11, '0')}`,
      SecretAccessKey: 'bench-secret-access-key-0000000000000000',
      SessionToken: 'bench-session-token',
      Expiration: new Date(Date.now() + (input.DurationSeconds ?? 3600) * 1000),
    },
    AssumedRoleUser: {
      AssumedRoleId: `AROABENCH:${input.RoleSessionName ?? 'bench'}`,
      Arn: `arn:aws:sts::000000000000:assumed-role/bench/${input.RoleSessionName ?? 'bench'}`,
    },
  };
}

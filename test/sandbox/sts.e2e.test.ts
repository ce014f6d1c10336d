/**
 * The sandbox's local STS, called with the real AWS SDK STS client: AssumeRole validates
 * as AWS documents and answers AWS's error codes, and every issued session is remembered
 * with what the S3 gate needs.
 */
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
  type AssumeRoleCommandInput,
} from '@aws-sdk/client-sts';
import type { Server } from 'node:http';
import { SANDBOX_VENDING_ROLE_ARN } from '../../local/names';
import { newSecretAccessKey } from '../../local/sts/session-store';
import { SessionStore } from '../../local/sts/session-store';
import { startSts } from '../../local/sts/server';
import { StsCredentialIssuer } from '../../lambda/adapters/sts-issuer';
import type { Username } from '../../lambda/accounts/username';
import { BackendThrottledError, toErrorResponse } from '../../lambda/platform/errors';

const sessions = new SessionStore(undefined);
/** The functions' key, random as in a data folder (secrets.ts). */
const functionKey = { accessKeyId: 'AKIAQFUNCTIONKEY2345', secretAccessKey: newSecretAccessKey() };
let server: Server;
let sts: STSClient;
let endpoint: string;

const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tvm-files/dave/*' }],
});
const valid: AssumeRoleCommandInput = {
  RoleArn: SANDBOX_VENDING_ROLE_ARN,
  RoleSessionName: 'dave',
  SourceIdentity: 'dave',
  Policy: policy,
  DurationSeconds: 900,
  Tags: [{ Key: 'username', Value: 'dave' }],
};

function client(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): STSClient {
  return new STSClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof STSServiceException ? error.name : String(error);
  }
}

beforeAll(async () => {
  ({ server, url: endpoint } = await startSts({ sessions, functionKey }));
  sts = client(functionKey);
});

afterAll(async () => {
  sts.destroy();
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
});

test('AssumeRole issues ASIA credentials for the asked duration and remembers the session', async () => {
  const before = Date.now();
  const result = await sts.send(new AssumeRoleCommand(valid));
  const credentials = result.Credentials!;
  expect(credentials.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
  expect(credentials.SecretAccessKey).toHaveLength(40);
  expect(credentials.Expiration!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 899_000);
  expect(credentials.Expiration!.getTime()).toBeLessThanOrEqual(Date.now() + 900_000);
  expect(result.AssumedRoleUser?.Arn).toBe('arn:aws:sts::000000000000:assumed-role/tvm-vending/dave');
  expect(result.SourceIdentity).toBe('dave');
  expect(result.PackedPolicySize).toBeGreaterThan(0);
  expect(sessions.get(credentials.AccessKeyId!)).toMatchObject({
    sessionToken: credentials.SessionToken,
    roleArn: SANDBOX_VENDING_ROLE_ARN,
    roleSessionName: 'dave',
    sourceIdentity: 'dave',
    sessionPolicy: policy,
    tags: { username: 'dave' },
  });
});

test('the issued credentials can call GetCallerIdentity as the assumed role', async () => {
  const { Credentials } = await sts.send(new AssumeRoleCommand(valid));
  const session = client({
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretAccessKey!,
    sessionToken: Credentials!.SessionToken!,
  });
  try {
    expect((await session.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      'arn:aws:sts::000000000000:assumed-role/tvm-vending/dave',
    );
  } finally {
    session.destroy();
  }
});

// The SDK names the wire code MalformedPolicyDocument as MalformedPolicyDocumentException.
test.each([
  ['DurationSeconds below 900', { DurationSeconds: 899 }, 'ValidationError'],
  ['DurationSeconds above the one-hour role-chaining limit', { DurationSeconds: 3601 }, 'ValidationError'],
  ['a session policy that is not JSON', { Policy: '{"Version": "2012-10-17", ' }, 'MalformedPolicyDocumentException'],
  [
    'a session policy without an Effect',
    { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Action: '*', Resource: '*' }] }) },
    'MalformedPolicyDocumentException',
  ],
  [
    'a session policy over 2048 characters',
    {
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: 'x'.repeat(2100), Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    },
    'ValidationError',
  ],
  ['a RoleSessionName with a slash', { RoleSessionName: 'dave/evil' }, 'ValidationError'],
  ['a RoleSessionName of one character', { RoleSessionName: 'd' }, 'ValidationError'],
  ['a RoleSessionName over 64 characters', { RoleSessionName: 'd'.repeat(65) }, 'ValidationError'],
  ['a SourceIdentity starting with aws:', { SourceIdentity: 'aws:dave' }, 'ValidationError'],
  ['a SourceIdentity with a space', { SourceIdentity: 'da ve' }, 'ValidationError'],
  [
    'duplicate tag keys differing only in case',
    {
      Tags: [
        { Key: 'username', Value: 'a' },
        { Key: 'UserName', Value: 'b' },
      ],
    },
    'InvalidParameterValue',
  ],
  ['a tag value with a forbidden character', { Tags: [{ Key: 'username', Value: 'da*ve' }] }, 'ValidationError'],
  ['another role', { RoleArn: 'arn:aws:iam::000000000000:role/admin' }, 'AccessDenied'],
  ['no SourceIdentity, which the vending role’s trust policy requires', { SourceIdentity: undefined }, 'AccessDenied'],
  [
    'a session tag key the vending role’s trust policy does not list',
    {
      Tags: [
        { Key: 'username', Value: 'dave' },
        { Key: 'admin', Value: 'true' },
      ],
    },
    'AccessDenied',
  ],
] as const)('AssumeRole refuses %s', async (_name, change, code) => {
  expect(await errorCode(sts.send(new AssumeRoleCommand({ ...valid, ...change } as AssumeRoleCommandInput)))).toBe(
    code,
  );
});

test('AssumeRole refuses an unknown access key and a wrong secret', async () => {
  const stranger = client({ accessKeyId: 'AKIAQSTRANGERSTRANGE', secretAccessKey: 'x' });
  const forger = client({ accessKeyId: functionKey.accessKeyId, secretAccessKey: 'wrong' });
  try {
    expect(await errorCode(stranger.send(new AssumeRoleCommand(valid)))).toBe('InvalidClientTokenId');
    expect(await errorCode(forger.send(new AssumeRoleCommand(valid)))).toBe('SignatureDoesNotMatch');
  } finally {
    stranger.destroy();
    forger.destroy();
  }
});

test('a vended session cannot itself call AssumeRole to widen its rights', async () => {
  const { Credentials } = await sts.send(new AssumeRoleCommand(valid));
  const session = client({
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretAccessKey!,
    sessionToken: Credentials!.SessionToken!,
  });
  try {
    expect(await errorCode(session.send(new AssumeRoleCommand({ ...valid, Policy: undefined })))).toBe('AccessDenied');
  } finally {
    session.destroy();
  }
});

test('an unsigned request is refused with MissingAuthenticationToken', async () => {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Action=AssumeRole&Version=2011-06-15&RoleArn=x&RoleSessionName=dave',
  });
  expect(response.status).toBe(403);
  expect(await response.text()).toContain('<Code>MissingAuthenticationToken</Code>');
});

describe('the account-wide AssumeRole rate (STS_ASSUME_ROLE_RATE)', () => {
  let limited: { server: Server; url: string };
  let clock = Date.now();
  beforeAll(async () => {
    limited = await startSts({ sessions, functionKey, assumeRoleRate: 3, now: () => clock });
  });
  afterAll(async () => {
    limited.server.closeAllConnections();
    await new Promise<void>((done) => limited.server.close(() => done()));
  });

  test('above the rate AssumeRole answers Throttling (400, "Rate exceeded") as STS does, and the next second has room again', async () => {
    const caller = new STSClient({
      region: 'us-east-1',
      endpoint: limited.url,
      credentials: functionKey,
      maxAttempts: 1,
    });
    try {
      for (let call = 0; call < 3; call++) await caller.send(new AssumeRoleCommand(valid));
      const refused = await caller.send(new AssumeRoleCommand(valid)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(STSServiceException);
      expect([(refused as STSServiceException).name, (refused as STSServiceException).message]).toEqual([
        'Throttling',
        'Rate exceeded',
      ]);
      expect((refused as STSServiceException).$metadata.httpStatusCode).toBe(400);
      // Any caller's GetCallerIdentity is not AssumeRole: the quota does not touch it.
      await expect(caller.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
      clock += 1_000;
      await expect(caller.send(new AssumeRoleCommand(valid))).resolves.toBeDefined();
    } finally {
      caller.destroy();
    }
  });

  test("the TVM's issuer turns Throttling into a 503 with a Retry-After of 1 to 4 s and no AWS text", async () => {
    const issuer = new StsCredentialIssuer(
      new STSClient({ region: 'us-east-1', endpoint: limited.url, credentials: functionKey, maxAttempts: 1 }),
      SANDBOX_VENDING_ROLE_ARN,
    );
    clock += 1_000;
    const counted = new STSClient({
      region: 'us-east-1',
      endpoint: limited.url,
      credentials: functionKey,
      maxAttempts: 1,
    });
    try {
      for (let call = 0; call < 3; call++) await counted.send(new AssumeRoleCommand(valid));
      const refused = await issuer
        .issue({ username: 'dave' as Username, sessionPolicy: policy, durationSeconds: 900 })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BackendThrottledError);
      const response = toErrorResponse(refused);
      expect(response.status).toBe(503);
      expect(Number(response.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
      expect(Number(response.headers['Retry-After'])).toBeLessThanOrEqual(4);
      expect(JSON.stringify(response.body)).not.toMatch(/Rate exceeded|Throttling/);
    } finally {
      counted.destroy();
    }
  });
});

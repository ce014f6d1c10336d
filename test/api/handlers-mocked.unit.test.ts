/**
 * The handlers with aws-sdk-client-mock standing in for DynamoDB and STS: the exact
 * AssumeRole input, and every error path's status and body.
 */
import '../support/handler-env';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import bcrypt from 'bcryptjs';
import { handler as login } from '../../lambda/handlers/login';
import { handler as logout } from '../../lambda/handlers/logout';
import { handler as register } from '../../lambda/handlers/register';
import { handler as token } from '../../lambda/handlers/token';
import { hashSessionToken, newSessionToken } from '../../lambda/sessions/session-token';
import type { Username } from '../../lambda/accounts/username';

const ALICE = 'alice' as Username;
import { bearerPost, bodyOf, jsonPost, lambdaContext } from '../support/api-events';
import { answerBatchGet, answerSessionUse, type BatchGetRequestItems } from '../support/batch-get';

const sts = mockClient(STSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const context = lambdaContext();
const PASSWORD = 'correct horse battery';
const EXPIRATION = new Date('2030-01-01T00:00:00Z');
let aliceHash: string;

const EXPECTED_SESSION_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'OwnFolderObjects',
      Effect: 'Allow',
      Action: [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
        's3:GetObjectTagging',
        's3:PutObjectTagging',
        's3:GetObjectAcl',
        's3:PutObjectAcl',
      ],
      Resource: 'arn:aws:s3:::tvm-test-files/alice/*',
    },
    {
      Sid: 'ListOwnFolderOnly',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::tvm-test-files',
      Condition: { StringLike: { 's3:prefix': ['alice/', 'alice/*'] } },
    },
    { Sid: 'NoEscalation', Effect: 'Deny', Action: ['sts:*', 'iam:*', 'dynamodb:*'], Resource: '*' },
  ],
};

const aliceItem = () => ({ username: 'alice', userId: 'user-id-1', passwordHash: aliceHash, createdAt: 1 });

/** A DynamoDB where alice exists, her counter is fresh and a session token is valid. */
function happyBackends(sessionToken?: string): void {
  dynamo.reset();
  sts.reset();
  // The catch-all first: aws-sdk-client-mock lets a later, narrower matcher win.
  const items = new Map<string, Record<string, unknown>>([['USER#alice', aliceItem()]]);
  if (sessionToken) {
    items.set(`SESSION#${hashSessionToken(sessionToken)}`, {
      tokenHash: hashSessionToken(sessionToken),
      username: 'alice',
      userId: 'user-id-1',
      createdAt: Date.now() - 60_000,
      expiresAt: Date.now() + 60_000,
    });
  }
  const item = (key: { pk: string; sk: string }) =>
    key.sk === 'PROFILE' || key.sk === 'SESSION' ? items.get(key.pk) : undefined;
  dynamo.on(GetCommand).callsFake((input: { Key: { pk: string; sk: string } }) => {
    const found = item(input.Key);
    return found ? { Item: { ...input.Key, ...found } } : {};
  });
  // /token and the other session routes read the session and its user in one BatchGetItem.
  dynamo.on(BatchGetCommand).callsFake((input: { RequestItems: BatchGetRequestItems }) =>
    answerBatchGet(input.RequestItems, (key) => {
      const found = item(key);
      return found ? { ...key, ...found } : undefined;
    }),
  );
  dynamo.on(UpdateCommand).callsFake(answerSessionUse(item));
  dynamo.on(PutCommand).resolves({});
  dynamo.on(DeleteCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'sts-secret',
      SessionToken: 'sts-token',
      Expiration: EXPIRATION,
    },
  });
}

beforeAll(async () => {
  aliceHash = await bcrypt.hash(PASSWORD, 10);
});

beforeEach(() => happyBackends());

describe('rule 7: the exact AssumeRole call', () => {
  const expectedInput = {
    RoleArn: 'arn:aws:iam::123456789012:role/tvm-vending',
    RoleSessionName: 'alice',
    SourceIdentity: 'alice',
    DurationSeconds: 3600,
    Tags: [
      { Key: 'username', Value: 'alice' },
      // The first byte of SHA-256("alice"), 2bd806c9...: alice's revocation group.
      { Key: 'revocationGroup', Value: '2b' },
    ],
  };

  function assumeRoleInput() {
    const calls = sts.commandCalls(AssumeRoleCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    return { ...input, Policy: JSON.parse(input.Policy ?? 'null') };
  }

  it('register passes the rendered session policy, session name, source identity, tag and duration', async () => {
    dynamo.on(GetCommand, { Key: { pk: 'USER#alice', sk: 'PROFILE' } }).resolves({});
    const result = await register(jsonPost('/register', { username: 'Alice', password: PASSWORD }), context);
    expect(result.statusCode).toBe(201);
    expect(assumeRoleInput()).toEqual({ ...expectedInput, Policy: EXPECTED_SESSION_POLICY });
  });

  it('login passes the same input', async () => {
    const result = await login(jsonPost('/login', { username: 'alice', password: PASSWORD }), context);
    expect(result.statusCode).toBe(200);
    expect(assumeRoleInput()).toEqual({ ...expectedInput, Policy: EXPECTED_SESSION_POLICY });
  });

  it('token passes the same input for the session owner', async () => {
    const sessionToken = newSessionToken(ALICE);
    happyBackends(sessionToken);
    const result = await token(bearerPost('/token', sessionToken), context);
    expect(result.statusCode).toBe(200);
    expect(assumeRoleInput()).toEqual({ ...expectedInput, Policy: EXPECTED_SESSION_POLICY });
  });

  it('logout never calls STS', async () => {
    const sessionToken = newSessionToken(ALICE);
    happyBackends(sessionToken);
    expect((await logout(bearerPost('/logout', sessionToken), context)).statusCode).toBe(204);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });
});

describe('success bodies follow the API contract', () => {
  it('register answers 201 with username, session, credentials and storage, and no-store caching', async () => {
    dynamo.on(GetCommand, { Key: { pk: 'USER#alice', sk: 'PROFILE' } }).resolves({});
    const result = await register(jsonPost('/register', { username: 'alice', password: PASSWORD }), context);
    expect(result.statusCode).toBe(201);
    expect(result.headers?.['Cache-Control']).toBe('no-store');
    expect(bodyOf(result)).toEqual({
      username: 'alice',
      session: { token: expect.stringMatching(/^alice\.[A-Za-z0-9_-]{43}$/), expiresAt: expect.any(String) },
      credentials: {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'sts-secret',
        sessionToken: 'sts-token',
        expiration: '2030-01-01T00:00:00.000Z',
      },
      storage: {
        bucket: 'tvm-test-files',
        prefix: 'alice/',
        region: 'eu-west-1',
        usage: { bytes: 0, objects: 0, quotaBytes: null, overQuota: false },
      },
      deviceToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(result.body).not.toContain('passwordHash');
    expect(result.body).not.toContain(aliceHash);
  });
});

describe('error paths: status and body', () => {
  type Case = [label: string, status: number, code: string, run: () => Promise<{ statusCode: number; body: string }>];
  const cases: Case[] = [
    ['register with malformed JSON', 400, 'invalid_request', () => register(jsonPost('/register', '{'), context)],
    [
      'register with text/plain',
      400,
      'invalid_request',
      () => register(jsonPost('/register', 'hi', { 'Content-Type': 'text/plain' }), context),
    ],
    [
      'register with a taken name',
      409,
      'username_taken',
      () => register(jsonPost('/register', { username: 'alice', password: PASSWORD }), context),
    ],
    [
      'login with a wrong password',
      401,
      'invalid_credentials',
      () => login(jsonPost('/login', { username: 'alice', password: 'nope nope' }), context),
    ],
    [
      'login with an unknown user',
      401,
      'invalid_credentials',
      () => login(jsonPost('/login', { username: 'nobody', password: 'nope nope' }), context),
    ],
    [
      'login with a non-string device',
      400,
      'invalid_request',
      () => login(jsonPost('/login', { username: 'alice', password: PASSWORD, device: 7 }), context),
    ],
    ['token without Authorization', 401, 'invalid_credentials', () => token(bearerPost('/token', undefined), context)],
    [
      'token with a malformed bearer',
      401,
      'invalid_credentials',
      () => token(bearerPost('/token', 'not-a-token'), context),
    ],
    [
      'token with an unknown session',
      401,
      'invalid_credentials',
      () => token(bearerPost('/token', newSessionToken(ALICE)), context),
    ],
    [
      'logout with an unknown session',
      401,
      'invalid_credentials',
      () => logout(bearerPost('/logout', newSessionToken(ALICE)), context),
    ],
  ];

  it.each(cases)('%s answers %i %s', async (_label, status, code, run) => {
    const result = await run();
    expect(result.statusCode).toBe(status);
    const body = bodyOf<{ error: { code: string; message: string } }>(result);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(result.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('names the offending field in a 400', async () => {
    const result = await register(jsonPost('/register', { username: 'bad/name', password: PASSWORD }), context);
    expect(bodyOf(result)).toEqual({
      error: {
        code: 'invalid_request',
        field: 'username',
        message: 'username may contain only letters a-z, digits, ".", "_" and "-".',
      },
    });
  });

  it('answers 429 with Retry-After when the counter is locked', async () => {
    dynamo
      .on(UpdateCommand)
      .rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    dynamo.on(GetCommand, { Key: { pk: 'USER#alice', sk: 'LOCKOUT' } }).resolves({
      Item: { attempts: 5, lockedUntil: Date.now() + 600_000, expiresAt: Date.now() + 86_400_000 },
    });
    const result = await login(jsonPost('/login', { username: 'alice', password: PASSWORD }), context);
    expect(result.statusCode).toBe(429);
    expect(Number(result.headers?.['Retry-After'])).toBeGreaterThanOrEqual(599);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'too_many_attempts' } });
  });

  it.each([
    [
      'DynamoDB',
      () => dynamo.on(GetCommand).rejects(new Error('socket hang up from dynamodb.eu-west-1.amazonaws.com')),
    ],
    [
      'STS',
      () =>
        sts
          .on(AssumeRoleCommand)
          .rejects(new Error('AccessDenied: User arn:aws:sts::123:assumed-role/x is not authorized')),
    ],
  ])('answers 503 with Retry-After and no AWS text when %s fails', async (_backend, breakIt) => {
    breakIt();
    const result = await login(jsonPost('/login', { username: 'alice', password: PASSWORD }), context);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('2');
    expect(bodyOf(result)).toEqual({
      error: { code: 'service_unavailable', message: 'The service is temporarily unavailable. Please retry shortly.' },
    });
  });

  it('answers 503 without the text of an error thrown inside the DynamoDB client', async () => {
    dynamo.on(BatchGetCommand).callsFake(() => {
      throw new TypeError('Cannot read properties of undefined (reading secretThing)');
    });
    const result = await token(bearerPost('/token', newSessionToken(ALICE)), context);
    expect(result.statusCode).toBe(503);
    expect(result.body).not.toContain('secretThing');
  });
});

/**
 * Rule 8 (nothing secret is logged) and cold-start configuration: structured JSON logs carry
 * the request id and the username, never a password, session token, secret key, STS session
 * token or password hash; a missing variable stops the handler module from loading.
 */
import '../support/debug-logs';
import '../support/handler-env';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  DeleteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import bcrypt from 'bcryptjs';
import { bearerPost, bodyOf, jsonPost, lambdaContext } from '../support/api-events';
import { answerBatchGet, answerSessionUse, type BatchGetRequestItems } from '../support/batch-get';

const sts = mockClient(STSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const PASSWORD = 'Tr0ub4dor&3-secret';
const STS_SECRET = 'sts-secret-access-key-value';
const STS_SESSION_TOKEN = 'sts-session-token-value';

describe('rule 8: nothing secret is logged', () => {
  it('logs request id and username as JSON, and no password, session token, STS secret or hash', async () => {
    const { handler: register } = await import('../../lambda/handlers/register');
    const { handler: login } = await import('../../lambda/handlers/login');
    const { handler: token } = await import('../../lambda/handlers/token');
    const { handler: logout } = await import('../../lambda/handlers/logout');
    const passwordHash = await bcrypt.hash(PASSWORD, 10);
    const sessions = new Map<string, Record<string, unknown>>();
    const item = (key: { pk: string; sk: string }) =>
      key.pk === 'USER#carol'
        ? key.sk === 'PROFILE'
          ? { ...key, username: 'carol', userId: 'id-1', passwordHash, createdAt: 1 }
          : undefined
        : sessions.get(key.pk);
    dynamo.on(GetCommand).callsFake(async (input: { Key: { pk: string; sk: string } }) => ({ Item: item(input.Key) }));
    dynamo
      .on(BatchGetCommand)
      .callsFake(async (input: { RequestItems: BatchGetRequestItems }) => answerBatchGet(input.RequestItems, item));
    dynamo.on(PutCommand).callsFake(async (input: { Item: Record<string, unknown> & { pk: string } }) => {
      if (input.Item.pk.startsWith('SESSION#')) sessions.set(input.Item.pk, { ...input.Item, userId: 'id-1' });
      return {};
    });
    dynamo.on(UpdateCommand).callsFake(answerSessionUse(item));
    dynamo.on(DeleteCommand).resolves({});
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIALOGTEST',
        SecretAccessKey: STS_SECRET,
        SessionToken: STS_SESSION_TOKEN,
        Expiration: new Date(),
      },
    });

    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      const context = lambdaContext('request-id-for-logs');
      const registered = await register(jsonPost('/register', { username: 'dave', password: PASSWORD }), context);
      const sessionToken = bodyOf<{ session: { token: string } }>(registered).session.token;
      await login(jsonPost('/login', { username: 'carol', password: `${PASSWORD}-wrong` }), context);
      const loggedIn = await login(jsonPost('/login', { username: 'carol', password: PASSWORD }), context);
      const carolToken = bodyOf<{ session: { token: string } }>(loggedIn).session.token;
      await token(bearerPost('/token', carolToken), context);
      sts.on(AssumeRoleCommand).rejects(new Error('STS is down'));
      expect((await token(bearerPost('/token', carolToken), context)).statusCode).toBe(503);
      await logout(bearerPost('/logout', carolToken), context);

      const logs = written.join('');
      for (const secret of [PASSWORD, sessionToken, carolToken, STS_SECRET, STS_SESSION_TOKEN, passwordHash]) {
        expect(logs).not.toContain(secret);
      }
      const lines = written.flatMap((chunk) => chunk.split('\n')).filter((line) => line.trim().startsWith('{'));
      expect(lines.length).toBeGreaterThan(4);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries).toContainEqual(
        expect.objectContaining({
          message: 'audit: login_ok',
          username: 'carol',
          function_request_id: 'request-id-for-logs',
        }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({ message: 'Backend unavailable', backend: 'STS', level: 'ERROR' }),
      );
    } finally {
      jest.restoreAllMocks();
    }
  });
});

describe('configuration is read once at cold start and fails loudly', () => {
  it.each(['TABLE_NAME', 'BUCKET_NAME', 'VENDING_ROLE_ARN', 'AWS_REGION'])(
    'refuses to load a handler module without %s, naming it',
    (variable) => {
      const saved = process.env[variable];
      delete process.env[variable];
      try {
        jest.isolateModules(() => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module load is the point
          expect(() => require('../../lambda/handlers/token')).toThrow(
            `Missing required environment variable ${variable}.`,
          );
        });
      } finally {
        process.env[variable] = saved;
      }
    },
  );

  it('refuses a CREDENTIAL_SECONDS outside 900-3600 at load', () => {
    process.env.CREDENTIAL_SECONDS = '43200';
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module load is the point
        expect(() => require('../../lambda/handlers/login')).toThrow(
          'CREDENTIAL_SECONDS is invalid ("43200"). It must be a whole number from 900 to 3600.',
        );
      });
    } finally {
      delete process.env.CREDENTIAL_SECONDS;
    }
  });
});

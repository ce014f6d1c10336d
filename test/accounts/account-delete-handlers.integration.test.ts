/**
 * The two functions of self-service deletion as Lambda runs them, against dynalite: the
 * `DELETE /account` handler (status, body, caching, every refusal) and the scheduled worker
 * handler, with IAM and S3 replaced by aws-sdk-client-mock so the exact calls it makes on the
 * vending role and the bucket are seen.
 */
import '../support/handler-env';
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DELETION_WORKER } from '../../lambda/workers';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoDeletionQueue } from '../../lambda/adapters/deletion-queue';
import { DynamoUserStore } from '../../lambda/adapters/dynamo/user-store';
import { parseUsername } from '../../lambda/accounts/username';
import { REVOKED_USERS_POLICY_NAME } from '../../policies';
import { randomBytes } from 'node:crypto';
import { DynamoShareStore } from '../../lambda/adapters/dynamo/share-store';
import { DynamoLinkStore } from '../../lambda/adapters/dynamo/link-store';
import { recordShareCutOffs } from '../../lambda/adapters/share-cut-off';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import { parseSharePath } from '../../lambda/sharing/share-path';
import { bearerPost, bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-account-delete-handlers';

// Every DynamoDB command sent, so the worker's can be checked against the rights the stack grants it.
let sent: string[] = [];
type Send = (this: unknown, command: { constructor: { name: string } }, ...rest: unknown[]) => Promise<unknown>;
for (const client of [DynamoDBDocumentClient, DynamoDBClient] as unknown as { prototype: { send: Send } }[]) {
  const original = client.prototype.send;
  client.prototype.send = function recordingSend(this: unknown, command, ...rest) {
    sent.push(command.constructor.name.replace(/Command$/, '').replace(/Item$/, ''));
    return original.call(this, command, ...rest);
  };
}
const PASSWORD = 'correct horse battery';
const context = lambdaContext();
const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const s3 = mockClient(S3Client);
let dynamo: TestDynamoDb;
let register: Handler;
let accountDelete: Handler;
let worker: () => Promise<{ advanced: number; failed: number; sharesApplied: number }>;

const deleteEvent = (token: string | undefined, body: unknown): APIGatewayProxyEvent => ({
  ...bearerPost('/account', token),
  httpMethod: 'DELETE',
  headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), 'Content-Type': 'application/json' },
  body: body === undefined ? null : JSON.stringify(body),
});

async function newUser(username: string): Promise<string> {
  const result = await register(jsonPost('/register', { username, password: PASSWORD }), context);
  expect(result.statusCode).toBe(201);
  return bodyOf<{ session: { token: string } }>(result).session.token;
}

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.IAM_PROPAGATION_SECONDS = '0';
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: 'ASIADELETE',
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
  register = ((await import('../../lambda/handlers/register')) as { handler: Handler }).handler;
  accountDelete = ((await import('../../lambda/handlers/account-delete')) as { handler: Handler }).handler;
  worker = ((await import('../../lambda/handlers/deletion-worker')) as { handler: typeof worker }).handler;
});

beforeEach(() => {
  iam.reset();
  s3.reset();
  iam.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'none', $metadata: {} }));
  iam.on(PutRolePolicyCommand).resolves({});
  iam.on(DeleteRolePolicyCommand).resolves({});
  s3.on(ListMultipartUploadsCommand).resolves({ Uploads: [] });
  s3.on(DeleteObjectsCommand).resolves({});
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  delete process.env.IAM_PROPAGATION_SECONDS;
  sts.restore();
  iam.restore();
  s3.restore();
  await dynamo.stop();
});

describe('DELETE /account handler', () => {
  it('answers 202 {deletion: {status, completesAfter}}, uncached, and the session is dead after it', async () => {
    const token = await newUser('hd-alice');
    const result = await accountDelete(deleteEvent(token, { currentPassword: PASSWORD }), context);
    expect(result.statusCode).toBe(202);
    expect(result.headers?.['Cache-Control']).toBe('no-store');
    const { deletion } = bodyOf<{ deletion: { status: string; completesAfter: string } }>(result);
    expect(deletion.status).toBe('pending');
    expect(new Date(deletion.completesAfter).toISOString()).toBe(deletion.completesAfter);
    // The session is revoked: the same request again is a 401.
    expect((await accountDelete(deleteEvent(token, { currentPassword: PASSWORD }), context)).statusCode).toBe(401);
  });

  it('refuses a missing, empty, doubled or unknown proof with 400, a wrong password or missing bearer with 401', async () => {
    const token = await newUser('hd-bob');
    const refusals = [
      { body: undefined, status: 400 },
      { body: {}, status: 400 },
      { body: { currentPassword: PASSWORD, code: '123456' }, status: 400 },
      { body: { currentPassword: PASSWORD, force: 'yes' }, status: 400 },
      { body: { currentPassword: 'not the password' }, status: 401 },
    ];
    for (const { body, status } of refusals) {
      const result = await accountDelete(deleteEvent(token, body), context);
      expect({ body, status: result.statusCode }).toEqual({ body, status });
      expect(result.body).not.toMatch(/dynamo|aws|stack/i);
    }
    expect((await accountDelete(deleteEvent(undefined, { currentPassword: PASSWORD }), context)).statusCode).toBe(401);
    // None of those queued anything or changed bob.
    expect(await new DynamoDeletionQueue(dynamo.client, TABLE).get(parseUsername('hd-bob'))).toBeUndefined();
    expect(await new DynamoUserStore(dynamo.client, TABLE).getUser(parseUsername('hd-bob'))).toMatchObject({
      disabled: false,
      sessionGeneration: 0,
    });
  });
});

describe('deletion worker handler', () => {
  beforeAll(async () => {
    // Finishes hd-alice's request from above, so each test below sees only its own.
    s3.on(ListObjectVersionsCommand).resolves({});
    for (let run = 0; run < 2; run++) await worker();
  });

  it('puts the cut-off on the vending role first, then deletes every version under the folder alone, then holds the name', async () => {
    const token = await newUser('hd-carol');
    expect((await accountDelete(deleteEvent(token, { currentPassword: PASSWORD }), context)).statusCode).toBe(202);
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        Versions: [
          { Key: 'hd-carol/a.txt', VersionId: 'v1' },
          { Key: 'hd-carol/a.txt', VersionId: 'v2' },
        ],
        DeleteMarkers: [{ Key: 'hd-carol/b.txt', VersionId: 'm1' }],
      })
      .resolves({});

    sent = [];
    expect(await worker()).toEqual({ advanced: 1, failed: 0, sharesApplied: 0 });
    const put = iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input);
    expect(put).toEqual([expect.objectContaining({ RoleName: 'tvm-vending', PolicyName: REVOKED_USERS_POLICY_NAME })]);
    expect(put[0]?.PolicyDocument).toContain('hd-carol');
    expect(s3.commandCalls(DeleteObjectsCommand)).toEqual([]);

    expect(await worker()).toEqual({ advanced: 1, failed: 0, sharesApplied: 0 });
    expect(s3.commandCalls(ListObjectVersionsCommand).map((call) => call.args[0].input.Prefix)).toEqual([
      'hd-carol/',
      'hd-carol/',
    ]);
    expect(s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input.Delete?.Objects)).toEqual([
      [
        { Key: 'hd-carol/a.txt', VersionId: 'v1' },
        { Key: 'hd-carol/a.txt', VersionId: 'v2' },
        { Key: 'hd-carol/b.txt', VersionId: 'm1' },
      ],
    ]);
    const again = await register(jsonPost('/register', { username: 'hd-carol', password: PASSWORD }), context);
    expect(again.statusCode).toBe(409);
    // Finished: later sweeps have nothing to do.
    expect(await worker()).toEqual({ advanced: 0, failed: 0, sharesApplied: 0 });
    // Every DynamoDB call of the whole deletion is one the stack grants the worker.
    const actions = [...new Set(sent)].map((name) => (name === 'Query' ? name : `${name}Item`));
    expect(actions.filter((action) => !(DELETION_WORKER.tableActions as readonly string[]).includes(action))).toEqual(
      [],
    );
    expect(actions).toEqual(expect.arrayContaining(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']));
  });

  it('a failing S3 leaves the request queued, the files and the records in place; the next run completes it', async () => {
    const token = await newUser('hd-dave');
    expect((await accountDelete(deleteEvent(token, { currentPassword: PASSWORD }), context)).statusCode).toBe(202);
    expect(await worker()).toEqual({ advanced: 1, failed: 0, sharesApplied: 0 });
    s3.on(ListObjectVersionsCommand).rejects(new Error('S3 is down'));
    expect(await worker()).toEqual({ advanced: 0, failed: 1, sharesApplied: 0 });
    expect(await new DynamoUserStore(dynamo.client, TABLE).getUser(parseUsername('hd-dave'))).toMatchObject({
      disabled: true,
    });
    expect(await new DynamoDeletionQueue(dynamo.client, TABLE).get(parseUsername('hd-dave'))).toMatchObject({
      cutOffAppliedAt: expect.any(Number),
    });
    s3.on(ListObjectVersionsCommand).resolves({});
    expect(await worker()).toEqual({ advanced: 1, failed: 0, sharesApplied: 0 });
    expect(await worker()).toEqual({ advanced: 0, failed: 0, sharesApplied: 0 });
  });

  it('applies a share cut-off an API function recorded on its next run, and writes nothing more once none is pending', async () => {
    const store = new DynamoRevocationStore(dynamo.client, TABLE);
    const id = randomBytes(24).toString('base64url');
    await recordShareCutOffs(store, [id], { cutOffMarginMs: 1000, maxCredentialSeconds: 3600 });
    expect(await worker()).toEqual({ advanced: 0, failed: 0, sharesApplied: 1 });
    const put = iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input);
    expect(put).toHaveLength(1);
    expect(put[0]?.PolicyDocument).toContain(id);
    expect(await worker()).toEqual({ advanced: 0, failed: 0, sharesApplied: 0 });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
  });

  it('deleting an owner cuts off the shares they gave with their own cut-off, then removes them and their links', async () => {
    const token = await newUser('hd-erin');
    await newUser('hd-frank');
    const users = new DynamoUserStore(dynamo.client, TABLE);
    const [erin, frank] = [parseUsername('hd-erin'), parseUsername('hd-frank')];
    const shares = new DynamoShareStore(dynamo.client, TABLE);
    const share = {
      id: randomBytes(24).toString('base64url'),
      owner: erin,
      ownerUserId: (await users.getUser(erin))!.userId,
      grantee: frank,
      granteeUserId: (await users.getUser(frank))!.userId,
      path: parseSharePath('photos/'),
      access: 'read' as const,
      createdAt: Date.now(),
    };
    await shares.put(share);
    const links = new DynamoLinkStore(dynamo.client, TABLE);
    await links.put({
      id: randomBytes(24).toString('base64url'),
      owner: erin,
      ownerUserId: share.ownerUserId,
      path: parseSharePath('photos/a.jpg', 'path', { file: true }),
      createdAt: Date.now(),
    });
    expect((await accountDelete(deleteEvent(token, { currentPassword: PASSWORD }), context)).statusCode).toBe(202);
    s3.on(ListObjectVersionsCommand).resolves({});

    sent = [];
    expect(await worker()).toMatchObject({ advanced: 1, failed: 0 });
    const put = iam.commandCalls(PutRolePolicyCommand).map((call) => call.args[0].input.PolicyDocument);
    expect(put.at(-1)).toContain(share.id);
    expect(put.at(-1)).toContain('hd-erin');
    expect(await shares.listReceived(frank)).toHaveLength(1);

    expect(await worker()).toMatchObject({ advanced: 1, failed: 0 });
    expect(await shares.listGiven(erin)).toEqual([]);
    expect(await shares.listReceived(frank)).toEqual([]);
    expect(await links.listByOwner(erin)).toEqual([]);
    const actions = [...new Set(sent)].map((name) => (name === 'Query' ? name : `${name}Item`));
    expect(actions.filter((action) => !(DELETION_WORKER.tableActions as readonly string[]).includes(action))).toEqual(
      [],
    );
  });
});

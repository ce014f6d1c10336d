/**
 * The one-round-trip read behind every session route (/token's first stage): a BatchGetItem
 * for the session, the user its token names and that user's folder totals (the quota), against dynalite for DynamoDB's semantics,
 * and against a mocked client for what dynalite never does (keys left unprocessed).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { dynamoStores, type DynamoStores } from '../../lambda/adapters/dynamo/stores';
import { BackendUnavailableError } from '../../lambda/platform/errors';
import type { SessionRecord } from '../../lambda/sessions/ports';
import type { UserRecord } from '../../lambda/accounts/ports';
import { parseUsername } from '../../lambda/accounts/username';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-session-with-user';
const NOW = Date.UTC(2026, 11, 2);
let dynamo: TestDynamoDb;
let store: DynamoStores;
let serial = 0;

const user = (name: string): UserRecord => ({
  username: parseUsername(name),
  userId: `id-${name}`,
  passwordHash: 'tvm2$not-a-real-hash',
  createdAt: NOW,
  disabled: false,
  sessionGeneration: 0,
});
const session = (name: string, tokenHash: string): SessionRecord => ({
  tokenHash,
  sessionId: `sid-${tokenHash}`,
  username: parseUsername(name),
  userId: `id-${name}`,
  generation: 0,
  createdAt: NOW,
  expiresAt: NOW + 86_400_000,
});
const fresh = (prefix: string) => `${prefix}-${++serial}`;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  store = dynamoStores(dynamo.client, TABLE);
});

afterAll(() => dynamo.stop());

describe('getSessionWithUser against dynalite', () => {
  it('answers both records exactly as the single reads do', async () => {
    const name = fresh('both');
    await store.users.createUser(user(name));
    await store.sessions.putSession(session(name, `hash-${name}`));
    const together = await store.sessions.getSessionWithUser(`hash-${name}`, parseUsername(name));
    expect(together).toEqual({
      session: await store.sessions.getSession(`hash-${name}`),
      user: await store.users.getUser(parseUsername(name)),
      usage: { bytes: 0, objects: 0 },
    });
    expect(together.user?.username).toBe(name);
    expect(together.session?.tokenHash).toBe(`hash-${name}`);
  });

  it('answers the user alone when the session is gone, and the session alone when the user is', async () => {
    const name = fresh('half');
    await store.users.createUser(user(name));
    expect(await store.sessions.getSessionWithUser(`hash-none-${name}`, parseUsername(name))).toEqual({
      user: await store.users.getUser(parseUsername(name)),
      usage: { bytes: 0, objects: 0 },
    });
    await store.sessions.putSession(session(name, `hash-${name}`));
    const other = parseUsername(fresh('nobody'));
    expect(await store.sessions.getSessionWithUser(`hash-${name}`, other)).toEqual({
      session: await store.sessions.getSession(`hash-${name}`),
    });
  });

  it("carries the folder's totals from the meter's USAGE item in the same read; an empty folder without one or with another account's", async () => {
    const name = fresh('usage');
    await store.users.createUser(user(name));
    await store.sessions.putSession(session(name, `hash-${name}`));
    expect((await store.sessions.getSessionWithUser(`hash-${name}`, parseUsername(name))).usage).toEqual({
      bytes: 0,
      objects: 0,
    });
    await dynamo.client.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          ...KEYS.usage(parseUsername(name)),
          bytes: 1_200_000,
          objects: 7,
          userId: `id-${name}`,
          updatedAt: NOW,
        },
      }),
    );
    expect((await store.sessions.getSessionWithUser(`hash-${name}`, parseUsername(name))).usage).toEqual({
      bytes: 1_200_000,
      objects: 7,
    });
    // What an earlier account of the same name left counts nothing for this one.
    await dynamo.client.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...KEYS.usage(parseUsername(name)), bytes: 5, objects: 1, userId: 'id-of-a-deleted-account' },
      }),
    );
    expect((await store.sessions.getSessionWithUser(`hash-${name}`, parseUsername(name))).usage).toEqual({
      bytes: 0,
      objects: 0,
    });
  });

  it('answers no user for a held (deleted) name, as getUser does', async () => {
    const name = fresh('held');
    await store.users.createUser(user(name));
    await store.sessions.putSession(session(name, `hash-${name}`));
    expect(await store.users.holdName(parseUsername(name), `id-${name}`, NOW + 3_600_000)).toBe(true);
    const together = await store.sessions.getSessionWithUser(`hash-${name}`, parseUsername(name));
    expect(together.user).toBeUndefined();
    expect(together.session?.username).toBe(name);
  });

  it('reads a write made just before it (strongly consistent)', async () => {
    const name = fresh('fresh');
    await store.users.createUser(user(name));
    await store.sessions.putSession(session(name, `hash-${name}`));
    await store.sessions.touchSession(`hash-${name}`, NOW + 5);
    expect((await store.sessions.getSessionWithUser(`hash-${name}`, parseUsername(name))).session?.lastUsedAt).toBe(
      NOW + 5,
    );
  });
});

describe('getSessionWithUser when DynamoDB leaves keys unprocessed', () => {
  // Mocking the class mocks every instance: only from here on, so the dynalite tests above are real.
  let documents: AwsClientStub<DynamoDBDocumentClient>;
  const mocked = dynamoStores(new DynamoDBClient({ region: 'us-east-1' }), TABLE).sessions;
  const alice = parseUsername('alice');
  const aliceItem = { pk: 'USER#alice', sk: 'PROFILE', ...user('alice') };
  const sessionItem = { pk: 'SESSION#h', sk: 'SESSION', ...session('alice', 'h') };

  beforeAll(() => {
    documents = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  it('asks again for the keys left over and combines the answers', async () => {
    documents
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [sessionItem] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'USER#alice', sk: 'PROFILE' }], ConsistentRead: true } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [aliceItem] }, UnprocessedKeys: {} });
    const together = await mocked.getSessionWithUser('h', alice);
    expect(together.user?.username).toBe('alice');
    expect(together.session?.tokenHash).toBe('h');
    const calls = documents.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems?.[TABLE]).toEqual({
      Keys: [{ pk: 'USER#alice', sk: 'PROFILE' }],
      ConsistentRead: true,
    });
  });

  it('gives up with a 503 after three tries that each leave keys unprocessed', async () => {
    documents.on(BatchGetCommand).resolves({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'USER#alice', sk: 'PROFILE' }] } },
    });
    await expect(mocked.getSessionWithUser('h', alice)).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(documents.commandCalls(BatchGetCommand)).toHaveLength(3);
  });

  it('turns a failing call into a 503 that keeps the cause for the logs only', async () => {
    documents
      .on(BatchGetCommand)
      .rejects(new Error('ProvisionedThroughputExceededException from dynamodb.eu-west-1.amazonaws.com'));
    const failure = await mocked.getSessionWithUser('h', alice).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect((failure as Error).message).not.toContain('amazonaws');
  });
});

/**
 * A session write the SDK retried: the first attempt timed out after DynamoDB applied it, so
 * the retry meets its own item and fails the "new session" condition. That is success, not a
 * 503; a different session under the same hash (which a random hash never gives) stays a 503.
 * Against dynalite, replaying the very write, and against a mocked client for the retry itself.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { DynamoSessionStore } from '../../lambda/adapters/dynamo/session-store';
import { BackendUnavailableError } from '../../lambda/platform/errors';
import type { SessionRecord } from '../../lambda/sessions/ports';
import { parseUsername } from '../../lambda/accounts/username';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-put-session-retry';
const NOW = Date.UTC(2026, 11, 2);
const session = (tokenHash: string, sessionId = `sid-${tokenHash}`): SessionRecord => ({
  tokenHash,
  sessionId,
  username: parseUsername('alice'),
  userId: 'id-alice',
  generation: 0,
  createdAt: NOW,
  expiresAt: NOW + 86_400_000,
});

describe('against dynalite', () => {
  let dynamo: TestDynamoDb;
  let store: DynamoSessionStore;
  beforeAll(async () => {
    dynamo = await startDynalite(TABLE);
    store = new DynamoSessionStore(dynamo.client, TABLE);
  });
  afterAll(() => dynamo.stop());

  it('accepts the same write sent twice, and stores the session once', async () => {
    await store.putSession(session('h1'));
    await expect(store.putSession(session('h1'))).resolves.toBeUndefined();
    expect(await store.getSession('h1')).toMatchObject({ sessionId: 'sid-h1' });
  });

  it('refuses another session under a hash already taken, with a 503, and keeps the first', async () => {
    await store.putSession(session('h2'));
    await expect(store.putSession(session('h2', 'someone-else'))).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await store.getSession('h2')).toMatchObject({ sessionId: 'sid-h2' });
  });
});

describe('when the SDK retries a write that went through', () => {
  let documents: AwsClientStub<DynamoDBDocumentClient>;
  const store = new DynamoSessionStore(new DynamoDBClient({ region: 'us-east-1' }), TABLE);
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  beforeAll(() => {
    documents = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  it('reads the item back and succeeds when it is this session', async () => {
    documents.on(PutCommand).rejects(conditionFailed());
    documents.on(GetCommand).resolves({ Item: { pk: 'SESSION#h', sk: 'SESSION', ...session('h') } });
    await expect(store.putSession(session('h'))).resolves.toBeUndefined();
    expect(documents.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'SESSION#h', sk: 'SESSION' },
      ConsistentRead: true,
    });
  });

  it('answers a 503 when the item read back is gone or another session', async () => {
    documents.on(PutCommand).rejects(conditionFailed());
    documents
      .on(GetCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: { pk: 'SESSION#h', sk: 'SESSION', ...session('h', 'other') } });
    await expect(store.putSession(session('h'))).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(store.putSession(session('h'))).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('answers a 503 for any other failure, without reading', async () => {
    documents.on(PutCommand).rejects(new Error('socket hang up'));
    await expect(store.putSession(session('h'))).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });
});

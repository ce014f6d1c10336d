/**
 * Self-service deletions waiting for the worker (lambda/core/account-deletion.ts), in the
 * TVM's table (layout in table-layout.ts): one item per user under the `DELETIONS` partition,
 * so the worker finds every one with one Query.
 */
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BackendUnavailableError } from '../core/errors';
import type { DeletionQueue, DeletionRequest } from '../core/account-deletion';
import { isUsername, type Username } from '../core/username';
import { unavailable } from './dynamo-store';

const PARTITION = 'DELETIONS';
const ENTRY = 'USER#';
const requestKey = (username: Username) => ({ pk: PARTITION, sk: `${ENTRY}${username}` });

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof BackendUnavailableError ? error : unavailable(error);
  }
}

/** {@link DeletionQueue} on DynamoDB: strongly consistent reads, one item per user. */
export class DynamoDeletionQueue implements DeletionQueue {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async put(request: DeletionRequest): Promise<void> {
    await guarded(() => this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...requestKey(request.username), ...request } })));
  }

  async get(username: Username): Promise<DeletionRequest | undefined> {
    const { Item } = await guarded(() => this.documents.send(new GetCommand({ TableName: this.tableName, Key: requestKey(username), ConsistentRead: true })));
    return Item ? toRequest(Item) : undefined;
  }

  async list(): Promise<DeletionRequest[]> {
    const requests: DeletionRequest[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await guarded(() =>
        this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
            ExpressionAttributeValues: { ':pk': PARTITION, ':entry': ENTRY },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      requests.push(...(page.Items ?? []).map(toRequest));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return requests;
  }

  async remove(username: Username): Promise<void> {
    await guarded(() => this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: requestKey(username) })));
  }
}

/** A stored request, re-checked: a tampered item must never name a folder to delete. */
function toRequest(item: Record<string, unknown>): DeletionRequest {
  const { username, userId, cutOffAt, requestedAt, cutOffAppliedAt } = item;
  if (typeof username !== 'string' || !isUsername(username) || typeof userId !== 'string' || typeof cutOffAt !== 'number' || typeof requestedAt !== 'number') {
    throw new BackendUnavailableError('DynamoDB (corrupt deletion request)');
  }
  return { username, userId, cutOffAt, requestedAt, ...(typeof cutOffAppliedAt === 'number' ? { cutOffAppliedAt } : {}) };
}

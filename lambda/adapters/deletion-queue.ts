/**
 * Self-service deletions waiting for the worker (lambda/accounts/account-deletion.ts), in the
 * TVM's table (layout in table-layout.ts): one item per user under the `DELETIONS` partition,
 * so the worker finds every one with one Query.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BackendUnavailableError } from '../platform/errors';
import type { DeletionQueue, DeletionRequest } from '../accounts/account-deletion';
import { isUsername, type Username } from '../accounts/username';
import { documentClient, guarded, queryPartition } from './dynamo/helpers';
import { KEYS } from './dynamo/table-layout';

const requestKey = KEYS.deletion;

/** {@link DeletionQueue} on DynamoDB: strongly consistent reads, one item per user. */
export class DynamoDeletionQueue implements DeletionQueue {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = documentClient(client);
  }

  async put(request: DeletionRequest): Promise<void> {
    await guarded(() =>
      this.documents.send(
        new PutCommand({ TableName: this.tableName, Item: { ...requestKey(request.username), ...request } }),
      ),
    );
  }

  async get(username: Username): Promise<DeletionRequest | undefined> {
    const { Item } = await guarded(() =>
      this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: requestKey(username), ConsistentRead: true }),
      ),
    );
    return Item ? toRequest(Item) : undefined;
  }

  async list(): Promise<DeletionRequest[]> {
    return (
      await queryPartition(this.documents, this.tableName, KEYS.deletionEntries.pk, KEYS.deletionEntries.skPrefix)
    ).map(toRequest);
  }

  async remove(username: Username): Promise<void> {
    await guarded(() =>
      this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: requestKey(username) })),
    );
  }
}

/** A stored request, re-checked: a tampered item must never name a folder to delete. */
function toRequest(item: Record<string, unknown>): DeletionRequest {
  const { username, userId, cutOffAt, requestedAt, cutOffAppliedAt } = item;
  if (
    typeof username !== 'string' ||
    !isUsername(username) ||
    typeof userId !== 'string' ||
    typeof cutOffAt !== 'number' ||
    typeof requestedAt !== 'number'
  ) {
    throw new BackendUnavailableError('DynamoDB (corrupt deletion request)');
  }
  return {
    username,
    userId,
    cutOffAt,
    requestedAt,
    ...(typeof cutOffAppliedAt === 'number' ? { cutOffAppliedAt } : {}),
  };
}

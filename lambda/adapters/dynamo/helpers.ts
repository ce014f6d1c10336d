/** What every DynamoDB store shares: the document client, fault mapping, and the partition read. */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type DeleteCommand,
  type PutCommand,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isUsername, type Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import type { ItemKey } from './table-layout';

/** The document client every store uses: `undefined` attributes are left out, never written. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Whether DynamoDB refused a write because its condition failed. */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** Any DynamoDB fault other than a failed condition is a 503: the cause is kept for logs only. */
export function unavailable(error: unknown): BackendUnavailableError {
  return new BackendUnavailableError('DynamoDB', { cause: error });
}

/** Runs one call; any fault but an already mapped one becomes {@link unavailable}. */
export async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof BackendUnavailableError ? error : unavailable(error);
  }
}

/**
 * Every item of one partition whose sort key starts with `sortKeyPrefix`, page by page, with
 * strong consistency (the revocation list and the deletion queue: small partitions read whole).
 */
export async function queryPartition(
  documents: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
  sortKeyPrefix: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await guarded(() =>
      documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
          ExpressionAttributeValues: { ':pk': partition, ':entry': sortKeyPrefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** DynamoDB TTL reads epoch seconds. */
export function ttlSeconds(epochMs: number): number {
  return Math.ceil(epochMs / 1000);
}

/** Usernames read back are re-checked: a tampered item must not reach a policy or a log. */
export function storedUsername(value: unknown, what = 'user'): Username {
  if (typeof value !== 'string' || !isUsername(value))
    throw new BackendUnavailableError(`DynamoDB (corrupt ${what} item)`);
  return value;
}

/** A write command of the document client. */
export type WriteCommand = PutCommand | UpdateCommand | DeleteCommand;

/** The TVM's table as every store uses it: strongly consistent reads, writes mapped to 503 on any fault. */
export class DynamoTable {
  readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly name: string,
  ) {
    this.documents = documentClient(client);
  }

  /** One item, read with strong consistency. */
  async get(key: ItemKey): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.documents.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }))).Item;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Runs a write; any fault (a failed condition included) is a 503 whose cause tells which. */
  async write(command: WriteCommand): Promise<void> {
    try {
      // The union confuses send's overloads; each member is a valid document command.
      await this.documents.send(command as PutCommand);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Runs a conditional write: false when its condition failed, 503 on any other fault. */
  async conditional(command: WriteCommand): Promise<boolean> {
    try {
      await this.documents.send(command as UpdateCommand);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }
}

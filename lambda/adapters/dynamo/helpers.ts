/** What every DynamoDB store shares: the document client, fault mapping, and the partition read. */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BackendUnavailableError } from '../../platform/errors';

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

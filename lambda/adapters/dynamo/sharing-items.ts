/**
 * What the share and link stores share: the per-owner counter on the user item, reads of many
 * canonical records at once, and the checks on records read back (a tampered item must not
 * reach a policy).
 */
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Username } from '../../accounts/username';
import { SHARE_ACCESS_LEVELS, type ShareAccess } from '../../contract/wire';
import { BackendUnavailableError } from '../../platform/errors';
import { isSharePath, type SharePath } from '../../sharing/share-path';
import { unavailable, type DynamoTable } from './helpers';
import { KEYS, type ItemKey } from './table-layout';

/** DynamoDB's most keys per BatchGetItem. */
const BATCH_GET_MAX_KEYS = 100;
/** How often a BatchGetItem is sent before keys it leaves unprocessed make a 503. */
const BATCH_GET_ATTEMPTS = 3;
/** The wait before asking again for unprocessed keys, doubled each time (AWS advises backing off). */
const BATCH_GET_BACKOFF_MS = 25;

/** The user item's attribute counting one owner's records of a kind. */
export type CountAttribute = 'shareCount' | 'linkCount';

/**
 * Raises the owner's count by one if it is below `max` and the user item is still
 * registration `ownerUserId` (a hold on a deleted name has no `userId`): false otherwise.
 */
export function reservePlace(
  table: DynamoTable,
  attribute: CountAttribute,
  owner: Username,
  ownerUserId: string,
  max: number,
): Promise<boolean> {
  return table.conditional(
    new UpdateCommand({
      TableName: table.name,
      Key: KEYS.user(owner),
      UpdateExpression: 'SET #count = if_not_exists(#count, :zero) + :one',
      ConditionExpression: 'userId = :userId AND (attribute_not_exists(#count) OR #count < :max)',
      ExpressionAttributeNames: { '#count': attribute },
      ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':userId': ownerUserId, ':max': max },
    }),
  );
}

/** Sets the owner's count after a recount, if the user item is still that registration. */
export async function setPlaces(
  table: DynamoTable,
  attribute: CountAttribute,
  owner: Username,
  ownerUserId: string,
  count: number,
): Promise<void> {
  await table.conditional(
    new UpdateCommand({
      TableName: table.name,
      Key: KEYS.user(owner),
      UpdateExpression: 'SET #count = :count',
      ConditionExpression: 'userId = :userId',
      ExpressionAttributeNames: { '#count': attribute },
      ExpressionAttributeValues: { ':count': count, ':userId': ownerUserId },
    }),
  );
}

/** Lowers the owner's count by one (never below zero), if the user item is still that registration. */
export async function releasePlace(
  table: DynamoTable,
  attribute: CountAttribute,
  owner: Username,
  ownerUserId: string,
): Promise<void> {
  await table.conditional(
    new UpdateCommand({
      TableName: table.name,
      Key: KEYS.user(owner),
      UpdateExpression: 'SET #count = #count - :one',
      ConditionExpression: 'userId = :userId AND #count > :zero',
      ExpressionAttributeNames: { '#count': attribute },
      ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':userId': ownerUserId },
    }),
  );
}

/** Every item of `keys` that exists, read consistently in batches of 100 (in no particular order). */
export async function batchGetItems(table: DynamoTable, keys: readonly ItemKey[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_MAX_KEYS) {
    let pending: Record<string, unknown>[] = keys.slice(start, start + BATCH_GET_MAX_KEYS).map((key) => ({ ...key }));
    try {
      for (let attempt = 0; attempt < BATCH_GET_ATTEMPTS && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(BATCH_GET_BACKOFF_MS * 2 ** (attempt - 1));
        const result = await table.documents.send(
          new BatchGetCommand({ RequestItems: { [table.name]: { Keys: pending, ConsistentRead: true } } }),
        );
        items.push(...(result.Responses?.[table.name] ?? []));
        pending = result.UnprocessedKeys?.[table.name]?.Keys ?? [];
      }
    } catch (error) {
      throw unavailable(error);
    }
    if (pending.length > 0) throw unavailable(new Error(`BatchGetItem left ${pending.length} keys unprocessed`));
  }
  return items;
}

/** A corrupt sharing item: a 503, never a policy built from it. */
export function corrupt(what: string): BackendUnavailableError {
  return new BackendUnavailableError(`DynamoDB (corrupt ${what} item)`);
}

/** A stored shared path, re-checked. */
export function storedSharePath(value: unknown, what: string): SharePath {
  if (typeof value !== 'string' || !isSharePath(value)) throw corrupt(what);
  return value;
}

/** A stored access level, re-checked. */
export function storedAccess(value: unknown): ShareAccess {
  if (typeof value !== 'string' || !(SHARE_ACCESS_LEVELS as readonly string[]).includes(value)) throw corrupt('share');
  return value as ShareAccess;
}

/** A stored string field. */
export function storedString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw corrupt(what);
  return value;
}

/** A stored epoch-ms field. */
export function storedTime(value: unknown, what: string): number {
  const time = Number(value);
  if (!Number.isFinite(time)) throw corrupt(what);
  return time;
}

/** An optional stored epoch-ms field. */
export function optionalTime(value: unknown, what: string): number | undefined {
  return value === undefined || value === null ? undefined : storedTime(value, what);
}

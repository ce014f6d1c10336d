/**
 * A folder's totals as the meter keeps them (`USER#<username> / USAGE`, table-layout.ts), read
 * by every vend (with the reads it already makes) and by the over-quota cut-off.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import { EMPTY_USAGE, type UsageTotals } from '../../usage/quota';
import type { StoredUsage, StoredUsageReader, UsageTotalsReader } from '../../usage/quota-enforcer';
import { DynamoTable } from './helpers';
import { KEYS } from './table-layout';

/**
 * A stored USAGE item's totals for registration `registration` (the user's `userId`); no item
 * (the meter has counted nothing yet), or one an earlier account of the same name left
 * (lambda/adapters/dynamo/usage-store.ts), is an empty folder.
 */
export function toUsageTotals(item: Record<string, unknown> | undefined, registration: string): UsageTotals {
  if (item === undefined || item.userId !== registration) return EMPTY_USAGE;
  const { bytes, objects } = item;
  if (
    typeof bytes !== 'number' ||
    typeof objects !== 'number' ||
    !Number.isSafeInteger(bytes) ||
    !Number.isSafeInteger(objects)
  ) {
    throw new BackendUnavailableError('DynamoDB (corrupt usage item)');
  }
  // A total below zero would be a meter fault: it counts as nothing held, never as credit.
  return { bytes: Math.max(0, bytes), objects: Math.max(0, objects) };
}

/** {@link UsageTotalsReader} and {@link StoredUsageReader} on the TVM's table (a strongly consistent GetItem). */
export class DynamoUsageTotals implements UsageTotalsReader, StoredUsageReader {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async usageTotals(username: Username, registration: string): Promise<UsageTotals> {
    return toUsageTotals(await this.table.get(KEYS.usage(username)), registration);
  }

  async storedUsage(username: Username): Promise<StoredUsage | undefined> {
    const item = await this.table.get(KEYS.usage(username));
    if (item === undefined || typeof item.userId !== 'string') return undefined;
    return { registration: item.userId, totals: toUsageTotals(item, item.userId) };
  }
}

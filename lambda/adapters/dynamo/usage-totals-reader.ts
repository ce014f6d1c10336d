/**
 * The meter's totals of many users at once, for the operator's report: BatchGetItem, 100 keys
 * a call, unprocessed keys asked again; each item read by the vend's own rule (toUsageTotals:
 * an item of an earlier registration of the name counts as nothing).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Username } from '../../accounts/username';
import type { UsageTotals } from '../../usage/quota';
import { documentClient, guarded } from './helpers';
import { KEYS } from './table-layout';
import { toUsageTotals } from './usage-totals';

/** DynamoDB's limit of keys in one BatchGetItem. */
const KEYS_PER_BATCH = 100;
const ATTEMPTS = 6;

/** The totals of `users` (by username; registration = the user's `userId`). */
export async function readUsageTotals(
  client: DynamoDBClient,
  tableName: string,
  users: readonly { readonly username: Username; readonly registration: string }[],
): Promise<Map<Username, UsageTotals>> {
  const usernames = users.map((user) => user.username);
  const registrations = new Map(users.map((user) => [user.username, user.registration]));
  const documents = documentClient(client);
  const totals = new Map<Username, UsageTotals>();
  // Items are matched back by their key, so this module spells no key itself.
  const byPartition = new Map(usernames.map((name) => [KEYS.usage(name).pk, name]));
  for (let start = 0; start < usernames.length; start += KEYS_PER_BATCH) {
    let pending: Record<string, unknown>[] = usernames
      .slice(start, start + KEYS_PER_BATCH)
      .map((name) => ({ ...KEYS.usage(name) }));
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((wait) => setTimeout(wait, 50 * 2 ** attempt));
      const keys = pending;
      const result = await guarded(() =>
        documents.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } })),
      );
      for (const item of result.Responses?.[tableName] ?? []) {
        const username = byPartition.get(String(item.pk));
        if (username === undefined) continue;
        totals.set(username, toUsageTotals(item, registrations.get(username) ?? ''));
      }
      pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
    if (pending.length > 0) throw new Error(`DynamoDB left ${pending.length} usage items unread; try again`);
  }
  return totals;
}

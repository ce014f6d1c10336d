/**
 * Per-user daily request counts on DynamoDB (layout in table-layout.ts: `USAGEDAY#<day>` /
 * `USER#<username>`), fed from the access logs.
 *
 * Idempotent without a transaction: each user-day item keeps the ids of the log objects already
 * added to it (a string set, `logs`), and each UpdateItem ADDs the counts and the log's id on
 * condition that the id is not in the set yet. A log object delivered twice, or processed again
 * after a crash half-way, therefore adds each user-day once; no item ever needs another's
 * write to be right. (A transaction with a marker would work on DynamoDB too, but would be
 * chunked at 100 items and the sandbox's DynamoDB has no transactions.) An id is 22
 * characters, so one user-day holds the ids of more than 15,000 log objects within
 * DynamoDB's 400 KB item limit; S3 delivers far fewer objects in a day that carry one user's
 * requests (docs/operating.md#usage-report).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Username } from '../../accounts/username';
import { ACCESS_LOG_DONE_DAYS, USAGE_DAY_RETENTION_DAYS } from '../../contract/limits';
import type { UsageDayStore } from '../../usage/request-ports';
import { NO_REQUESTS, REQUEST_COUNTERS, type DayRequests, type RequestCounts } from '../../usage/request-tally';
import { DynamoTable, guarded, storedUsername, ttlSeconds } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

const DAY_MS = 86_400_000;
/** User-day updates of one log object in flight at once. */
const PARALLEL_UPDATES = 16;

/** {@link UsageDayStore} on the TVM's table. */
export class DynamoUsageDayStore implements UsageDayStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async addLogCounts(logId: string, days: readonly DayRequests[]): Promise<void> {
    const queue = [...days];
    const worker = async () => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) await this.addOne(logId, entry);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_UPDATES, queue.length) }, worker));
  }

  private async addOne(logId: string, { day, username, counts }: DayRequests): Promise<void> {
    const values: Record<string, unknown> = {
      ':log': new Set([logId]),
      ':logId': logId,
      ':username': username,
      ':ttl': ttlSeconds(Date.parse(`${day}T00:00:00Z`) + USAGE_DAY_RETENTION_DAYS * DAY_MS),
    };
    const adds = REQUEST_COUNTERS.map((name) => {
      values[`:${name}`] = counts[name];
      return `#${name} :${name}`;
    });
    const names: Record<string, string> = { '#ttl': TABLE_LAYOUT.timeToLiveAttribute };
    for (const name of REQUEST_COUNTERS) names[`#${name}`] = name;
    // False when the log was already added to this user-day: nothing to do.
    await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.usageDay(day, username),
        UpdateExpression: `ADD ${adds.join(', ')}, logs :log SET username = :username, #ttl = :ttl`,
        ConditionExpression: 'attribute_not_exists(logs) OR NOT contains(logs, :logId)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async isLogDone(logId: string): Promise<boolean> {
    return (await this.table.get(KEYS.accessLogDone(logId))) !== undefined;
  }

  async markLogDone(logId: string, now: number): Promise<void> {
    await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...KEYS.accessLogDone(logId),
          doneAt: now,
          [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(now + ACCESS_LOG_DONE_DAYS * DAY_MS),
        },
      }),
    );
  }

  async readDay(day: string): Promise<{ username: Username; counts: RequestCounts }[]> {
    const { pk, skPrefix } = KEYS.usageDayEntries(day);
    const names: Record<string, string> = { '#username': 'username' };
    for (const name of REQUEST_COUNTERS) names[`#${name}`] = name;
    const out: { username: Username; counts: RequestCounts }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await guarded(() =>
        this.table.documents.send(
          new QueryCommand({
            TableName: this.table.name,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
            ExpressionAttributeValues: { ':pk': pk, ':entry': skPrefix },
            // Not the set of log ids: it is the bulk of the item and the report needs none of it.
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const counts: Record<string, number> = { ...NO_REQUESTS };
        for (const name of REQUEST_COUNTERS) if (typeof item[name] === 'number') counts[name] = item[name];
        out.push({ username: storedUsername(item.username, 'usage day'), counts: counts as unknown as RequestCounts });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }
}

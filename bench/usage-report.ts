/**
 * The usage report at scale: BENCH_USAGE_USERS users (1,000) with BENCH_USAGE_DAYS days (30)
 * of S3 server access logs, BENCH_USAGE_LOGS_PER_DAY log objects a day (1), each user making
 * BENCH_USAGE_REQUESTS (20) requests a day. The logs of the last BENCH_USAGE_INGEST_DAYS days
 * (2) are written in S3's format and counted by the access-log processor the stack runs
 * (lambda/usage/access-log-processor.ts) into dynalite, BENCH_USAGE_PARALLEL (4) log objects at
 * once (as concurrent function invocations); the other days' items are copies of those (the
 * processor's cost per day is the same, and dynalite's slowness would make a month of it take
 * a quarter of an hour on this machine). Then `tvm-admin usage report --since <days>d` reads
 * the whole month (median of 3 runs).
 *
 * Figures: ingestMs, linesPerSecond and msPerUserDay (the processor), reportMs (the report).
 * dynalite on this machine stands in for DynamoDB: its per-request cost is far above
 * DynamoDB's, so both figures are upper bounds. `npm run bench:usage` runs it alone.
 */
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { readUsageReport } from '../admin/usage-report';
import { accountStores } from '../lambda/adapters/account-deletion-wiring';
import { documentClient } from '../lambda/adapters/dynamo/helpers';
import { KEYS } from '../lambda/adapters/dynamo/table-layout';
import { DynamoUsageDayStore } from '../lambda/adapters/dynamo/usage-day-store';
import { parseUsername, type Username } from '../lambda/accounts/username';
import type { DomainLog } from '../lambda/platform/audit';
import { readRuntimeSettings, type TvmConfig } from '../lambda/platform/config';
import { formatAccessLogRecord } from '../lambda/usage/access-log';
import { AccessLogProcessor } from '../lambda/usage/access-log-processor';
import { utcDay } from '../lambda/usage/request-tally';
import { startDynalite } from '../scripts/dev/dynalite';
import { integerEnv, log, median, round } from './numbers';

const TABLE = 'tvm-bench-usage';
const BUCKET = 'tvm-files';
const ROLE = 'tvm-vending';
const DAY_MS = 86_400_000;
const OPERATIONS = ['REST.GET.OBJECT', 'REST.GET.OBJECT', 'REST.PUT.OBJECT', 'REST.GET.BUCKET', 'REST.DELETE.OBJECT'];

/** What the usage-report benchmark measured. */
export interface UsageReportBench {
  readonly users: number;
  readonly days: number;
  readonly logObjects: number;
  readonly lines: number;
  readonly userDayItems: number;
  readonly copiedItems: number;
  readonly ingestMs: number;
  readonly msPerUserDay: number;
  readonly linesPerSecond: number;
  readonly reportMs: number;
  readonly reportRunsMs: number[];
}

const quiet: DomainLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One log object's text: every user's requests in one slice of a day. */
function logText(users: readonly Username[], dayStart: number, slice: number, slices: number, perUser: number): string {
  const lines: string[] = [];
  const span = DAY_MS / slices;
  for (const [index, username] of users.entries()) {
    for (let request = 0; request < perUser; request++) {
      const operation = OPERATIONS[(index + request) % OPERATIONS.length]!;
      lines.push(
        formatAccessLogRecord({
          bucketOwner: '0'.repeat(64),
          bucket: BUCKET,
          time: dayStart + slice * span + ((index * 997 + request * 7919) % span),
          remoteIp: '192.0.2.10',
          requester: `arn:aws:sts::123456789012:assumed-role/${ROLE}/${username}`,
          requestId: `R${index}x${request}`,
          operation,
          key: operation === 'REST.GET.BUCKET' ? undefined : `${username}/photos/file-${request}.jpg`,
          requestUri: `GET /${BUCKET}/${username}/photos/file-${request}.jpg HTTP/1.1`,
          httpStatus: 200,
          bytesSent: operation === 'REST.GET.OBJECT' ? 250_000 : 0,
          objectSize: 250_000,
          totalTimeMs: 40,
          turnAroundTimeMs: 12,
          userAgent: 'aws-sdk-js/3.0.0',
          signatureVersion: 'SigV4',
          authType: 'AuthHeader',
          hostHeader: `${BUCKET}.s3.eu-west-1.amazonaws.com`,
          tlsVersion: 'TLSv1.3',
        }),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Fills the days before the counted ones with copies of the counted days' items (each day a
 * copy of one counted day, keyed by KEYS.usageDay; attributes as the store wrote them).
 */
async function copyDays(
  documents: ReturnType<typeof documentClient>,
  today: number,
  countedDays: number,
  days: number,
): Promise<number> {
  const source = new Map<number, Record<string, unknown>[]>();
  for (let day = 0; day < countedDays; day++) {
    const { pk, skPrefix } = KEYS.usageDayEntries(utcDay(today - day * DAY_MS));
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
          ExpressionAttributeValues: { ':pk': pk, ':entry': skPrefix },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    source.set(day, items);
  }
  let copied = 0;
  for (let day = countedDays; day < days; day++) {
    const name = utcDay(today - day * DAY_MS);
    const items = (source.get(day % countedDays) ?? []).map((item) => ({
      ...item,
      ...KEYS.usageDay(name, parseUsername(String(item.username))),
    }));
    for (let start = 0; start < items.length; start += 25) {
      let pending = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const answer = await documents.send(new BatchWriteCommand({ RequestItems: { [TABLE]: pending } }));
        pending = (answer.UnprocessedItems?.[TABLE] ?? []) as typeof pending;
      }
    }
    copied += items.length;
  }
  return copied;
}

/** Runs the benchmark against a fresh in-memory dynalite. */
export async function measureUsageReport(): Promise<UsageReportBench> {
  const userCount = integerEnv('BENCH_USAGE_USERS', 1000);
  const days = integerEnv('BENCH_USAGE_DAYS', 30);
  const slices = integerEnv('BENCH_USAGE_LOGS_PER_DAY', 1);
  const ingestDays = Math.min(days, integerEnv('BENCH_USAGE_INGEST_DAYS', 2));
  const perUser = integerEnv('BENCH_USAGE_REQUESTS', 20);
  const parallel = integerEnv('BENCH_USAGE_PARALLEL', 4);
  const dynamo = await startDynalite(TABLE);
  try {
    const config = readRuntimeSettings(process.env) as TvmConfig;
    const { users: userStore } = accountStores(dynamo.client, TABLE, quiet, config);
    const documents = documentClient(dynamo.client);
    const users = Array.from({ length: userCount }, (_, index) =>
      parseUsername(`user-${String(index).padStart(4, '0')}`),
    );
    log(`usage report: creating ${userCount} users and their meter totals...`);
    for (const username of users) {
      await userStore.createUser({
        username,
        userId: `${username}-id`,
        passwordHash: 'bench$unused',
        createdAt: Date.now(),
        disabled: false,
        sessionGeneration: 0,
      } as never);
      await documents.send(
        new PutCommand({
          TableName: TABLE,
          Item: { ...KEYS.usage(username), bytes: 1_000_000, objects: 10, updatedAt: Date.now() },
        }),
      );
    }
    const today = Date.now() - (Date.now() % DAY_MS);
    const objects: { key: string; text: string }[] = [];
    let lines = 0;
    for (let day = ingestDays - 1; day >= 0; day--)
      for (let slice = 0; slice < slices; slice++) {
        const text = logText(users, today - day * DAY_MS, slice, slices, perUser);
        lines += userCount * perUser;
        objects.push({ key: `file-bucket/day-${day}-slice-${slice}`, text });
      }
    const texts = new Map(objects.map((object) => [object.key, object.text]));
    const processor = new AccessLogProcessor({
      store: new DynamoUsageDayStore(dynamo.client, TABLE),
      reader: { read: async (_bucket, key) => texts.get(key) ?? '' },
      tally: { bucket: BUCKET, vendingRoleName: ROLE },
      log: quiet,
    });
    log(`usage report: processing ${objects.length} log objects (${lines} lines), ${parallel} at once...`);
    const queue = objects.map((object) => object.key);
    const ingestStarted = performance.now();
    let userDayItems = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          const outcome = await processor.process('tvm-logs', key);
          userDayItems += outcome.userDays;
        }
      }),
    );
    const ingestMs = performance.now() - ingestStarted;
    log(`usage report: copying the counted days' items to the other ${days - ingestDays} days...`);
    const counted = await copyDays(documents, today, ingestDays, days);
    log(`usage report: reading the report for ${userCount} users over ${days} days, 3 runs...`);
    const reportRunsMs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      const report = await readUsageReport({ dynamo: dynamo.client, tableName: TABLE }, days, quiet);
      reportRunsMs.push(performance.now() - started);
      const expected = days * slices * perUser;
      const first = report.rows[0];
      const counted = first
        ? first.requests.get + first.requests.put + first.requests.list + first.requests.delete + first.requests.other
        : 0;
      if (report.rows.length !== userCount || counted !== expected)
        throw new Error(
          `the report is wrong: ${report.rows.length} rows, ${counted} requests for the first user (expected ${expected})`,
        );
    }
    return {
      users: userCount,
      days,
      logObjects: objects.length,
      lines,
      userDayItems,
      copiedItems: counted,
      ingestMs: round(ingestMs),
      linesPerSecond: Math.round(lines / (ingestMs / 1000)),
      msPerUserDay: round(ingestMs / Math.max(1, userDayItems), 2),
      reportMs: round(median(reportRunsMs)),
      reportRunsMs: reportRunsMs.map((ms) => round(ms)),
    };
  } finally {
    await dynamo.stop();
  }
}

if (require.main === module) {
  measureUsageReport().then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

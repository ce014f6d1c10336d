/**
 * The access-log processor against dynalite: a log object's counts land in the per-user daily
 * items, a log object processed twice (redelivered, or again after a crash half-way) adds
 * nothing twice, and a day's read gives every user's totals without the ids of the logs.
 */
import fc from 'fast-check';
import { DynamoUsageDayStore } from '../../lambda/adapters/dynamo/usage-day-store';
import type { Username } from '../../lambda/accounts/username';
import type { DomainLog } from '../../lambda/platform/audit';
import { formatAccessLogRecord } from '../../lambda/usage/access-log';
import { AccessLogProcessor, logObjectId } from '../../lambda/usage/access-log-processor';
import type { AccessLogReader } from '../../lambda/usage/request-ports';
import { NO_REQUESTS, addCounts, tallyAccessLog, type RequestCounts } from '../../lambda/usage/request-tally';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-usage-days';
const TALLY = { bucket: 'tvm-files', vendingRoleName: 'tvm-vending' };
const quiet: DomainLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
let dynamo: TestDynamoDb;
let store: DynamoUsageDayStore;
let run = 0;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  store = new DynamoUsageDayStore(dynamo.client, TABLE);
});

afterAll(async () => {
  await dynamo.stop();
});

/** A distinct day per test case, so cases never see each other's counts. */
function freshDay(): number {
  run += 1;
  return Date.UTC(2020, 0, 1) + run * 86_400_000;
}

function getLine(user: string, at: number, bytes: number): string {
  return formatAccessLogRecord({
    bucket: 'tvm-files',
    time: at,
    requester: `arn:aws:sts::000000000000:assumed-role/tvm-vending/${user}`,
    operation: 'REST.GET.OBJECT',
    key: `${user}/file`,
    httpStatus: 200,
    bytesSent: bytes,
  });
}

function readerOf(objects: Record<string, string>): AccessLogReader {
  return {
    read: async (_bucket, key) => {
      const text = objects[key];
      if (text === undefined) throw new Error(`no log object ${key}`);
      return text;
    },
  };
}

async function dayTotals(day: number): Promise<Map<Username, RequestCounts>> {
  const rows = await store.readDay(new Date(day).toISOString().slice(0, 10));
  return new Map(rows.map((row) => [row.username, row.counts]));
}

describe('access-log processing into usage days', () => {
  it("adds a log object's counts per user and day, and reads them back without the log ids", async () => {
    const day = freshDay();
    const processor = new AccessLogProcessor({
      store,
      reader: readerOf({
        a: [getLine('alice', day, 10), getLine('alice', day + 1000, 5), getLine('bob', day, 7)].join('\n'),
      }),
      tally: TALLY,
      log: quiet,
    });
    await expect(processor.process('logs', 'a')).resolves.toMatchObject({ alreadyDone: false, userDays: 2 });
    const totals = await dayTotals(day);
    expect(totals.get('alice' as Username)).toEqual({ ...NO_REQUESTS, get: 2, bytesDownloaded: 15 });
    expect(totals.get('bob' as Username)).toEqual({ ...NO_REQUESTS, get: 1, bytesDownloaded: 7 });
  });

  it('skips a log object already counted whole', async () => {
    const day = freshDay();
    const processor = new AccessLogProcessor({
      store,
      reader: readerOf({ b: getLine('alice', day, 3) }),
      tally: TALLY,
      log: quiet,
    });
    await processor.process('logs', 'b');
    await expect(processor.process('logs', 'b')).resolves.toMatchObject({ alreadyDone: true });
    expect((await dayTotals(day)).get('alice' as Username)).toEqual({ ...NO_REQUESTS, get: 1, bytesDownloaded: 3 });
  });

  it('adds each user-day once when a log is processed again after a crash half-way (no marker yet)', async () => {
    const day = freshDay();
    const text = [getLine('alice', day, 1), getLine('bob', day, 2), getLine('carol', day, 4)].join('\n');
    const id = logObjectId('logs', 'c');
    const tally = tallyAccessLog(text, TALLY);
    // The crash: only bob's user-day was written, and no marker.
    await store.addLogCounts(
      id,
      tally.days.filter((entry) => entry.username === 'bob'),
    );
    await new AccessLogProcessor({ store, reader: readerOf({ c: text }), tally: TALLY, log: quiet }).process(
      'logs',
      'c',
    );
    const totals = await dayTotals(day);
    expect([...totals.values()].map((counts) => counts.get)).toEqual([1, 1, 1]);
  });

  it('any interleaving of deliveries, duplicates included, gives the sum of the distinct log objects (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.record({ user: fc.constantFrom('alice', 'bob'), bytes: fc.nat(1000) }), { maxLength: 5 }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        async (objects, deliveries) => {
          const day = freshDay();
          const texts: Record<string, string> = {};
          objects.forEach((lines, index) => {
            texts[`o${index}`] = lines.map((line) => getLine(line.user, day, line.bytes)).join('\n');
          });
          const processor = new AccessLogProcessor({ store, reader: readerOf(texts), tally: TALLY, log: quiet });
          const delivered = new Set<string>();
          // Each delivery may also race a duplicate of itself.
          await Promise.all(
            deliveries.map((pick) => {
              const key = `o${pick % objects.length}`;
              delivered.add(key);
              return processor.process(`run${run}`, key);
            }),
          );
          const expected = new Map<string, RequestCounts>();
          for (const key of delivered)
            for (const entry of tallyAccessLog(texts[key] ?? '', TALLY).days)
              expected.set(entry.username, addCounts(expected.get(entry.username) ?? NO_REQUESTS, entry.counts));
          expect(await dayTotals(day)).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });
});

/**
 * The meter on its DynamoDB store (lambda/adapters/dynamo/usage-store.ts), against dynalite:
 * the same property as the unit test (every event twice, in reverse order: the bucket's
 * truth), a holder dying before or after any one of its writes (the retry counts the change
 * exactly once), the lease (one holder; a lost lease writes nothing to the totals), a
 * re-registered name, keys too long for a sort key, and the reconcile.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import type { Username } from '../../lambda/accounts/username';
import { documentClient } from '../../lambda/adapters/dynamo/helpers';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { DynamoUsageStore } from '../../lambda/adapters/dynamo/usage-store';
import { UsageMeter, type NotificationMessage } from '../../lambda/usage/meter';
import { Reconciler } from '../../lambda/usage/reconcile';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { ManualClock, MemoryLog } from '../support/in-memory-platform';
import { InMemoryFolderLister, InMemoryUserDirectory, RecordingQuotaSync } from '../support/in-memory-usage';
import { bucketOperation, S3History, type S3Record } from './s3-history';

const TABLE = 'tvm-usage-meter';
const BUCKET = 'tvm-files';
let dynamo: TestDynamoDb;
let tableCounter = 0;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
});

afterAll(async () => {
  faulty?.destroy();
  await dynamo.stop();
});

/** Each test meters its own users (names unique per test), so tests share the table. */
function users(): { alice: Username; bob: Username } {
  tableCounter += 1;
  return { alice: `alice${tableCounter}` as Username, bob: `bob${tableCounter}` as Username };
}

/** What the faulty client does: its `failAt`-th command from now (1-based) dies before or after it reaches the table. */
const faultPlan = { failAt: 0, after: false, calls: 0 };
let faulty: DynamoDBClient | undefined;

/** A client of the same dynalite that follows {@link faultPlan} (one client for every case: clients are slow to make). */
function faultyClient(failAt: number, after: boolean): DynamoDBClient {
  Object.assign(faultPlan, { failAt, after, calls: 0 });
  if (faulty) return faulty;
  faulty = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test-secret' },
  });
  faulty.middlewareStack.add(
    (next) => async (args) => {
      faultPlan.calls += 1;
      const dies = faultPlan.calls === faultPlan.failAt;
      if (dies && !faultPlan.after) throw new Error('holder died before the write');
      const result = await next(args);
      if (dies && faultPlan.after) throw new Error('holder died after the write');
      return result;
    },
    { step: 'initialize', name: 'faultInjection' },
  );
  return faulty;
}

function meterOn(client: DynamoDBClient, clock: ManualClock, names: readonly string[]) {
  const store = new DynamoUsageStore(client, TABLE, clock);
  const directory = new InMemoryUserDirectory(names);
  const quota = new RecordingQuotaSync();
  const meter = new UsageMeter({
    store,
    users: directory,
    quota,
    log: new MemoryLog(),
    clock,
    bucket: BUCKET,
    holder: 'test',
    sleep: async (ms) => clock.advance(ms),
  });
  return { store, meter, directory, quota };
}

let messageCounter = 0;
const messages = (records: readonly S3Record[]): NotificationMessage[] =>
  records.map((record) => ({ messageId: `m${++messageCounter}`, body: S3History.body([record]) }));

/** The bucket's operations on `user`'s folder, with the keys of the shared arbitrary moved into it. */
function historyFor(user: Username, operations: readonly Parameters<S3History['apply']>[0][], versioned = true) {
  const bucket = new S3History(BUCKET, versioned);
  const rename = (key: string) => key.replace(/^alice\//, `${user}/`);
  for (const operation of operations)
    bucket.apply({
      ...operation,
      key: rename(operation.key),
      ...('from' in operation ? { from: rename(operation.from) } : {}),
    } as Parameters<S3History['apply']>[0]);
  return bucket;
}

describe('the meter on DynamoDB', () => {
  it("every event replayed twice and in reverse order gives the bucket's truth (property, dynalite)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bucketOperation, { maxLength: 20 }), fc.boolean(), async (operations, versioned) => {
        const { alice } = users();
        const clock = new ManualClock();
        const { meter, store } = meterOn(dynamo.client, clock, [alice]);
        const bucket = historyFor(alice, operations, versioned);
        const reversedTwice = [...bucket.records].reverse().flatMap((record) => [record, record]);
        for (let start = 0; start < reversedTwice.length; start += 3) {
          const result = await meter.handle(messages(reversedTwice.slice(start, start + 3)));
          expect(result.failedMessageIds).toEqual([]);
        }
        expect(await store.totals(alice, `${alice}-id`)).toEqual(bucket.truth(alice));
      }),
      { numRuns: 25 },
    );
  });

  it('a holder that dies before or after any one of its writes: the retry counts every change exactly once', async () => {
    const operations = [
      { op: 'put', key: 'alice/a', size: 100 },
      { op: 'put', key: 'alice/b', size: 20 },
      { op: 'put', key: 'alice/a', size: 50 },
      { op: 'delete', key: 'alice/b' },
    ] as const;
    // A clean run counts the commands a batch makes; then each one in turn dies, before or after.
    const scenario = () => {
      const { alice } = users();
      const bucket = historyFor(alice, operations);
      return { alice, bucket, batch: messages(bucket.records) };
    };
    const counted = scenario();
    await meterOn(faultyClient(0, false), new ManualClock(), [counted.alice]).meter.handle(counted.batch);
    const commands = faultPlan.calls;
    expect(commands).toBeGreaterThan(10);
    const outcomes: { failAt: number; after: boolean; failed: number; totals: unknown; truth: unknown }[] = [];
    for (let failAt = 1; failAt <= commands; failAt++) {
      for (const after of [false, true]) {
        const { alice, bucket, batch } = scenario();
        const clock = new ManualClock();
        const first = await meterOn(faultyClient(failAt, after), clock, [alice]).meter.handle(batch);
        // The dead holder's lease runs out; SQS redelivers the failed messages to a new instance.
        clock.advance(10 * 60_000);
        const retry = meterOn(dynamo.client, clock, [alice]);
        const retried = await retry.meter.handle(
          batch.filter((message) => first.failedMessageIds.includes(message.messageId)),
        );
        outcomes.push({
          failAt,
          after,
          failed: first.failedMessageIds.length + retried.failedMessageIds.length * 1000,
          totals: await retry.store.totals(alice, `${alice}-id`),
          truth: bucket.truth(alice),
        });
      }
    }
    // Every death failed some message (so the retry ran), the retries all succeeded, and every total is exact.
    for (const outcome of outcomes) {
      expect(outcome.failed).toBeGreaterThan(0);
      expect(outcome.failed).toBeLessThan(1000);
      expect(outcome.totals).toEqual(outcome.truth);
    }
  });

  it('one holder at a time: a second lease waits, a lapsed holder can no longer move the totals', async () => {
    const { alice } = users();
    const clock = new ManualClock();
    const store = new DynamoUsageStore(dynamo.client, TABLE, clock);
    const first = await store.lease(alice, 'r1', 'one', 60_000);
    if (!first) throw new Error('no lease');
    expect(await store.lease(alice, 'r1', 'two', 60_000)).toBeUndefined();
    clock.advance(60_001);
    const second = await store.lease(alice, 'r1', 'two', 60_000);
    if (!second) throw new Error('no second lease');
    const state = { present: true, size: 10, sequencer: '01' as never, changedAt: clock.now() };
    await expect(first.write('x', state, { bytes: 10, objects: 1 })).rejects.toThrow();
    await second.write('y', state, { bytes: 10, objects: 1 });
    await first.release();
    expect(await store.lease(alice, 'r1', 'three', 60_000)).toBeUndefined();
    await second.release();
    expect(await store.totals(alice, 'r1')).toEqual({ bytes: 10, objects: 1 });
  });

  it('a re-registered name reads as empty and counts from nothing', async () => {
    const { alice } = users();
    const clock = new ManualClock();
    const { meter, store, directory } = meterOn(dynamo.client, clock, [alice]);
    const bucket = historyFor(alice, [{ op: 'put', key: 'alice/a', size: 70 }]);
    await meter.handle(messages(bucket.records));
    directory.registrations.set(alice, 'second-account');
    expect(await store.totals(alice, 'second-account')).toEqual({ bytes: 0, objects: 0 });
    bucket.apply({ op: 'put', key: `${alice}/b`, size: 3 });
    await meter.handle(messages(bucket.records.slice(-1)));
    expect(await store.totals(alice, 'second-account')).toEqual({ bytes: 3, objects: 1 });
  });

  it('keys longer than a sort key allows are metered by their hash', async () => {
    const { alice } = users();
    const clock = new ManualClock();
    const { meter, store } = meterOn(dynamo.client, clock, [alice]);
    const long = `${alice}/${'é'.repeat(500)}`;
    const bucket = historyFor(alice, [
      { op: 'put', key: long, size: 9 },
      { op: 'put', key: long, size: 4 },
    ]);
    const result = await meter.handle(messages(bucket.records));
    expect(result.failedMessageIds).toEqual([]);
    expect(await store.totals(alice, `${alice}-id`)).toEqual({ bytes: 4, objects: 1 });
    const lease = await store.lease(alice, `${alice}-id`, 'test', 1000);
    expect([...((await lease?.states()) ?? new Map()).keys()]).toEqual(['é'.repeat(500)]);
    await lease?.release();
  });

  it('the reconcile makes states and totals match the listing, and later events still apply', async () => {
    const { alice } = users();
    const clock = new ManualClock(Date.UTC(2026, 11, 2));
    const { meter, store, directory, quota } = meterOn(dynamo.client, clock, [alice]);
    const bucket = historyFor(alice, [
      { op: 'put', key: 'alice/kept', size: 10 },
      { op: 'put', key: 'alice/lost-delete', size: 20 },
      { op: 'delete', key: 'alice/lost-delete' },
      { op: 'put', key: 'alice/lost-put', size: 30 },
    ]);
    // Two events never arrive: the delete and the last put.
    const [kept, lostDeletePut] = bucket.records as [S3Record, S3Record];
    await meter.handle(messages([kept, lostDeletePut]));
    expect(await store.totals(alice, `${alice}-id`)).toEqual({ bytes: 30, objects: 2 });
    clock.advance(3_600_000);
    const lister = new InMemoryFolderLister();
    lister.folders.set(alice, bucket.listing(alice));
    const reconciler = new Reconciler({ store, lister, users: directory, quota, clock, holder: 'reconcile' });
    const outcome = await reconciler.reconcile(alice);
    expect(outcome).toMatchObject({ before: { bytes: 30, objects: 2 }, after: { bytes: 40, objects: 2 }, fixed: 2 });
    expect(await store.totals(alice, `${alice}-id`)).toEqual(bucket.truth(alice));
    expect(quota.calls).toContain(alice);
    // The lost put's event arrives after all: nothing changes; a later delete still applies.
    await meter.handle(messages(bucket.records.slice(-1)));
    bucket.apply({ op: 'delete', key: `${alice}/lost-put` });
    await meter.handle(messages(bucket.records.slice(-1)));
    expect(await store.totals(alice, `${alice}-id`)).toEqual({ bytes: 10, objects: 1 });
    expect(await reconciler.reconcile('nobody' as Username)).toBeUndefined();
    const item = await documentClient(dynamo.client).send(new GetCommand({ TableName: TABLE, Key: KEYS.usage(alice) }));
    expect(item.Item?.leaseId).toBeUndefined();
  });
});

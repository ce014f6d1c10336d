import fc from 'fast-check';
import type { Username } from '../../lambda/accounts/username';
import { folderOf, transition, UsageMeter, type NotificationMessage } from '../../lambda/usage/meter';
import { parseNotification } from '../../lambda/usage/s3-events';
import { ManualClock, MemoryLog } from '../support/in-memory-platform';
import { InMemoryMeterStore, InMemoryUserDirectory, RecordingQuotaSync } from '../support/in-memory-usage';
import { bucketOperation, S3History, type BucketOperation, type S3Record } from './s3-history';

const BUCKET = 'tvm-files';
const alice = 'alice' as Username;
const bob = 'bob' as Username;

function setup(users: readonly string[] = ['alice', 'bob']) {
  const clock = new ManualClock();
  const store = new InMemoryMeterStore(clock);
  const directory = new InMemoryUserDirectory(users);
  const quota = new RecordingQuotaSync();
  const log = new MemoryLog();
  const meter = new UsageMeter({
    store,
    users: directory,
    quota,
    log,
    clock,
    bucket: BUCKET,
    holder: 'test',
    sleep: async (ms) => clock.advance(ms),
  });
  const totals = async (user: Username) => store.totals(user, `${user}-id`);
  return { clock, store, directory, quota, log, meter, totals };
}

let messageCounter = 0;
/** One message per record, as S3 sends them. */
const messages = (records: readonly S3Record[]): NotificationMessage[] =>
  records.map((record) => ({ messageId: `m${++messageCounter}`, body: S3History.body([record]) }));

function history(operations: readonly BucketOperation[], versioned = true): S3History {
  const bucket = new S3History(BUCKET, versioned);
  for (const operation of operations) bucket.apply(operation);
  return bucket;
}

describe('the storage meter', () => {
  it("counts an upload, an overwrite, a copy, a multipart upload and a delete in the uploader's folder", async () => {
    const { meter, totals } = setup();
    const bucket = history([
      { op: 'put', key: 'alice/a.txt', size: 100 },
      { op: 'put', key: 'alice/a.txt', size: 40 },
      { op: 'copy', from: 'alice/a.txt', key: 'alice/b.txt' },
      { op: 'multipart', key: 'alice/big.bin', size: 20_000_000 },
      { op: 'delete', key: 'alice/b.txt' },
    ]);
    const result = await meter.handle(messages(bucket.records));
    expect(result.failedMessageIds).toEqual([]);
    expect(await totals(alice)).toEqual({ bytes: 20_000_040, objects: 2 });
    expect(await totals(bob)).toEqual({ bytes: 0, objects: 0 });
  });

  it('a lifecycle expiry of the current version takes it off the count; a noncurrent expiry changes nothing', async () => {
    const { meter, totals } = setup();
    const bucket = history([
      { op: 'put', key: 'alice/old.txt', size: 10 },
      { op: 'put', key: 'alice/old.txt', size: 30 },
      { op: 'expire-noncurrent', key: 'alice/old.txt' },
    ]);
    await meter.handle(messages(bucket.records));
    expect(await totals(alice)).toEqual({ bytes: 30, objects: 1 });
    bucket.apply({ op: 'expire-current', key: 'alice/old.txt' });
    await meter.handle(messages(bucket.records.slice(-1)));
    expect(await totals(alice)).toEqual({ bytes: 0, objects: 0 });
  });

  it("the sandbox's unversioned deletes and lifecycle expirations (no versionId) remove the object", async () => {
    const { meter, totals } = setup();
    const bucket = history(
      [
        { op: 'put', key: 'alice/a', size: 5 },
        { op: 'put', key: 'alice/b', size: 7 },
        { op: 'delete', key: 'alice/a' },
        { op: 'expire-current', key: 'alice/b' },
      ],
      false,
    );
    await meter.handle(messages(bucket.records));
    expect(await totals(alice)).toEqual({ bytes: 0, objects: 0 });
  });

  it('a duplicate event and an older event arriving late change nothing', async () => {
    const { meter, totals } = setup();
    const bucket = history([
      { op: 'put', key: 'alice/a', size: 100 },
      { op: 'delete', key: 'alice/a' },
    ]);
    const [put, remove] = bucket.records as [S3Record, S3Record];
    await meter.handle(messages([remove, remove]));
    const late = await meter.handle(messages([put, put]));
    expect(late.unchanged).toBe(2);
    expect(await totals(alice)).toEqual({ bytes: 0, objects: 0 });
  });

  it('events outside any user folder, of users that do not exist, or of another bucket are counted nowhere and logged without the key', async () => {
    const { meter, store, log } = setup(['alice']);
    const bucket = history([
      { op: 'put', key: 'loose-file', size: 1 },
      { op: 'put', key: 'Alice/x', size: 2 },
      { op: 'put', key: 'ghost/secret-name.txt', size: 3 },
    ]);
    const other = new S3History('other-bucket', true);
    other.apply({ op: 'put', key: 'alice/a', size: 4 });
    const result = await meter.handle(messages([...bucket.records, ...other.records]));
    expect(result).toMatchObject({ failedMessageIds: [], applied: 0, skipped: 4 });
    expect(store.folders.size).toBe(0);
    const warnings = log.entries.filter((entry) => entry.message === 'usage event counted nowhere');
    expect(warnings.map((entry) => entry.attributes?.reason)).toEqual([
      'key is outside any user folder (no "/")',
      'key is outside any user folder (not a username)',
      'event of another bucket',
      'user does not exist',
    ]);
    expect(JSON.stringify(log.entries)).not.toContain('secret-name');
    expect(warnings[3]?.attributes?.username).toBe('ghost');
  });

  it("a malformed message goes back to the queue (and so to the dead-letter queue); S3's test event is ignored", async () => {
    const { meter, log } = setup();
    const result = await meter.handle([
      { messageId: 'bad', body: 'not json' },
      { messageId: 'test', body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKET }) },
    ]);
    expect(result.failedMessageIds).toEqual(['bad']);
    expect(log.entries.some((entry) => entry.message === 'usage event message malformed')).toBe(true);
  });

  it('calls the quota sync once per user a batch touched, and gives the messages back when it fails', async () => {
    const { meter, quota, totals } = setup();
    const bucket = history([
      { op: 'put', key: 'alice/a', size: 1 },
      { op: 'put', key: 'alice/b', size: 1 },
      { op: 'put', key: 'bob/a', size: 1 },
    ]);
    await meter.handle(messages(bucket.records));
    expect(quota.calls.sort()).toEqual(['alice', 'bob']);
    quota.failNext();
    bucket.apply({ op: 'put', key: 'alice/c', size: 1 });
    const batch = messages(bucket.records.slice(-1));
    const failed = await meter.handle(batch);
    expect(failed.failedMessageIds).toEqual([batch[0]?.messageId]);
    // The retry finds the event applied, and syncs.
    const retried = await meter.handle(batch);
    expect(retried).toMatchObject({ failedMessageIds: [], unchanged: 1 });
    expect(await totals(alice)).toEqual({ bytes: 3, objects: 3 });
  });

  it('a folder leased by another batch past the wait gives its messages back to the queue', async () => {
    const { meter, store, clock } = setup();
    const held = await store.lease(alice, 'alice-id', 'other', 60_000);
    expect(held).toBeDefined();
    const bucket = history([{ op: 'put', key: 'alice/a', size: 1 }]);
    const batch = messages(bucket.records);
    const result = await meter.handle(batch);
    expect(result.failedMessageIds).toEqual([batch[0]?.messageId]);
    clock.advance(60_001);
    expect((await meter.handle(batch)).applied).toBe(1);
  });

  it("a re-registered name starts from nothing: the earlier account's count is not inherited", async () => {
    const { meter, directory, store, totals } = setup();
    const bucket = history([{ op: 'put', key: 'alice/a', size: 50 }]);
    await meter.handle(messages(bucket.records));
    directory.registrations.set(alice, 'alice-2');
    bucket.apply({ op: 'put', key: 'alice/b', size: 5 });
    await meter.handle(messages(bucket.records.slice(-1)));
    expect(await totals(alice)).toEqual({ bytes: 0, objects: 0 });
    expect(await store.totals(alice, 'alice-2')).toEqual({ bytes: 5, objects: 1 });
  });

  it('a permanent delete naming a version other than the current one changes nothing', () => {
    const parsed = parseNotification(
      S3History.body([
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'eu-west-1',
          eventTime: '2026-12-01T00:00:00.000Z',
          eventName: 'ObjectRemoved:Delete',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: BUCKET, arn: '' },
            object: { key: 'alice/a', versionId: 'old', sequencer: 'FF' },
          },
        },
      ]),
    );
    const event = parsed.events[0];
    if (!event) throw new Error('no event');
    const state = { present: true, size: 9, versionId: 'current', sequencer: '01' as never, changedAt: 0 };
    expect(transition(state, event)).toBeUndefined();
    expect(transition({ ...state, versionId: 'old' }, event)?.delta).toEqual({ bytes: -9, objects: -1 });
  });

  it('places keys by their first segment, case-sensitively', () => {
    expect(folderOf('alice/x/y')).toEqual({ username: 'alice', keyInFolder: 'x/y' });
    expect(folderOf('alice/')).toEqual({ username: 'alice', keyInFolder: '' });
    expect(folderOf('ALICE/x')).toHaveProperty('reason');
    expect(folderOf('al*ce/x')).toHaveProperty('reason');
    expect(folderOf('alice')).toHaveProperty('reason');
  });
});

describe('the storage meter, property', () => {
  it("every event replayed twice and in reverse order (in random batches) gives the same totals as in order, and the bucket's truth", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(bucketOperation, { maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 8 }),
        fc.infiniteStream(fc.integer({ min: 1, max: 6 })),
        async (operations, versioned, paddings, batchSizes) => {
          let padIndex = 0;
          const bucket = new S3History(BUCKET, versioned, () => paddings[padIndex++ % paddings.length] ?? 0);
          for (const operation of operations) bucket.apply(operation);
          const truth = { alice: bucket.truth('alice'), bob: bucket.truth('bob') };

          const inOrder = setup();
          await inOrder.meter.handle(messages(bucket.records));
          const replayed = setup();
          const reversedTwice = [...bucket.records].reverse().flatMap((record) => [record, record]);
          const sizes = batchSizes[Symbol.iterator]();
          for (let start = 0; start < reversedTwice.length; ) {
            const size = sizes.next().value as number;
            const result = await replayed.meter.handle(messages(reversedTwice.slice(start, start + size)));
            expect(result.failedMessageIds).toEqual([]);
            start += size;
          }
          for (const user of [alice, bob]) {
            expect(await inOrder.totals(user)).toEqual(truth[user as 'alice' | 'bob']);
            expect(await replayed.totals(user)).toEqual(truth[user as 'alice' | 'bob']);
          }
          expect(inOrder.store.folders.has('ghost' as Username)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

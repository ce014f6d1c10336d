import fc from 'fast-check';
import type { Username } from '../../lambda/accounts/username';
import { UsageMeter } from '../../lambda/usage/meter';
import { planReconcile, Reconciler, RECENT_CHANGE_MARGIN_MS } from '../../lambda/usage/reconcile';
import type { ObjectState } from '../../lambda/usage/ports';
import type { Sequencer } from '../../lambda/usage/sequencer';
import { ManualClock, MemoryLog } from '../support/in-memory-platform';
import {
  InMemoryFolderLister,
  InMemoryMeterStore,
  InMemoryUserDirectory,
  RecordingQuotaSync,
} from '../support/in-memory-usage';
import { bucketOperation, S3History } from './s3-history';

const alice = 'alice' as Username;
const state = (present: boolean, size: number, changedAt = 0): ObjectState => ({
  present,
  size: present ? size : 0,
  sequencer: '0A' as Sequencer,
  changedAt,
});

describe('the reconcile plan', () => {
  it('counts listed keys at their listed size, tombstones keys no longer listed, keeps sequencers', () => {
    const states = new Map([
      ['same', state(true, 5)],
      ['resized', state(true, 9)],
      ['gone', state(true, 7)],
      ['tombstone', state(false, 0)],
    ]);
    const plan = planReconcile(
      [
        { keyInFolder: 'same', size: 5 },
        { keyInFolder: 'resized', size: 3 },
        { keyInFolder: 'new', size: 11 },
      ],
      states,
      1_000_000,
    );
    expect(plan.totals).toEqual({ bytes: 19, objects: 3 });
    expect([...plan.writes.keys()].sort()).toEqual(['gone', 'new', 'resized']);
    expect(plan.writes.get('gone')).toMatchObject({ present: false, sequencer: '0A' });
    expect(plan.writes.get('new')).toMatchObject({ present: true, size: 11, sequencer: '0' });
  });

  it('leaves a state an event changed after the listing began (less the margin) as the event set it', () => {
    const listedAt = 10_000_000;
    const states = new Map([['fresh', state(true, 50, listedAt - RECENT_CHANGE_MARGIN_MS + 1)]]);
    const plan = planReconcile([], states, listedAt);
    expect(plan.writes.size).toBe(0);
    expect(plan.totals).toEqual({ bytes: 50, objects: 1 });
  });
});

describe('the reconcile, property', () => {
  it('after any history with any events lost, a reconcile of a quiet folder is exact, and replaying every event after changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(bucketOperation, { maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        async (operations, delivered) => {
          const clock = new ManualClock(Date.UTC(2027, 0, 1));
          const store = new InMemoryMeterStore(clock);
          const users = new InMemoryUserDirectory(['alice']);
          const quota = new RecordingQuotaSync();
          const meter = new UsageMeter({
            store,
            users,
            quota,
            log: new MemoryLog(),
            clock,
            bucket: 'files',
            holder: 'meter',
          });
          const bucket = new S3History('files', true);
          for (const operation of operations) bucket.apply(operation);
          const body = (index: number) => S3History.body([bucket.records[index]!]);
          const some = bucket.records.map((_, index) => index).filter((index) => delivered[index % delivered.length]);
          await meter.handle(some.map((index) => ({ messageId: `m${index}`, body: body(index) })));
          // The bucket's events are all an hour old when the operator reconciles.
          clock.advance(3_600_000);
          const lister = new InMemoryFolderLister();
          lister.folders.set(alice, bucket.listing('alice'));
          const reconciler = new Reconciler({ store, lister, users, quota, clock, holder: 'reconcile' });
          await reconciler.reconcile(alice);
          expect(await store.totals(alice, 'alice-id')).toEqual(bucket.truth('alice'));
          await meter.handle(bucket.records.map((_, index) => ({ messageId: `r${index}`, body: body(index) })));
          expect(await store.totals(alice, 'alice-id')).toEqual(bucket.truth('alice'));
        },
      ),
      { numRuns: 200 },
    );
  });
});

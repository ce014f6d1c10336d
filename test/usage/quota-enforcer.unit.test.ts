/**
 * The over-quota cut-off (lambda/usage/quota-enforcer.ts) over in-memory ports: an entry is
 * written when a folder crosses its quota and marked under when it comes back, the worker is
 * asked once per change, a deleted user is over nothing, and syncs that race each other (or a
 * moving meter) end on the state the latest totals call for.
 */
import fc from 'fast-check';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { cutOffInstant } from '../../lambda/credentials/revocation';
import type { UsageTotals } from '../../lambda/usage/quota';
import {
  QuotaEnforcer,
  type OverQuotaEntry,
  type OverQuotaEntryStore,
  type QuotaEnforcerDependencies,
} from '../../lambda/usage/quota-enforcer';

const alice = parseUsername('alice');
const NOW = Date.UTC(2026, 11, 8, 1, 0, 0);
const MARGIN = 11_000;

/** Entries in memory with the adapter's conditions; each call yields, so concurrent syncs interleave. */
class MemoryEntries implements OverQuotaEntryStore {
  readonly entries = new Map<Username, OverQuotaEntry>();
  now = NOW;

  async serverDate(): Promise<number> {
    await Promise.resolve();
    return Math.floor(this.now / 1000) * 1000;
  }

  async getQuotaEntry(username: Username): Promise<OverQuotaEntry | undefined> {
    await Promise.resolve();
    return this.entries.get(username);
  }

  async recordOverQuota(username: Username, since: number, previous: OverQuotaEntry | undefined): Promise<boolean> {
    await Promise.resolve();
    const stored = this.entries.get(username);
    const matches =
      previous === undefined
        ? stored === undefined
        : stored !== undefined && stored.since === previous.since && stored.under === previous.under;
    if (!matches) return false;
    this.entries.set(username, { username, since, under: false, pending: true });
    return true;
  }

  async recordUnderQuota(entry: OverQuotaEntry): Promise<boolean> {
    await Promise.resolve();
    const stored = this.entries.get(entry.username);
    if (stored === undefined || stored.since !== entry.since || stored.under) return false;
    this.entries.set(entry.username, { ...stored, under: true, pending: true });
    return true;
  }
}

function setUp(options: { quotaBytes?: number | null; defaultQuotaBytes?: number; exists?: boolean } = {}) {
  const totals = new Map<Username, UsageTotals>();
  const entries = new MemoryEntries();
  const triggers: string[] = [];
  const user = options.exists === false ? undefined : { userId: 'alice-id', quotaBytes: options.quotaBytes };
  const deps: QuotaEnforcerDependencies = {
    users: { getUser: async () => user },
    usage: { usageTotals: async (username) => totals.get(username) ?? { bytes: 0, objects: 0 } },
    entries,
    worker: { trigger: async (reason) => void triggers.push(reason) },
    defaultQuotaBytes: options.defaultQuotaBytes ?? 0,
    marginMs: MARGIN,
  };
  const store = (bytes: number) => totals.set(alice, { bytes, objects: 1 });
  const bytesNow = () => totals.get(alice)?.bytes ?? 0;
  return { enforcer: new QuotaEnforcer(deps), entries, triggers, store, bytesNow };
}

describe('QuotaEnforcer.sync', () => {
  it('writes an entry with the cut-off instant from DynamoDB clock when the folder crosses its quota, and asks the worker once', async () => {
    const { enforcer, entries, triggers, store } = setUp({ quotaBytes: 1_000_000 });
    store(1_200_000);
    const result = await enforcer.sync(alice);
    const since = cutOffInstant(NOW, MARGIN);
    expect(result).toEqual({ overQuota: true, changed: 'over', since });
    expect(entries.entries.get(alice)).toEqual({ username: alice, since, under: false, pending: true });
    expect(triggers).toEqual(['quota-over']);
  });

  it('changes nothing and asks no worker when the state already matches (a duplicate sync)', async () => {
    const { enforcer, entries, triggers, store } = setUp({ quotaBytes: 1_000_000 });
    store(1_200_000);
    await enforcer.sync(alice);
    entries.now += 5_000;
    const again = await enforcer.sync(alice);
    expect(again.changed).toBeUndefined();
    expect(again.overQuota).toBe(true);
    expect(entries.entries.get(alice)?.since).toBe(cutOffInstant(NOW, MARGIN));
    expect(triggers).toEqual(['quota-over']);
  });

  it('counts exactly the quota as over: a write at the quota would take the folder past it', async () => {
    const { enforcer, store } = setUp({ quotaBytes: 1000 });
    store(999);
    expect((await enforcer.sync(alice)).overQuota).toBe(false);
    store(1000);
    expect((await enforcer.sync(alice)).overQuota).toBe(true);
  });

  it('marks the entry under when the folder comes back below the quota, and a later crossing takes a new instant', async () => {
    const { enforcer, entries, triggers, store } = setUp({ quotaBytes: 1000 });
    store(2000);
    await enforcer.sync(alice);
    store(10);
    expect(await enforcer.sync(alice)).toEqual({ overQuota: false, changed: 'under' });
    expect(entries.entries.get(alice)).toMatchObject({ under: true, pending: true });
    entries.now += 60_000;
    store(5000);
    const again = await enforcer.sync(alice);
    expect(again).toEqual({ overQuota: true, changed: 'over', since: cutOffInstant(NOW + 60_000, MARGIN) });
    expect(triggers).toEqual(['quota-over', 'quota-under', 'quota-over']);
  });

  it('uses the default quota when the user has none of their own, and none when the user set null', async () => {
    const byDefault = setUp({ defaultQuotaBytes: 100 });
    byDefault.store(100);
    expect((await byDefault.enforcer.sync(alice)).overQuota).toBe(true);
    const unlimited = setUp({ defaultQuotaBytes: 100, quotaBytes: null });
    unlimited.store(10 ** 12);
    expect(await unlimited.enforcer.sync(alice)).toEqual({ overQuota: false });
    expect(unlimited.triggers).toEqual([]);
  });

  it('holds a user that no longer exists over nothing, and takes their entry off', async () => {
    const { enforcer, entries, store } = setUp({ exists: false });
    store(10 ** 9);
    entries.entries.set(alice, { username: alice, since: NOW, under: false, pending: false });
    expect(await enforcer.sync(alice)).toEqual({ overQuota: false, changed: 'under' });
    expect(entries.entries.get(alice)?.under).toBe(true);
  });

  it('ends on the state the latest totals call for, however concurrent syncs and meter updates interleave', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 6 }),
        fc.scheduler(),
        async (steps, scheduler) => {
          const { enforcer, entries, store, bytesNow } = setUp({ quotaBytes: 1000 });
          // Each meter update is followed by its own sync, as the meter does; all run at once.
          const running = steps.map((bytes) =>
            scheduler.schedule(Promise.resolve(bytes)).then(async (value) => {
              store(value);
              await enforcer.sync(alice);
            }),
          );
          await scheduler.waitAll();
          await Promise.all(running);
          const last = entries.entries.get(alice);
          expect(last !== undefined && !last.under).toBe(bytesNow() >= 1000);
        },
      ),
      { numRuns: 200 },
    );
  });
});

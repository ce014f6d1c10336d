/**
 * In-memory fakes of the storage meter's ports (lambda/usage/ports.ts), for pure tests: a
 * meter store with real lease semantics (one holder per folder, expiring), a user directory
 * and a quota sync that records its calls. For tests only.
 */
import type { Username } from '../../lambda/accounts/username';
import type { Clock } from '../../lambda/platform/clock';
import type {
  FolderLease,
  FolderLister,
  ListedObject,
  MeterStore,
  ObjectState,
  QuotaSync,
  UsageDelta,
  UserDirectory,
} from '../../lambda/usage/ports';
import { EMPTY_USAGE, type UsageTotals } from '../../lambda/usage/quota';
import type { QuotaSyncResult } from '../../lambda/usage/quota-enforcer';
import { roundTrip } from './in-memory-platform';

interface Folder {
  registration: string;
  totals: UsageTotals;
  states: Map<string, ObjectState>;
  lease?: { id: number; until: number };
}

/** {@link MeterStore} in memory. */
export class InMemoryMeterStore implements MeterStore {
  readonly folders = new Map<Username, Folder>();
  private nextLease = 1;

  constructor(private readonly clock: Clock) {}

  async totals(username: Username, registration: string): Promise<UsageTotals> {
    await roundTrip();
    const folder = this.folders.get(username);
    return folder && folder.registration === registration ? folder.totals : EMPTY_USAGE;
  }

  async lease(
    username: Username,
    registration: string,
    _holder: string,
    leaseMs: number,
  ): Promise<FolderLease | undefined> {
    await roundTrip();
    const now = this.clock.now();
    let folder = this.folders.get(username);
    if (folder?.lease && folder.lease.until >= now) return undefined;
    if (!folder || folder.registration !== registration) {
      folder = { registration, totals: EMPTY_USAGE, states: new Map() };
      this.folders.set(username, folder);
    }
    const id = this.nextLease++;
    folder.lease = { id, until: now + leaseMs };
    const held = folder;
    const check = async () => {
      await roundTrip();
      if (held.lease?.id !== id || this.folders.get(username) !== held) throw new Error('lease lost');
    };
    return {
      read: async (key) => {
        await check();
        return held.states.get(key);
      },
      write: async (key: string, next: ObjectState, delta: UsageDelta) => {
        await check();
        held.states.set(key, next);
        held.totals = { bytes: held.totals.bytes + delta.bytes, objects: held.totals.objects + delta.objects };
      },
      states: async () => {
        await check();
        return new Map(held.states);
      },
      replace: async (key, next) => {
        await check();
        held.states.set(key, next);
      },
      setTotals: async (totals) => {
        await check();
        held.totals = totals;
      },
      totals: async () => {
        await check();
        return held.totals;
      },
      renew: async () => {
        await check();
        held.lease = { id, until: this.clock.now() + leaseMs };
      },
      release: async () => {
        await roundTrip();
        if (held.lease?.id === id) delete held.lease;
      },
    };
  }
}

/** Users by name with their registration id. */
export class InMemoryUserDirectory implements UserDirectory {
  readonly registrations = new Map<Username, string>();

  constructor(users: readonly string[] = []) {
    for (const user of users) this.registrations.set(user as Username, `${user}-id`);
  }

  async registration(username: Username): Promise<string | undefined> {
    await roundTrip();
    return this.registrations.get(username);
  }
}

/** Records every sync; `failNext` makes the next one throw. */
export class RecordingQuotaSync implements QuotaSync {
  readonly calls: Username[] = [];
  private failures = 0;

  failNext(): void {
    this.failures += 1;
  }

  async sync(username: Username): Promise<QuotaSyncResult> {
    await roundTrip();
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('quota sync failed');
    }
    this.calls.push(username);
    return { overQuota: false };
  }
}

/** A folder listing from a map of key to size per user. */
export class InMemoryFolderLister implements FolderLister {
  readonly folders = new Map<Username, Map<string, number>>();

  async *list(username: Username): AsyncIterable<ListedObject> {
    await roundTrip();
    for (const [keyInFolder, size] of this.folders.get(username) ?? []) yield { keyInFolder, size };
  }
}

/**
 * In-memory fakes of the sessions ports (lambda/sessions/ports.ts): sessions keyed by token
 * hash, returned whether expired or not (the caller checks expiry, as with DynamoDB TTL).
 * For tests only.
 */
import { BackendUnavailableError } from '../../lambda/platform/errors';
import type { UserStore } from '../../lambda/accounts/ports';
import type { SessionRecord, SessionStore, SessionWithUserReader, VendLedger } from '../../lambda/sessions/ports';
import type { Username } from '../../lambda/accounts/username';
import type { UsageTotals } from '../../lambda/usage/quota';
import {
  totalsFor,
  type StoredUsage,
  type StoredUsageReader,
  type UsageTotalsReader,
} from '../../lambda/usage/quota-enforcer';
import { Faults, waitFor, type FakeOptions } from './in-memory-platform';

type SessionMethod = 'putSession' | 'getSession' | 'deleteSession' | 'listSessions' | 'touchSession' | 'useForVend';

/** Sessions keyed by token hash; expired records stay until deleted (TTL deletes late). */
export class InMemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly faults = new Faults<SessionMethod>();
  readonly calls = new Map<SessionMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: SessionMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async putSession(session: SessionRecord): Promise<void> {
    await this.faults.enter('putSession', this.calls, this.wait);
    // The adapter writes with attribute_not_exists(pk) and maps any failure to a 503.
    if (this.sessions.has(session.tokenHash)) throw new BackendUnavailableError('in-memory sessions (duplicate)');
    this.sessions.set(session.tokenHash, { ...session });
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    await this.faults.enter('getSession', this.calls, this.wait);
    const session = this.sessions.get(tokenHash);
    return session ? { ...session } : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.faults.enter('deleteSession', this.calls, this.wait);
    this.sessions.delete(tokenHash);
  }

  async listSessions(username: Username): Promise<SessionRecord[]> {
    await this.faults.enter('listSessions', this.calls, this.wait);
    return [...this.sessions.values()]
      .filter((session) => session.username === username)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((session) => ({ ...session }));
  }

  async touchSession(tokenHash: string, at: number): Promise<void> {
    await this.faults.enter('touchSession', this.calls, this.wait);
    const session = this.sessions.get(tokenHash);
    if (session) this.sessions.set(tokenHash, { ...session, lastUsedAt: at });
  }

  /** Vend counts per session and minute (the adapter keeps them on the session item). */
  private readonly vendCounts = new Map<string, number>();

  /**
   * The fake of the adapter's conditional update in /token's first stage: counts a vend in
   * `window` and records the use, only for a stored, unexpired session used (or created)
   * after `idleSince`. The session and its count, or undefined.
   */
  async useForVend(
    tokenHash: string,
    window: number,
    now: number,
    idleSince: number,
  ): Promise<{ session: SessionRecord; count: number } | undefined> {
    await this.faults.enter('useForVend', this.calls, this.wait);
    const session = this.sessions.get(tokenHash);
    if (!session || session.expiresAt <= now || (session.lastUsedAt ?? session.createdAt) <= idleSince)
      return undefined;
    const key = `${tokenHash}#${window}`;
    const count = (this.vendCounts.get(key) ?? 0) + 1;
    this.vendCounts.set(key, count);
    const used = { ...session, lastUsedAt: now };
    this.sessions.set(tokenHash, used);
    return { session: { ...used }, count };
  }

  /** Test helper: every stored session, copied. */
  all(): SessionRecord[] {
    return [...this.sessions.values()].map((session) => ({ ...session }));
  }

  get size(): number {
    return this.sessions.size;
  }
}

/**
 * The in-memory stores have no batch read: the reads (and /token's conditional update) are
 * issued together, which is the same single stage a BatchGetItem is. The users' minute
 * counters live here.
 */
export function inMemorySessionWithUser(
  sessions: InMemorySessionStore,
  users: UserStore,
  usage?: StoredUsageReader,
): SessionWithUserReader & VendLedger & { readonly userVendCalls: { count: number } } {
  const userVends = new Map<string, number>();
  const userVendCalls = { count: 0 };
  return {
    userVendCalls,
    async getSessionWithUser(tokenHash, username) {
      const [session, user, stored] = await Promise.all([
        sessions.getSession(tokenHash),
        users.getUser(username),
        usage?.storedUsage(username),
      ]);
      return {
        ...(session ? { session } : {}),
        ...(user ? { user } : {}),
        ...(user && usage ? { usage: totalsFor(stored, user.userId) } : {}),
      };
    },
    async startVend(tokenHash, username, window, now, idleSince) {
      const [used, user, stored] = await Promise.all([
        sessions.useForVend(tokenHash, window, now, idleSince),
        users.getUser(username),
        usage?.storedUsage(username),
      ]);
      return {
        ...(used ? { session: used.session } : {}),
        sessionVends: used?.count ?? 0,
        ...(user ? { user } : {}),
        ...(user && usage ? { usage: totalsFor(stored, user.userId) } : {}),
        userVends: userVends.get(`${username}#${window}`) ?? 0,
      };
    },
    async countUserVend(username, window, _windowEndsAt, limit) {
      userVendCalls.count++;
      await Promise.resolve();
      const key = `${username}#${window}`;
      const count = userVends.get(key) ?? 0;
      if (count >= limit) return false;
      userVends.set(key, count + 1);
      return true;
    },
  };
}

/**
 * The meter's USAGE items in memory: tests set a folder's bytes, counted for the account that
 * holds the name at that moment (`registrationOf`); a folder never set is empty.
 */
export class InMemoryUsageTotals implements StoredUsageReader, UsageTotalsReader {
  readonly items = new Map<Username, StoredUsage>();

  constructor(private readonly registrationOf: (username: Username) => string | undefined) {}

  async storedUsage(username: Username): Promise<StoredUsage | undefined> {
    await Promise.resolve();
    return this.items.get(username);
  }

  async usageTotals(username: Username, registration: string): Promise<UsageTotals> {
    return totalsFor(await this.storedUsage(username), registration);
  }

  /** Test helper: the folder of the user who now holds the name holds `bytes` in `objects` objects. */
  set(username: Username, bytes: number, objects = 1): void {
    const registration = this.registrationOf(username);
    if (registration === undefined) throw new Error(`no user ${username}`);
    this.items.set(username, { registration, totals: { bytes, objects } });
  }
}

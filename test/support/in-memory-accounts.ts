/**
 * In-memory fakes of the accounts ports (lambda/accounts/ports.ts) with the DynamoDB stores'
 * conditions (lambda/adapters/dynamo/): conditional user creation, the atomic conditional
 * lockout reservation, compare-and-set restart, lock only of an existing counter, clear, and
 * single-use reset codes; plus fast password hashers. Every operation first yields to the event
 * loop (like a network call would) and then checks its condition and writes in one synchronous
 * step, which is what makes it atomic: parallel callers interleave between operations, never
 * inside one. Failures can be injected per method with `failNext`. For tests only.
 */
import { BackendUnavailableError, UsernameTakenError } from '../../lambda/platform/errors';
import {
  UNKNOWN_DEVICE_SCOPE,
  type LockoutScope,
  type LockoutState,
  type ReserveResult,
} from '../../lambda/accounts/lockout';
import type { LockoutStore, ResetCodeStore, UserChanges, UserRecord, UserStore } from '../../lambda/accounts/ports';
import type { Username } from '../../lambda/accounts/username';
import { Faults, roundTrip, waitFor, type FakeOptions } from './in-memory-platform';

type UserMethod = 'createUser' | 'getUser' | 'updateUser' | 'holdName';

/** Users, unique by username: `createUser` is a conditional write (attribute_not_exists). */
export class InMemoryUserStore implements UserStore {
  private readonly users = new Map<string, UserRecord>();
  /** Deleted names and until when they are held (the adapter keeps these in the user's item). */
  private readonly holds = new Map<string, number>();
  private readonly faults = new Faults<UserMethod>();
  /** How often each method was called. */
  readonly calls = new Map<UserMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: UserMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async createUser(user: UserRecord): Promise<void> {
    await this.faults.enter('createUser', this.calls, this.wait);
    const heldUntil = this.holds.get(user.username);
    if (this.users.has(user.username) || (heldUntil !== undefined && heldUntil >= user.createdAt))
      throw new UsernameTakenError();
    this.holds.delete(user.username);
    this.users.set(user.username, { ...user });
  }

  /** Test helper: the registration (`userId`) that holds the name now, if any. */
  userIdOf(username: Username): string | undefined {
    return this.users.get(username)?.userId;
  }

  /** Test helper: the operator's quota for the user (`null`: none; `undefined`: the default), as `tvm-admin users quota` sets it. */
  setQuotaBytes(username: Username, quotaBytes: number | null | undefined): void {
    const user = this.users.get(username);
    if (!user) throw new Error(`no user ${username}`);
    const { quotaBytes: _old, ...rest } = user;
    this.users.set(username, quotaBytes === undefined ? rest : { ...rest, quotaBytes });
  }

  async getUser(username: Username): Promise<UserRecord | undefined> {
    await this.faults.enter('getUser', this.calls, this.wait);
    const user = this.users.get(username);
    return user ? { ...user } : undefined;
  }

  async updateUser(username: Username, userId: string, changes: UserChanges): Promise<UserRecord | undefined> {
    await this.faults.enter('updateUser', this.calls, this.wait);
    const user = this.users.get(username);
    // The adapter's condition: same registration and, for a generation change, still at `from`.
    if (!user || user.userId !== userId) return undefined;
    if (changes.sessionGeneration && user.sessionGeneration !== changes.sessionGeneration.from) return undefined;
    if (changes.ifPasswordHash !== undefined && user.passwordHash !== changes.ifPasswordHash) return undefined;
    if (changes.cutOffAt !== undefined && (user.cutOffAt ?? 0) > changes.cutOffAt) return undefined;
    if (
      changes.ifTrustedDevices !== undefined &&
      !sameDevicesAsRead(user.trustedDevices, changes.ifTrustedDevices.list)
    )
      return undefined;
    const updated: UserRecord = {
      ...user,
      ...(changes.passwordHash !== undefined ? { passwordHash: changes.passwordHash } : {}),
      ...(changes.trustedDevices !== undefined ? { trustedDevices: [...changes.trustedDevices] } : {}),
      ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
      ...(changes.sessionGeneration ? { sessionGeneration: changes.sessionGeneration.to } : {}),
      ...(changes.cutOffAt !== undefined ? { cutOffAt: changes.cutOffAt } : {}),
    };
    this.users.set(username, updated);
    return { ...updated };
  }

  async holdName(username: Username, userId: string, heldUntil: number): Promise<boolean> {
    await this.faults.enter('holdName', this.calls, this.wait);
    if (this.users.get(username)?.userId !== userId) return false;
    this.users.delete(username);
    this.holds.set(username, heldUntil);
    return true;
  }

  async nameHeldUntil(username: Username): Promise<number | undefined> {
    await roundTrip();
    return this.holds.get(username);
  }

  async *listUsers(): AsyncIterable<UserRecord> {
    for (const user of [...this.users.values()]) yield { ...user };
  }

  /** Test helper (no port method): what an administrator's deletion would do. */
  remove(username: string): boolean {
    return this.users.delete(username);
  }

  /** Test helper: every stored user, copied. */
  all(): UserRecord[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }

  get size(): number {
    return this.users.size;
  }
}

/** The adapter's key: the unknown-device counter is the name alone, others carry their scope. */
function counterKey(username: string, scope: LockoutScope = UNKNOWN_DEVICE_SCOPE): string {
  return scope === UNKNOWN_DEVICE_SCOPE ? username : `${username}#${scope}`;
}

/** A stored counter. */
interface CounterItem {
  attempts?: number;
  lockedUntil?: number;
  expiresAt: number;
}

type LockoutMethod = 'tryReserve' | 'restart' | 'lock' | 'clear' | 'peek';

/**
 * Failed-login counters with DynamoDB's condition semantics. `tryReserve` is the adapter's
 * UpdateItem with `attribute_not_exists(pk) OR (attempts < :threshold AND expiresAt > :now AND
 * attribute_not_exists(lockedUntil))`, evaluated and applied in one step.
 */
export class InMemoryLockoutStore implements LockoutStore {
  private readonly counters = new Map<string, CounterItem>();
  private readonly faults = new Faults<LockoutMethod>();
  readonly calls = new Map<LockoutMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: LockoutMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async tryReserve(
    username: Username,
    threshold: number,
    now: number,
    expiresAt: number,
    scope?: LockoutScope,
  ): Promise<ReserveResult> {
    await this.faults.enter('tryReserve', this.calls, this.wait);
    const key = counterKey(username, scope);
    const item = this.counters.get(key);
    // In DynamoDB a comparison with a missing attribute is false, so an item without attempts is refused.
    const open =
      item === undefined ||
      (item.attempts !== undefined &&
        item.attempts < threshold &&
        item.expiresAt > now &&
        item.lockedUntil === undefined);
    if (open) {
      const attempts = (item?.attempts ?? 0) + 1;
      this.counters.set(key, { ...item, attempts, expiresAt });
      return { reserved: true, attempts };
    }
    return { reserved: false, state: this.state(username, scope) };
  }

  async restart(
    username: Username,
    seen: LockoutState | undefined,
    expiresAt: number,
    scope?: LockoutScope,
  ): Promise<boolean> {
    await this.faults.enter('restart', this.calls, this.wait);
    // The adapter puts `seen` into ExpressionAttributeValues; the document client refuses to
    // marshal NaN or Infinity, and the adapter maps that to a 503.
    if (seen && ![seen.attempts, seen.expiresAt, seen.lockedUntil ?? 0].every(Number.isFinite)) {
      throw new BackendUnavailableError('in-memory lockout (unmarshallable number)');
    }
    const key = counterKey(username, scope);
    const item = this.counters.get(key);
    const matches =
      seen === undefined
        ? item === undefined
        : item !== undefined &&
          item.attempts === seen.attempts &&
          item.expiresAt === seen.expiresAt &&
          item.lockedUntil === seen.lockedUntil;
    if (!matches) return false;
    this.counters.set(key, { attempts: 1, expiresAt });
    return true;
  }

  async lock(username: Username, lockedUntil: number, expiresAt: number, scope?: LockoutScope): Promise<void> {
    await this.faults.enter('lock', this.calls, this.wait);
    const key = counterKey(username, scope);
    const item = this.counters.get(key);
    // The adapter's condition attribute_exists(attempts): a counter cleared meanwhile stays cleared.
    if (item?.attempts === undefined) return;
    this.counters.set(key, { ...item, lockedUntil, expiresAt });
  }

  async clear(username: Username, scope?: LockoutScope): Promise<void> {
    await this.faults.enter('clear', this.calls, this.wait);
    this.counters.delete(counterKey(username, scope));
  }

  async peek(username: Username, scope?: LockoutScope): Promise<LockoutState | undefined> {
    await this.faults.enter('peek', this.calls, this.wait);
    return this.state(username, scope);
  }

  /** Test helper: the keys of every stored counter (`<username>` or `<username>#<scope>`). */
  keys(): string[] {
    return [...this.counters.keys()];
  }

  /** The counter as the adapter's read-back returns it (NaN attempts when the item has none). */
  state(username: string, scope?: LockoutScope): LockoutState | undefined {
    const item = this.counters.get(counterKey(username, scope));
    if (!item) return undefined;
    return {
      attempts: item.attempts ?? Number.NaN,
      expiresAt: item.expiresAt,
      ...(item.lockedUntil !== undefined ? { lockedUntil: item.lockedUntil } : {}),
    };
  }
}

type ResetMethod = 'putResetCode' | 'redeemResetCode' | 'restoreResetCode' | 'deleteResetCode';

/** One reset code per user; redeeming is an atomic conditional delete, as in the adapter. */
export class InMemoryResetCodeStore implements ResetCodeStore {
  private readonly codes = new Map<string, { codeHash: string; expiresAt: number }>();
  private readonly faults = new Faults<ResetMethod>();
  readonly calls = new Map<ResetMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: ResetMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async putResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.faults.enter('putResetCode', this.calls, this.wait);
    this.codes.set(username, { codeHash, expiresAt });
  }

  async redeemResetCode(username: Username, codeHash: string, now: number): Promise<boolean> {
    await this.faults.enter('redeemResetCode', this.calls, this.wait);
    const code = this.codes.get(username);
    if (!code || code.codeHash !== codeHash || code.expiresAt <= now) return false;
    this.codes.delete(username);
    return true;
  }

  async restoreResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.faults.enter('restoreResetCode', this.calls, this.wait);
    if (!this.codes.has(username)) this.codes.set(username, { codeHash, expiresAt });
  }

  async deleteResetCode(username: Username): Promise<void> {
    await this.faults.enter('deleteResetCode', this.calls, this.wait);
    this.codes.delete(username);
  }

  /** Test helper: whether the user has a code stored. */
  has(username: string): boolean {
    return this.codes.has(username);
  }
}

/** The adapter's trusted-devices condition: none stored as read, or the same length and newest entry. */
function sameDevicesAsRead(stored: UserRecord['trustedDevices'], read: UserRecord['trustedDevices']): boolean {
  if (read === undefined || stored === undefined) return read === stored;
  return stored.length === read.length && stored.at(-1)?.hash === read.at(-1)?.hash;
}

/**
 * In-memory implementations of the ports in lambda/core/ports.ts, with the same semantics as
 * the DynamoDB adapter (lambda/adapters/dynamo-store.ts): conditional user creation, the atomic
 * conditional lockout reservation, compare-and-set restart, lock only of an existing counter, clear, and
 * sessions returned whether expired or not (the caller checks expiry, as with DynamoDB TTL).
 *
 * Every operation first yields to the event loop (like a network call would) and then checks
 * its condition and writes in one synchronous step, which is what makes it atomic: parallel
 * callers really interleave between operations, never inside one.
 *
 * For tests and benchmarks only. Failures can be injected per method with `failNext`.
 */
import { createHash } from 'node:crypto';
import { BackendUnavailableError, UsernameTakenError } from '../../lambda/platform/errors';
import type { TvmConfig } from '../../lambda/platform/config';
import type { Password, PasswordHasher } from '../../lambda/accounts/password';
import { NewPasswordPolicy } from '../../lambda/accounts/password-policy';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope, type LockoutState, type ReserveResult } from '../../lambda/accounts/lockout';
import { GzipCommonPasswordList } from '../../lambda/adapters/common-passwords';
import type { AuditEvent, AuditTrail, DomainLog } from '../../lambda/platform/audit';
import type { Clock } from '../../lambda/platform/clock';
import type { CredentialIssuer, CredentialRequest } from '../../lambda/credentials/ports';
import type { IssuedCredentials } from '../../lambda/contract/wire';
import type { LockoutStore, ResetCodeStore, UserChanges, UserRecord, UserStore } from '../../lambda/accounts/ports';
import type { SessionRecord, SessionStore, SessionWithUserReader } from '../../lambda/sessions/ports';
import type { LoginRequest } from '../../lambda/core/requests';
import type { MfaChallengeResult, SessionResult } from '../../lambda/contract/wire';
import type { ServiceDependencies, Services } from '../../lambda/services';
import { InMemoryMfaStore } from './in-memory-mfa';
import type { Username } from '../../lambda/accounts/username';

/** A clock tests move by hand. Starts at a fixed instant so results are reproducible. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('A clock only moves forward.');
    this.current += ms;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
}

/** Yields like a network round trip, so parallel callers interleave between operations. */
function roundTrip(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Per-method one-shot failures, shared by the fakes. */
class Faults<M extends string> {
  private readonly pending = new Map<M, unknown[]>();
  /** The next call of `method` rejects with `error` (queue several by calling again). */
  failNext(method: M, error: unknown = new BackendUnavailableError('in-memory fake')): void {
    const queue = this.pending.get(method) ?? [];
    queue.push(error);
    this.pending.set(method, queue);
  }
  async enter(method: M, calls: Map<M, number>, wait: (() => Promise<void>) | undefined): Promise<void> {
    calls.set(method, (calls.get(method) ?? 0) + 1);
    if (wait) await wait();
    const queue = this.pending.get(method);
    if (queue && queue.length > 0) throw queue.shift();
  }
}

export interface FakeOptions {
  /** Yield to the event loop before each operation (default true). Benchmarks may turn it off. */
  readonly yieldEachCall?: boolean;
  /**
   * Replaces the default yield (setImmediate) before each operation, e.g. with a fast-check
   * scheduler's `() => s.schedule(Promise.resolve())` to explore interleavings.
   */
  readonly roundTrip?: () => Promise<void>;
}

function waitFor(options: FakeOptions): (() => Promise<void>) | undefined {
  if (options.roundTrip) return options.roundTrip;
  return (options.yieldEachCall ?? true) ? roundTrip : undefined;
}

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
    if (this.users.has(user.username) || (heldUntil !== undefined && heldUntil >= user.createdAt)) throw new UsernameTakenError();
    this.holds.delete(user.username);
    this.users.set(user.username, { ...user });
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
    if (changes.ifTrustedDevices !== undefined && !sameDevicesAsRead(user.trustedDevices, changes.ifTrustedDevices.list)) return undefined;
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

type SessionMethod = 'putSession' | 'getSession' | 'deleteSession' | 'listSessions' | 'touchSession';

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

  /** Test helper: every stored session, copied. */
  all(): SessionRecord[] {
    return [...this.sessions.values()].map((session) => ({ ...session }));
  }

  get size(): number {
    return this.sessions.size;
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

  async tryReserve(username: Username, threshold: number, now: number, expiresAt: number, scope?: LockoutScope): Promise<ReserveResult> {
    await this.faults.enter('tryReserve', this.calls, this.wait);
    const key = counterKey(username, scope);
    const item = this.counters.get(key);
    // In DynamoDB a comparison with a missing attribute is false, so an item without attempts is refused.
    const open =
      item === undefined ||
      (item.attempts !== undefined && item.attempts < threshold && item.expiresAt > now && item.lockedUntil === undefined);
    if (open) {
      const attempts = (item?.attempts ?? 0) + 1;
      this.counters.set(key, { ...item, attempts, expiresAt });
      return { reserved: true, attempts };
    }
    return { reserved: false, state: this.state(username, scope) };
  }

  async restart(username: Username, seen: LockoutState | undefined, expiresAt: number, scope?: LockoutScope): Promise<boolean> {
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

/**
 * Records every request and answers with fake credentials expiring `durationSeconds` after
 * the clock's now. Secrets are distinct per call so tests can tell them apart.
 */
export class InMemoryCredentialIssuer implements CredentialIssuer {
  readonly requests: CredentialRequest[] = [];
  private readonly faults = new Faults<'issue'>();
  readonly calls = new Map<'issue', number>();
  private serial = 0;
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(
    private readonly clock: Clock,
    options: FakeOptions = {},
  ) {
    this.wait = waitFor(options);
  }

  failNext(error?: unknown): void {
    this.faults.failNext('issue', error ?? new BackendUnavailableError('STS'));
  }

  async issue(request: CredentialRequest): Promise<IssuedCredentials> {
    await this.faults.enter('issue', this.calls, this.wait);
    this.requests.push({ ...request });
    this.serial += 1;
    const id = String(this.serial).padStart(8, '0');
    return {
      accessKeyId: `ASIAFAKE${id}`,
      secretAccessKey: `fake-secret-${id}`,
      sessionToken: `fake-session-token-${id}`,
      expiration: new Date(this.clock.now() + request.durationSeconds * 1000).toISOString(),
    };
  }
}

/**
 * A fast stand-in for bcrypt with the same contract: a salted hash that never equals the
 * password, `verify` true only for the same password, `verifyAgainstDummy` always false.
 * Counts its calls.
 */
export class FakePasswordHasher implements PasswordHasher {
  readonly calls = { hash: 0, verify: 0, verifyAgainstDummy: 0 };
  private salt = 0;
  private readonly wait: () => Promise<void>;

  constructor(options: Pick<FakeOptions, 'roundTrip'> = {}) {
    this.wait = options.roundTrip ?? roundTrip;
  }

  async hash(password: Password): Promise<string> {
    this.calls.hash += 1;
    const salt = `s${(this.salt += 1)}`;
    return `fake$${salt}$${digest(salt, password)}`;
  }

  async verify(password: Password, hash: string): Promise<boolean> {
    this.calls.verify += 1;
    await this.wait();
    const [scheme, salt, stored] = hash.split('$');
    return scheme === 'fake' && salt !== undefined && stored === digest(salt, password);
  }

  async verifyAgainstDummy(password: Password): Promise<false> {
    this.calls.verifyAgainstDummy += 1;
    await this.wait();
    digest('dummy', password);
    return false;
  }

  /** Hashes of another scheme (as tests plant them) count as weaker. */
  needsRehash(hash: string): boolean {
    return !hash.startsWith('fake$');
  }

  /** All password checks so far, real or dummy. */
  get checks(): number {
    return this.calls.verify + this.calls.verifyAgainstDummy;
  }
}

function digest(salt: string, password: string): string {
  return createHash('sha256').update(`${salt}:${password}`, 'utf8').digest('hex');
}

/** Wraps any hasher and counts the password checks it runs (for the lockout bound). */
export class CountingHasher implements PasswordHasher {
  readonly calls = { hash: 0, verify: 0, verifyAgainstDummy: 0 };
  constructor(private readonly inner: PasswordHasher) {}
  hash(password: Password): Promise<string> {
    this.calls.hash += 1;
    return this.inner.hash(password);
  }
  verify(password: Password, hash: string): Promise<boolean> {
    this.calls.verify += 1;
    return this.inner.verify(password, hash);
  }
  verifyAgainstDummy(password: Password): Promise<false> {
    this.calls.verifyAgainstDummy += 1;
    return this.inner.verifyAgainstDummy(password);
  }
  needsRehash(hash: string): boolean {
    return this.inner.needsRehash(hash);
  }
  get checks(): number {
    return this.calls.verify + this.calls.verifyAgainstDummy;
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

/** The audit trail in memory: newest first on listing, like the adapter's reverse query. */
export class InMemoryAuditTrail implements AuditTrail {
  readonly events: Array<AuditEvent & { expiresAt: number }> = [];
  private readonly faults = new Faults<'record' | 'list'>();
  readonly calls = new Map<'record' | 'list', number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: 'record' | 'list', error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async record(event: AuditEvent, expiresAt: number): Promise<void> {
    await this.faults.enter('record', this.calls, this.wait);
    this.events.push({ ...event, expiresAt });
  }

  /** Counted like a write (the adapter sends one), stored nowhere. */
  async recordNothing(event: AuditEvent, _expiresAt: number): Promise<void> {
    await this.faults.enter('record', this.calls, this.wait);
    this.refused.push(event.type);
  }

  /** Test helper: the types of the writes refused by {@link recordNothing}. */
  readonly refused: string[] = [];

  async list(username: Username, limit: number): Promise<AuditEvent[]> {
    await this.faults.enter('list', this.calls, this.wait);
    return this.events
      .filter((event) => event.username === username)
      .reverse()
      .slice(0, limit)
      .map(({ expiresAt: _expiresAt, ...event }) => event);
  }

  /** Test helper: the event types recorded for a user, oldest first. */
  types(username: string): string[] {
    return this.events.filter((event) => event.username === username).map((event) => event.type);
  }
}

/** One recorded log line. */
export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes?: Record<string, unknown>;
}

/** A DomainLog that keeps what it was told, so tests can check nothing secret is logged. */
export class MemoryLog implements DomainLog {
  readonly entries: LogEntry[] = [];
  info(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, ...(attributes ? { attributes } : {}) });
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, ...(attributes ? { attributes } : {}) });
  }
  error(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, ...(attributes ? { attributes } : {}) });
  }
  /** Everything logged, as one string, for "does not contain" checks. */
  text(): string {
    return JSON.stringify(this.entries);
  }
}

/** A complete, valid configuration with the documented defaults and the minimum bcrypt cost. */
export function testConfig(overrides: Partial<TvmConfig> = {}): TvmConfig {
  return {
    tableName: 'tvm-test-users',
    bucketName: 'tvm-test-files',
    vendingRoleArn: 'arn:aws:iam::123456789012:role/tvm-vending',
    region: 'eu-west-1',
    partition: 'aws',
    bcryptCost: 10,
    sessionDays: 30,
    sessionIdleDays: 14,
    maxSessions: 50,
    passwordMinCharacters: 8,
    credentialSeconds: 3600,
    lockoutThreshold: 5,
    lockoutMinutes: 15,
    auditRetentionDays: 90,
    allowedOrigins: ['*'],
    passkeyRpId: 'localhost',
    passkeyOrigins: ['http://localhost:3000'],
    ...overrides,
  };
}

/** Everything the services need (lambda/services.ts), in memory, with the concrete fake types exposed. */
export interface InMemoryBackend extends ServiceDependencies {
  readonly users: InMemoryUserStore;
  readonly sessions: InMemorySessionStore;
  readonly lockout: InMemoryLockoutStore;
  readonly resetCodes: InMemoryResetCodeStore;
  readonly audit: InMemoryAuditTrail;
  readonly issuer: InMemoryCredentialIssuer;
  readonly clock: ManualClock;
  readonly log: MemoryLog;
  /** One store for both second-factor ports, as in DynamoDB. */
  readonly factors: InMemoryMfaStore;
  readonly challenges: InMemoryMfaStore;
}

/**
 * The in-memory stores have no batch read: the two reads are issued together, which is the
 * same single stage a BatchGetItem is.
 */
export function inMemorySessionWithUser(sessions: SessionStore, users: UserStore): SessionWithUserReader {
  return {
    async getSessionWithUser(tokenHash, username) {
      const [session, user] = await Promise.all([sessions.getSession(tokenHash), users.getUser(username)]);
      return { ...(session ? { session } : {}), ...(user ? { user } : {}) };
    },
  };
}

/** The real list, loaded once per test file on first use. */
const sharedCommonPasswords = new GzipCommonPasswordList();

/** Builds a full in-memory backend; pass a hasher (e.g. BcryptPasswordHasher(10)) or get the fast fake. */
export function inMemoryBackend(
  options: { config?: Partial<TvmConfig>; hasher?: PasswordHasher; clock?: ManualClock } & FakeOptions = {},
): InMemoryBackend {
  const clock = options.clock ?? new ManualClock();
  const fakeOptions: FakeOptions = {
    yieldEachCall: options.yieldEachCall ?? true,
    ...(options.roundTrip ? { roundTrip: options.roundTrip } : {}),
  };
  const users = new InMemoryUserStore(fakeOptions);
  const sessions = new InMemorySessionStore(fakeOptions);
  const mfa = new InMemoryMfaStore();
  return {
    config: testConfig(options.config),
    users,
    sessions,
    sessionWithUser: inMemorySessionWithUser(sessions, users),
    lockout: new InMemoryLockoutStore(fakeOptions),
    resetCodes: new InMemoryResetCodeStore(fakeOptions),
    audit: new InMemoryAuditTrail(fakeOptions),
    issuer: new InMemoryCredentialIssuer(clock, fakeOptions),
    hasher: options.hasher ?? new FakePasswordHasher(fakeOptions),
    passwordPolicy: new NewPasswordPolicy(options.config?.passwordMinCharacters ?? 8, sharedCommonPasswords),
    clock,
    log: new MemoryLog(),
    factors: mfa,
    challenges: mfa,
  };
}

/** A login that must open a session: its result, or a failure if a second factor was asked for instead. */
export async function loginSession(services: Pick<Services, 'sessions'>, request: LoginRequest, origin?: Parameters<Services['sessions']['login']>[1]): Promise<SessionResult> {
  const outcome = await services.sessions.login(request, origin);
  if (outcome.kind !== 'session') throw new Error('expected a session, got a second-factor challenge');
  return outcome.result;
}

/** A login that must stop at its second factor: the challenge, or a failure if a session was opened. */
export async function loginChallenge(services: Pick<Services, 'sessions'>, request: LoginRequest, origin?: Parameters<Services['sessions']['login']>[1]): Promise<MfaChallengeResult> {
  const outcome = await services.sessions.login(request, origin);
  if (outcome.kind !== 'second-factor-required') throw new Error('expected a second-factor challenge, got a session');
  return outcome.result;
}

/** The adapter's trusted-devices condition: none stored as read, or the same length and newest entry. */
function sameDevicesAsRead(stored: UserRecord['trustedDevices'], read: UserRecord['trustedDevices']): boolean {
  if (read === undefined || stored === undefined) return read === stored;
  return stored.length === read.length && stored.at(-1)?.hash === read.at(-1)?.hash;
}

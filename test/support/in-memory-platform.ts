/**
 * In-memory fakes of the platform's ports (the clock, the audit trail, the log) and what every
 * fake shares: a yield per call like a network round trip, and injectable faults.
 * For tests only.
 */
import { BackendUnavailableError } from '../../lambda/platform/errors';
import type { AuditEvent, AuditTrail, DomainLog } from '../../lambda/platform/audit';
import type { Clock } from '../../lambda/platform/clock';
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
export function roundTrip(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Per-method one-shot failures, shared by the fakes. */
export class Faults<M extends string> {
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

export function waitFor(options: FakeOptions): (() => Promise<void>) | undefined {
  if (options.roundTrip) return options.roundTrip;
  return (options.yieldEachCall ?? true) ? roundTrip : undefined;
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

  async record(event: AuditEvent, expiresAt: number, entryId?: string): Promise<void> {
    await this.faults.enter('record', this.calls, this.wait);
    // An entry id fixes the key (with the time): recording it again replaces the entry in place.
    const key = entryId === undefined ? undefined : `${event.at}#${entryId}`;
    const index = key === undefined ? -1 : this.entryKeys.indexOf(key);
    if (index >= 0) this.events[index] = { ...event, expiresAt };
    else {
      this.events.push({ ...event, expiresAt });
      this.entryKeys.push(key);
    }
  }

  /** The key each event in {@link events} was written under, when the caller fixed one. */
  private readonly entryKeys: (string | undefined)[] = [];

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

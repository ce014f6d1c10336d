/**
 * A stopwatch for the time a benchmark leaves out of the TVM's own work: waiting on a backend
 * (DynamoDB, STS) or in bcrypt. Overlapping waits count once in `totalMs` (the wall time while
 * at least one is in flight), so subtracting it never takes the same millisecond off twice.
 * The ledger lives on globalThis: the copies of this module built into a cold-start bundle
 * (timed-bcrypt.ts) and into its preload (timed-backends.ts) share it, and the cold-start
 * harness reads it there.
 */
import { performance } from 'node:perf_hooks';

/** What has been left out so far. */
export interface ExcludedTime {
  /** Wall time while at least one wait was in flight, in ms. */
  totalMs: number;
  /** Each kind's wall time while at least one wait of that kind was in flight, in ms (kinds may overlap). */
  byKind: Record<string, number>;
}

/** Wall time while at least one of some waits is in flight. */
interface Clock {
  inFlight: number;
  since: number;
  ms: number;
}

interface Ledger {
  all: Clock;
  kinds: Record<string, Clock>;
}

const LEDGER_KEY = '__tvmBenchExcluded';

function ledger(): Ledger {
  const global = globalThis as { [LEDGER_KEY]?: Ledger };
  return (global[LEDGER_KEY] ??= { all: { inFlight: 0, since: 0, ms: 0 }, kinds: {} });
}

function start(clock: Clock, at: number): void {
  if (clock.inFlight++ === 0) clock.since = at;
}

function stop(clock: Clock, at: number): void {
  if (--clock.inFlight === 0) clock.ms += at - clock.since;
}

/** Runs `run`, counting the time until it settles as excluded time of `kind`. */
export async function excluded<T>(kind: string, run: () => Promise<T>): Promise<T> {
  const book = ledger();
  const clocks = [book.all, (book.kinds[kind] ??= { inFlight: 0, since: 0, ms: 0 })];
  const started = performance.now();
  for (const clock of clocks) start(clock, started);
  try {
    return await run();
  } finally {
    const ended = performance.now();
    for (const clock of clocks) stop(clock, ended);
  }
}

/** A copy of what has been left out so far (waits still in flight not counted). */
export function excludedTime(): ExcludedTime {
  const { all, kinds } = ledger();
  return {
    totalMs: all.ms,
    byKind: Object.fromEntries(Object.entries(kinds).map(([kind, clock]) => [kind, clock.ms])),
  };
}

type Send = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/**
 * Wraps `send` of each client class so its calls count as excluded time of kind `backend`.
 * Wrap after any mock is installed, so the mock's answer is inside the wrapper.
 */
export function timeBackendCalls(clients: readonly unknown[]): void {
  for (const client of clients as { prototype: { send: Send } }[]) {
    const original = client.prototype.send;
    client.prototype.send = function timedSend(this: unknown, ...args: unknown[]) {
      return excluded('backend', () => original.apply(this, args));
    };
  }
}

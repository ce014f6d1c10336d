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
  /** Each kind's own wall time (kinds may overlap), in ms. */
  byKind: Record<string, number>;
}

interface Ledger extends ExcludedTime {
  inFlight: number;
  since: number;
}

const LEDGER_KEY = '__tvmBenchExcluded';

function ledger(): Ledger {
  const global = globalThis as { [LEDGER_KEY]?: Ledger };
  return (global[LEDGER_KEY] ??= { totalMs: 0, byKind: {}, inFlight: 0, since: 0 });
}

/** Runs `run`, counting the time until it settles as excluded time of `kind`. */
export async function excluded<T>(kind: string, run: () => Promise<T>): Promise<T> {
  const book = ledger();
  const started = performance.now();
  if (book.inFlight++ === 0) book.since = started;
  try {
    return await run();
  } finally {
    const ended = performance.now();
    book.byKind[kind] = (book.byKind[kind] ?? 0) + ended - started;
    if (--book.inFlight === 0) book.totalMs += ended - book.since;
  }
}

/** A copy of what has been left out so far (waits still in flight not counted). */
export function excludedTime(): ExcludedTime {
  const { totalMs, byKind } = ledger();
  return { totalMs, byKind: { ...byKind } };
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

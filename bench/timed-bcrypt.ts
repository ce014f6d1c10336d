/**
 * bcryptjs with a stopwatch, swapped in for `bcryptjs` in the cold-start variants of the
 * password routes (bench/run.ts): the time spent in hash and compare accumulates in
 * `globalThis.__tvmBenchBcryptMs`, so the first event's time without bcrypt can be reported.
 */
import bcrypt from 'bcryptjs';
import { performance } from 'node:perf_hooks';

const timing = globalThis as { __tvmBenchBcryptMs?: number };

function timed<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const started = performance.now();
    try {
      return await run(...args);
    } finally {
      timing.__tvmBenchBcryptMs = (timing.__tvmBenchBcryptMs ?? 0) + performance.now() - started;
    }
  };
}

export default {
  ...bcrypt,
  hash: timed(bcrypt.hash as (password: string, salt: number | string) => Promise<string>),
  compare: timed(bcrypt.compare as (password: string, hash: string) => Promise<boolean>),
};

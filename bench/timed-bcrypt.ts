/**
 * bcryptjs with a stopwatch, swapped in for `bcryptjs` in the cold-start variants of the
 * password routes (bench/cold-starts.ts): the time spent in hash and compare is excluded time
 * of kind `bcrypt` (excluded-time.ts), so the first event's time without bcrypt can be reported.
 */
import bcrypt from 'bcryptjs';
import { excluded } from './excluded-time';

function timed<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => excluded('bcrypt', () => run(...args));
}

export default {
  ...bcrypt,
  hash: timed(bcrypt.hash as (password: string, salt: number | string) => Promise<string>),
  compare: timed(bcrypt.compare as (password: string, hash: string) => Promise<boolean>),
};

/**
 * Storage sizes as an operator writes them (`500MB`, `10GiB`, `1.5 TB`, `1048576`) and as the
 * TVM prints them: decimal units are powers of 1000, binary ones (`KiB`...) powers of 1024, a
 * bare number is bytes. Exact: a size that is not a whole number of bytes is refused, never
 * rounded. Pure.
 */
import { MAX_QUOTA_BYTES } from '../contract/limits';

/** Bytes per unit, by the unit as written (case-insensitive). */
const UNITS: Readonly<Record<string, bigint>> = {
  b: 1n,
  kb: 1000n,
  mb: 1000n ** 2n,
  gb: 1000n ** 3n,
  tb: 1000n ** 4n,
  pb: 1000n ** 5n,
  kib: 1024n,
  mib: 1024n ** 2n,
  gib: 1024n ** 3n,
  tib: 1024n ** 4n,
  pib: 1024n ** 5n,
};

/** A size that cannot be a quota; `message` says why and what would do. */
export class SizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SizeError';
  }
}

/** Digits, an optional fraction, an optional unit: what a size is made of (checked piece by piece below). */
const SIZE = /^(\d+)(?:\.(\d+))?\s?([a-z]*)$/i;

/**
 * The bytes a written size stands for, between 1 and MAX_QUOTA_BYTES. Throws {@link SizeError}
 * for anything else: negative, not a number, an unknown unit, a fraction of a byte, zero, or
 * more than the limit.
 */
export function parseSize(raw: string): number {
  const text = raw.trim();
  const example = 'Give a whole number of bytes or a size such as 500MB, 1.5GB or 10GiB';
  if (text.startsWith('-')) throw new SizeError(`"${raw}" is negative. ${example}.`);
  const match = SIZE.exec(text);
  if (!match) throw new SizeError(`"${raw}" is not a size. ${example}.`);
  const [, whole = '', fraction = '', unitText = ''] = match;
  const unit = UNITS[unitText.toLowerCase() || 'b'];
  if (unit === undefined)
    throw new SizeError(
      `"${raw}" has an unknown unit "${unitText}". Units: B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB.`,
    );
  // Exact arithmetic: (whole.fraction) * unit must be a whole number of bytes.
  const scale = 10n ** BigInt(fraction.length);
  const scaled = (BigInt(whole) * scale + BigInt(fraction || '0')) * unit;
  if (scaled % scale !== 0n) throw new SizeError(`"${raw}" is not a whole number of bytes. ${example}.`);
  const bytes = scaled / scale;
  if (bytes === 0n) throw new SizeError(`"${raw}" is zero. For no quota at all, give "none".`);
  if (bytes > BigInt(MAX_QUOTA_BYTES))
    throw new SizeError(`"${raw}" is more than the largest quota, ${formatSize(MAX_QUOTA_BYTES)}.`);
  return Number(bytes);
}

/** Decimal units, largest first, for printing. */
const PRINTED: readonly (readonly [string, number])[] = [
  ['PB', 1e15],
  ['TB', 1e12],
  ['GB', 1e9],
  ['MB', 1e6],
  ['KB', 1e3],
];

/** A size for people: `1.2 MB` (decimal units, at most one decimal), or `512 B`. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of PRINTED) {
    if (bytes >= size) {
      const value = Math.round((bytes / size) * 10) / 10;
      return `${Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} B`;
}

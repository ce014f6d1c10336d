/**
 * Quota sizes as the operator writes them (lambda/usage/size.ts): decimal and binary units,
 * exact arithmetic, and every bad size refused with a reason, never rounded or clamped.
 */
import fc from 'fast-check';
import { MAX_QUOTA_BYTES } from '../../lambda/contract/limits';
import { formatSize, parseSize, SizeError } from '../../lambda/usage/size';

describe('parseSize', () => {
  it.each([
    ['500MB', 500_000_000],
    ['10GiB', 10 * 1024 ** 3],
    ['1048576', 1_048_576],
    ['1.5 GB', 1_500_000_000],
    ['1.5KiB', 1536],
    ['2tb', 2e12],
    ['1 PiB', 2 ** 50],
    ['7B', 7],
    ['  300KB ', 300_000],
  ])('reads %s as %d bytes', (raw, bytes) => {
    expect(parseSize(raw)).toBe(bytes);
  });

  it.each([
    ['-1MB', /negative/],
    ['-5', /negative/],
    ['abc', /not a size/],
    ['', /not a size/],
    ['1e9', /not a size/],
    ['12 parsecs', /not a size|unknown unit/],
    ['10XB', /unknown unit/],
    ['0.5B', /not a whole number of bytes/],
    ['1.0001KB', /not a whole number of bytes/],
    ['0', /zero.*none/],
    ['0GB', /zero/],
    ['1.5PiB', /more than the largest quota/],
    ['2PB', /more than the largest quota/],
    ['99999999999999999999999', /more than the largest quota/],
    ['1,000', /not a size/],
    ['0x10', /unknown unit|not a size/],
  ])('refuses %s with a reason', (raw, reason) => {
    expect(() => parseSize(raw)).toThrow(SizeError);
    expect(() => parseSize(raw)).toThrow(reason);
  });

  it('reads every whole number of bytes up to the limit back exactly, bare or in any unit that divides it', () => {
    const units = { B: 1, KB: 1e3, MB: 1e6, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.entries(units)),
        fc.integer({ min: 1, max: MAX_QUOTA_BYTES / 1024 ** 3 }),
        ([unit, size], count) => {
          const bytes = count * size;
          expect(parseSize(String(bytes))).toBe(bytes);
          expect(parseSize(`${count}${unit}`)).toBe(bytes);
        },
      ),
    );
  });

  it('never answers anything but a whole number of bytes in range: any other text throws SizeError', () => {
    const outcome = (raw: string): 'bytes in range' | 'SizeError' | 'other' => {
      try {
        const bytes = parseSize(raw);
        return Number.isSafeInteger(bytes) && bytes >= 1 && bytes <= MAX_QUOTA_BYTES ? 'bytes in range' : 'other';
      } catch (error) {
        return error instanceof SizeError ? 'SizeError' : 'other';
      }
    };
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?\d{0,20}(\.\d{0,4})? ?[kmgtpKMGTP]?i?[bB]?$/)), (raw) => {
        expect(outcome(raw)).not.toBe('other');
      }),
    );
  });
});

describe('formatSize', () => {
  it.each([
    [512, '512 B'],
    [1_000, '1 KB'],
    [1_200_000, '1.2 MB'],
    [3_200_000_000, '3.2 GB'],
    [10e9, '10 GB'],
  ])('prints %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});

/**
 * fast-check generators for shared paths, shared by the sharing tests. The units are chosen to
 * be adversarial: URL syntax (`%`, `+`, `#`, `&`, `;`), XML syntax, dots that are not whole
 * segments, look-alikes and every UTF-8 length (1 to 4 bytes), composed and decomposed forms.
 */
import fc from 'fast-check';
import { SHARE_PATH_MAX_BYTES } from '../../lambda/contract/limits';
import { EMULATOR_RESERVED, MAX_KEY_SEGMENT_BYTES } from '../../local/s3/request';

/** One unit of a path segment; never `/` and never a refused character. */
export const pathUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'abcxyz019ABZ'.split('')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...' .-_%+#&=@!()\'",;:~[]^|<>`'.split(''), '%2F', '%00', '&quot;', '&amp;', '..'),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '\u00E9', // é, 2 bytes of UTF-8, inside Latin-1
      'e\u0301', // é decomposed
      '\u0436', // ж, 2 bytes, beyond Latin-1
      '\u5199', // 写, 3 bytes
      '\u{1F600}', // 😀, 4 bytes (a surrogate pair)
      '\u00A0', // no-break space
      '\uFF21', // fullwidth A
      '\u212A', // Kelvin sign
      '\u0130', // dotted capital I
    ),
  },
);

/**
 * The size of a path as a session policy carries it, computed independently of the code under
 * test: ASCII 1 (a `"` 2, escaped), any other character 6 (`\uXXXX`), beyond the BMP 12 (a pair).
 */
export function policySize(path: string): number {
  let size = 0;
  for (const character of path) {
    const code = character.codePointAt(0) as number;
    if (code === 0x22 || code === 0x5c) size += 2;
    else if (code < 0x7f) size += 1;
    else size += code > 0xffff ? 12 : 6;
  }
  return size;
}

/** One segment: 1-12 units, never `.` or `..` alone. */
export const pathSegment: fc.Arbitrary<string> = fc
  .string({ unit: pathUnit, minLength: 1, maxLength: 12 })
  .filter((segment) => segment !== '.' && segment !== '..');

/** A path the rules accept: `""`, a folder ending in `/`, or a file; within the size limit. */
export const acceptedPath: fc.Arbitrary<string> = fc
  .tuple(fc.array(pathSegment, { minLength: 1, maxLength: 6 }), fc.constantFrom('all', 'folder', 'file'))
  .map(([segments, kind]) => (kind === 'all' ? '' : segments.join('/') + (kind === 'folder' ? '/' : '')))
  .filter((path) => policySize(path) <= SHARE_PATH_MAX_BYTES);

/** A folder path (ending in `/`) the rules accept. */
export const acceptedFolder: fc.Arbitrary<string> = fc
  .array(pathSegment, { minLength: 1, maxLength: 4 })
  .map((segments) => `${segments.join('/')}/`)
  .filter((path) => policySize(path) <= SHARE_PATH_MAX_BYTES);

/** A file path the rules accept. */
export const acceptedFile: fc.Arbitrary<string> = fc
  .array(pathSegment, { minLength: 1, maxLength: 4 })
  .map((segments) => segments.join('/'))
  .filter((path) => policySize(path) <= SHARE_PATH_MAX_BYTES);

/**
 * Whether the sandbox's S3 gate refuses a key that S3 takes, because its storage emulator cannot
 * hold it (docs/sandbox.md): a `#`, the text `&quot;`, the emulator's own marker, or a segment
 * too long for a file name.
 */
export function sandboxOnlyRefusal(key: string): boolean {
  return (
    key.includes('#') ||
    key.includes('&quot;') ||
    key.includes(EMULATOR_RESERVED) ||
    key.split('/').some((segment) => Buffer.byteLength(segment, 'utf8') > MAX_KEY_SEGMENT_BYTES)
  );
}

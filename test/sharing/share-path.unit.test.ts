/**
 * The shared-path rules (lambda/sharing/share-path.ts): every refusal the issue names, as chosen
 * cases and as properties (a bad thing inserted anywhere into a valid path is refused), and
 * every accepted path comes back byte for byte as sent (no normalisation: an S3 key is its bytes).
 * The size rule is checked against its own oracle: the path as a session policy carries it.
 */
import fc from 'fast-check';
import { SHARE_PATH_MAX_BYTES } from '../../lambda/contract/limits';
import { ValidationError } from '../../lambda/platform/errors';
import { asciiJson } from '../../lambda/credentials/policy';
import { isSharePath, parseSharePath, policyBytes, sharePathKind } from '../../lambda/sharing/share-path';
import { acceptedPath, pathUnit, policySize } from './share-arbitraries';

function refusal(raw: unknown, options: { file?: boolean } = {}): ValidationError {
  try {
    parseSharePath(raw, 'path', options);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`parseSharePath accepted ${JSON.stringify(raw)}`);
}

/** Format characters (Unicode category Cf), listed by hand so the test does not reuse the code's regex. */
const FORMAT_CHARACTERS = [
  '\u00AD', // soft hyphen
  '\u0600', // Arabic number sign
  '\u061C', // Arabic letter mark
  '\u180E', // Mongolian vowel separator
  '\u200B', // zero-width space
  '\u200C', // zero-width non-joiner
  '\u200D', // zero-width joiner
  '\u200E', // left-to-right mark
  '\u200F', // right-to-left mark
  '\u202A', // left-to-right embedding
  '\u202E', // right-to-left override
  '\u2060', // word joiner
  '\u2066', // left-to-right isolate
  '\u2069', // pop directional isolate
  '\uFEFF', // byte order mark
  '\uFFF9', // interlinear annotation anchor
  '\u{110BD}', // Kaithi number sign
  '\u{1D173}', // musical symbol begin beam
  '\u{E0001}', // language tag
  '\u{E0041}', // tag latin capital letter a
];
/** Control characters (category Cc): C0, DEL and C1. */
const CONTROL_CHARACTERS = [
  ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code)),
  '\u007F',
  ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(0x80 + code)),
];
const POLICY_SYNTAX = ['*', '?', '$', '{', '}', '${aws:username}', '\\'];
const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

describe('parseSharePath refuses every path the issue names, with a 400 on field "path"', () => {
  it.each([
    ['a parent segment', '..'],
    ['a parent segment at the start', '../bob/x'],
    ['a parent segment inside', 'photos/../../bob/'],
    ['a parent segment at the end', 'photos/..'],
    ['a parent folder at the end', 'photos/../'],
    ['a current segment', '.'],
    ['a current segment at the start', './photos/'],
    ['a current segment inside', 'photos/./a.jpg'],
    ['a current segment at the end', 'photos/.'],
    ['a leading "/"', '/photos/'],
    ['the root "/"', '/'],
    ['a doubled "/"', 'photos//a.jpg'],
    ['a folder ending in "//"', 'photos//'],
    ['only "//"', '//'],
    ['an IAM wildcard', 'photos/*'],
    ['a single-character wildcard', 'photos/a?.jpg'],
    ['a policy variable', 'photos/${aws:username}/'],
    ['a dollar sign', 'a$b'],
    ['an opening brace', 'a{b'],
    ['a closing brace', 'a}b'],
    ['a backslash', 'photos\\a.jpg'],
    ['a NUL', 'a\u0000b'],
    ['a line feed', 'photos/\n'],
    ['DEL', 'a\u007Fb'],
    ['a C1 control (NEL)', 'a\u0085b'],
    ['a right-to-left override', 'gpj.\u202Eexe'],
    ['a zero-width space', 'pho\u200Btos/'],
    ['a byte order mark', '\uFEFFphotos/'],
    ['a line separator (U+2028)', 'a\u2028b'],
    ['a paragraph separator (U+2029)', 'a\u2029b/'],
    ['a lone high surrogate', 'a\uD83Db'],
    ['a lone low surrogate', 'a\uDE00b'],
    ['one byte over the limit', 'a'.repeat(SHARE_PATH_MAX_BYTES + 1)],
    ['a folder one byte over the limit', `${'a'.repeat(SHARE_PATH_MAX_BYTES)}/`],
  ])('refuses %s (%j)', (_what, raw) => {
    const error = refusal(raw);
    expect(error.field).toBe('path');
    expect(error.status).toBe(400);
    expect(isSharePath(raw)).toBe(false);
  });

  it.each([[undefined], [null], [42], [['photos/']], [{ path: 'photos/' }]])('refuses a non-string (%j)', (raw) => {
    expect(refusal(raw).field).toBe('path');
  });

  it('names the field it was given in the refusal', () => {
    expect(refusal('..').message).toMatch(/^path /);
    expect(() => parseSharePath('..', 'link')).toThrow(expect.objectContaining({ field: 'link' }));
  });

  it.each([[''], ['photos/'], ['a/b/c/']])('refuses %j for a link (file: true): a link names one file', (raw) => {
    expect(refusal(raw, { file: true }).message).toMatch(/one file/);
  });

  it('says why: the reason names the rule that was broken', () => {
    expect(refusal('a/../b').message).toMatch(/"\." or "\.\."/);
    expect(refusal('/a').message).toMatch(/must not start with "\/"/);
    expect(refusal('a//b').message).toMatch(/empty segment/);
    expect(refusal('a*').message).toMatch(/\*, \?, \$/);
    expect(refusal('a\uD800').message).toMatch(/Unicode/);
    expect(refusal('a'.repeat(SHARE_PATH_MAX_BYTES + 1)).message).toMatch(new RegExp(`${SHARE_PATH_MAX_BYTES} bytes`));
  });
});

/** A valid path and a position in it (between UTF-16 units that do not split a pair). */
const pathAndPosition = acceptedPath.chain((path) => {
  const points = [...path];
  return fc
    .nat(points.length)
    .map((at) => ({ path, before: points.slice(0, at).join(''), after: points.slice(at).join('') }));
});

describe('parseSharePath refuses, wherever it is put into a valid path (properties)', () => {
  it('any of * ? $ { } \\ or a policy variable', () => {
    fc.assert(
      fc.property(pathAndPosition, fc.constantFrom(...POLICY_SYNTAX), ({ before, after }, bad) => {
        expect(isSharePath(before + bad + after)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('any control character (C0, DEL, C1), format character (zero-width, bidi overrides, BOM, tags) or line/paragraph separator', () => {
    fc.assert(
      fc.property(
        pathAndPosition,
        fc.constantFrom(...CONTROL_CHARACTERS, ...FORMAT_CHARACTERS, '\u2028', '\u2029'),
        ({ before, after }, bad) => {
          expect(isSharePath(before + bad + after)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a lone surrogate (text with no UTF-8 form)', () => {
    fc.assert(
      fc.property(pathAndPosition, fc.constantFrom(...LONE_SURROGATES), ({ before, after }, bad) => {
        const raw = before + bad + after;
        fc.pre(!raw.isWellFormed());
        expect(isSharePath(raw)).toBe(false);
        expect(refusal(raw).message).toMatch(/Unicode/);
      }),
      { numRuns: 300 },
    );
  });

  it('an empty, "." or ".." segment, or a leading "/", at the start, inside or at the end of a valid path', () => {
    fc.assert(
      fc.property(acceptedPath, fc.constantFrom('//', '/./', '/../'), (path, breaker) => {
        fc.pre(path !== '');
        const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
        for (const raw of [
          `/${path}`,
          `./${path}`,
          `../${path}`,
          `${trimmed}${breaker}`,
          // "x/." and "x/.." (for "//", the slash-less form "x/" is a valid folder).
          ...(breaker === '//' ? [] : [`${trimmed}${breaker.slice(0, -1)}`]),
          `${trimmed}${breaker}x`,
        ]) {
          expect(isSharePath(raw)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a path over the limit, as the policy carries it, for any script; at or under it every valid path is accepted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: pathUnit, minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (segments, folder) => {
          fc.pre(segments.every((segment) => segment !== '.' && segment !== '..'));
          const raw = segments.join('/') + (folder ? '/' : '');
          expect(isSharePath(raw)).toBe(policySize(raw) <= SHARE_PATH_MAX_BYTES);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseSharePath accepts a valid path unchanged', () => {
  it('round-trips every accepted path byte for byte, and names its kind by its ending (property)', () => {
    fc.assert(
      fc.property(acceptedPath, (raw) => {
        const parsed = parseSharePath(raw);
        expect(parsed).toBe(raw);
        expect(Buffer.from(parsed, 'utf8').equals(Buffer.from(raw, 'utf8'))).toBe(true);
        expect(isSharePath(raw)).toBe(true);
        expect(sharePathKind(parsed)).toBe(raw === '' ? 'all' : raw.endsWith('/') ? 'folder' : 'file');
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['the whole folder', '', 'all'],
    ['a folder', 'photos/', 'folder'],
    ['a nested folder', 'photos/2026/summer/', 'folder'],
    ['a file', 'photos/a.jpg', 'file'],
    ['a file with dots that are not whole segments', '.hidden/..a/b../...', 'file'],
    ['a key with URL syntax', 'a b/%2F/+/#/&x=1;y/', 'folder'],
    ['an accented name, composed', 'caf\u00E9/', 'folder'],
    ['an accented name, decomposed', 'cafe\u0301/', 'folder'],
    ['a CJK folder', '写真/夏.jpg', 'file'],
    ['an emoji', '😀/🎉.png', 'file'],
    ['a name that looks like a template placeholder', '__SHARED_PREFIX__/__BUCKET_ARN__', 'file'],
  ])('accepts %s (%j) as it is', (_what, raw, kind) => {
    expect(parseSharePath(raw)).toBe(raw);
    expect(sharePathKind(parseSharePath(raw))).toBe(kind);
  });

  it('keeps composed and decomposed forms apart (no normalisation: they are two different S3 keys)', () => {
    const composed = parseSharePath('caf\u00E9/');
    const decomposed = parseSharePath('cafe\u0301/');
    expect(composed).not.toBe(decomposed);
    expect(composed.normalize('NFC')).toBe(decomposed.normalize('NFC'));
  });

  it('accepts exactly SHARE_PATH_MAX_BYTES (256) as the policy carries it, in each script', () => {
    for (const character of ['a', '\u00E9', '\u0436', '\u5199', '\u{1F600}']) {
      const cost = policyBytes(character);
      const count = Math.floor(SHARE_PATH_MAX_BYTES / cost);
      const atLimit = character.repeat(count) + 'a'.repeat(SHARE_PATH_MAX_BYTES - count * cost);
      expect(policyBytes(atLimit)).toBe(SHARE_PATH_MAX_BYTES);
      expect(parseSharePath(atLimit)).toBe(atLimit);
      expect(isSharePath(`${atLimit}a`)).toBe(false);
      // Never fewer bytes than UTF-8: the limit is also a limit on the key's bytes.
      expect(Buffer.byteLength(atLimit, 'utf8')).toBeLessThanOrEqual(SHARE_PATH_MAX_BYTES);
    }
  });
});

describe('asciiJson: what a session policy carries (AssumeRole takes only tab, LF, CR and U+0020-U+00FF)', () => {
  it('writes any text as ASCII JSON that reads back as the same text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        const json = asciiJson({ text });
        expect(json).toMatch(/^[\u0020-\u007E]*$/);
        expect((JSON.parse(json) as { text: string }).text).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('counts a path as the policy carries it: ASCII 1, a quote 2, other BMP characters 6, beyond the BMP 12', () => {
    expect(policyBytes('abc/')).toBe(4);
    expect(policyBytes('a"b')).toBe(4);
    expect(policyBytes('\u00E9')).toBe(6);
    expect(policyBytes('\u5199')).toBe(6);
    expect(policyBytes('\u{1F600}')).toBe(12);
  });

  it('never counts fewer than the UTF-8 bytes of the path (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(policyBytes(text)).toBeGreaterThanOrEqual(Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * The pure parts of the emulator's own operations: how a Range header is read (as S3 reads
 * it) and how a CompleteMultipartUpload body is read (never a crash, MalformedXML for what
 * does not fit S3's schema).
 */
import fc from 'fast-check';
import { S3Failure } from '../../local/s3/emulator/answers';
import { completeParts } from '../../local/s3/emulator/multipart';
import { byteRange } from '../../local/s3/emulator/operations';

/** The range S3 serves for a well-formed single range, or 'whole' / 416, from RFC 7233 and S3's leniency. */
function model(
  first: number | undefined,
  last: number | undefined,
  size: number,
): { start: number; end: number } | 'whole' | 416 {
  if (first === undefined) {
    if (last === undefined) return 'whole';
    return last === 0 || size === 0 ? 416 : { start: Math.max(0, size - last), end: size - 1 };
  }
  if (last !== undefined && last < first) return 'whole';
  if (first >= size) return 416;
  return { start: first, end: Math.min(last ?? size - 1, size - 1) };
}

function outcome(header: string, size: number): { start: number; end: number } | 'whole' | 416 {
  try {
    return byteRange(header, size) ?? 'whole';
  } catch (error) {
    if (error instanceof S3Failure && error.code === 'InvalidRange') return 416;
    throw error;
  }
}

describe('byteRange', () => {
  test('a well-formed single range is served as S3 serves it (suffix ranges are the last bytes)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.nat(200), { nil: undefined }),
        fc.option(fc.nat(200), { nil: undefined }),
        fc.nat(150),
        (first, last, size) => {
          expect(outcome(`bytes=${first ?? ''}-${last ?? ''}`, size)).toEqual(model(first, last, size));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('any other header is ignored (the whole object) or InvalidRange, never another error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.nat(100), (header, size) => {
        const result = outcome(header, size);
        const valid =
          result === 'whole' ||
          result === 416 ||
          (result.start >= 0 && result.start <= result.end && result.end < size);
        expect(valid).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  test.each([['bytes=1.5-'], ['bytes=0-1,3-4'], ['items=0-1'], ['bytes=-'], ['bytes= 1-2x']])(
    '%s is ignored',
    (header) => {
      expect(outcome(header, 11)).toBe('whole');
    },
  );
});

describe('completeParts', () => {
  const malformed = (xml: string) => {
    try {
      completeParts(xml);
      return 'accepted';
    } catch (error) {
      return error instanceof S3Failure ? error.code : 'crashed';
    }
  };

  test('reads part numbers and ETags, quotes and character references removed', () => {
    expect(
      completeParts(
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&#34;abc&#34;</ETag><PartNumber>2</PartNumber></Part><Part><PartNumber>3</PartNumber><ETag>"def"</ETag></Part></CompleteMultipartUpload>',
      ),
    ).toEqual([
      { partNumber: 2, etag: 'abc' },
      { partNumber: 3, etag: 'def' },
    ]);
  });

  test.each([
    ['no parts', '<CompleteMultipartUpload></CompleteMultipartUpload>'],
    [
      'a part number that is not a number',
      '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
    ],
    [
      'a part number of 0',
      '<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
    ],
    [
      'a part without an ETag',
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    ],
    [
      'a nested part number',
      '<CompleteMultipartUpload><Part><PartNumber><a>1</a></PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
    ],
    ['another root element', '<Delete><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Delete>'],
    ['XML that does not parse', '<CompleteMultipartUpload><Part>'],
  ])('%s is MalformedXML', (_name, xml) => {
    expect(malformed(xml)).toBe('MalformedXML');
  });

  test('no body crashes the reader: anything is parts or MalformedXML', () => {
    const piece = fc.constantFrom(
      '<CompleteMultipartUpload>',
      '</CompleteMultipartUpload>',
      '<Part>',
      '</Part>',
      '<PartNumber>',
      '</PartNumber>',
      '<ETag>',
      '</ETag>',
      '1',
      'x',
      '&#34;',
      '<!-- -->',
      '<![CDATA[1]]>',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 5 })), { maxLength: 20 }), (pieces) => {
        expect(['accepted', 'MalformedXML']).toContain(malformed(pieces.join('')));
      }),
      { numRuns: 2_000 },
    );
  });
});

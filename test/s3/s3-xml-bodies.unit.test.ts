/**
 * The S3 gate's XML request bodies (local/s3/xml-bodies.ts): read with fast-xml-parser under
 * S3's limits, checked against S3's schemas, and refused with S3's error codes. Any input at
 * all ends in a parsed body or an S3 error, never another exception (which would be a 500).
 */
import fc from 'fast-check';
import {
  aclBodyGrantsOnlyTo,
  checkXmlBody,
  MAX_DELETE_KEYS,
  MAX_OBJECT_TAGS,
  MAX_XML_BODY_BYTES,
  parseCompleteMultipartUploadBody,
  parseDeleteObjectsBody,
  parseTaggingBody,
} from '../../local/s3/xml-bodies';
import { AwsAuthError } from '../../local/shared/sigv4';

const OWNER = 'a'.repeat(64);
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

/** The S3 error code a call throws, or 'ok'. */
function outcome(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (error) {
    if (error instanceof AwsAuthError) return `${error.status} ${error.code}`;
    throw error;
  }
}

const deleteBody = (keys: readonly string[], extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Delete ${NS}>${keys.map((key) => `<Object><Key>${key}</Key></Object>`).join('')}${extra}</Delete>`;
const tagging = (tags: readonly (readonly [string, string])[]) =>
  `<Tagging ${NS}><TagSet>${tags.map(([key, value]) => `<Tag><Key>${key}</Key><Value>${value}</Value></Tag>`).join('')}</TagSet></Tagging>`;
const complete = (parts: string) => `<CompleteMultipartUpload ${NS}>${parts}</CompleteMultipartUpload>`;
const acl = (grants: string) =>
  `<AccessControlPolicy ${NS}><Owner><ID>${OWNER}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
const ownerGrant = `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>`;

describe('DeleteObjects bodies', () => {
  test('keys are read in order with XML entities and character references decoded, Quiet too', () => {
    expect(
      parseDeleteObjectsBody(
        deleteBody(['alice/a&amp;b', 'alice/&#x2e;&#46;/x', ' alice/ spaced '], '<Quiet>true</Quiet>'),
      ),
    ).toEqual({
      objects: [{ key: 'alice/a&b' }, { key: 'alice/../x' }, { key: ' alice/ spaced ' }],
      quiet: true,
    });
  });

  test(`1 to ${MAX_DELETE_KEYS} keys are accepted; none or ${MAX_DELETE_KEYS + 1} are MalformedXML`, () => {
    expect(
      parseDeleteObjectsBody(deleteBody(Array.from({ length: MAX_DELETE_KEYS }, (_, i) => `alice/${i}`))).objects,
    ).toHaveLength(MAX_DELETE_KEYS);
    expect(outcome(() => parseDeleteObjectsBody(deleteBody([])))).toBe('400 MalformedXML');
    expect(
      outcome(() =>
        parseDeleteObjectsBody(deleteBody(Array.from({ length: MAX_DELETE_KEYS + 1 }, (_, i) => `alice/${i}`))),
      ),
    ).toBe('400 MalformedXML');
  });

  test.each([
    ['not well-formed', '<Delete><Object><Key>a</Key></Object>'],
    ['two keys in one Object', '<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>'],
    ['a key with markup inside', '<Delete><Object><Key>a<b/></Key></Object></Delete>'],
    [
      'a namespace-prefixed Object',
      '<Delete><Object><Key>a</Key></Object><x:Object xmlns:x="y"><x:Key>b</x:Key></x:Object></Delete>',
    ],
    [
      'a DTD with an entity',
      '<!DOCTYPE Delete [<!ENTITY e "bob/secret">]><Delete><Object><Key>&e;</Key></Object></Delete>',
    ],
    ['a comment', '<Delete><!-- c --><Object><Key>a</Key></Object></Delete>'],
    ['an unknown entity', '<Delete><Object><Key>&nbsp;</Key></Object></Delete>'],
    ['a NUL character reference', '<Delete><Object><Key>&#0;</Key></Object></Delete>'],
    ['a surrogate character reference', '<Delete><Object><Key>&#xD800;</Key></Object></Delete>'],
    ['the wrong root', '<Remove><Object><Key>a</Key></Object></Remove>'],
    ['Quiet that is not a boolean', '<Delete><Object><Key>a</Key></Object><Quiet>yes</Quiet></Delete>'],
    ['stray text between elements', '<Delete>text<Object><Key>a</Key></Object></Delete>'],
    ['invalid UTF-8', Buffer.from([0x3c, 0x44, 0x3e, 0xff, 0x3c, 0x2f, 0x44, 0x3e])],
  ])('%s is 400 MalformedXML', (_name, body) => {
    expect(outcome(() => parseDeleteObjectsBody(body))).toBe('400 MalformedXML');
  });

  test('nesting past the schema depth is MalformedXML, at any depth', () => {
    expect(
      outcome(() => parseDeleteObjectsBody(`<Delete>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</Delete>`)),
    ).toMatch(/^400 (MalformedXML|MaxMessageLengthExceeded)$/);
    expect(outcome(() => parseDeleteObjectsBody(`<Delete>${'<a>'.repeat(20)}${'</a>'.repeat(20)}</Delete>`))).toBe(
      '400 MalformedXML',
    );
  });

  test('700 kB of repeated Object elements is refused from one scan, before any parse, as MalformedXML', () => {
    expect(
      outcome(() => parseDeleteObjectsBody(`<Delete>${'<Object><Key>a</Key></Object>'.repeat(25_000)}</Delete>`)),
    ).toBe('400 MalformedXML');
  });

  test(`a body past ${MAX_XML_BODY_BYTES} bytes is 400 MaxMessageLengthExceeded`, () => {
    expect(outcome(() => parseDeleteObjectsBody(deleteBody(['x'.repeat(MAX_XML_BODY_BYTES)])))).toBe(
      '400 MaxMessageLengthExceeded',
    );
  });
});

describe('ACL bodies', () => {
  test('only a single full-control grant to the bucket owner is owner-only', () => {
    expect(aclBodyGrantsOnlyTo(acl(ownerGrant), OWNER)).toBe(true);
    expect(aclBodyGrantsOnlyTo(acl(ownerGrant + ownerGrant), OWNER)).toBe(true);
    expect(aclBodyGrantsOnlyTo(acl(ownerGrant.replace('FULL_CONTROL', 'READ')), OWNER)).toBe(false);
    expect(aclBodyGrantsOnlyTo(acl(ownerGrant.replace(OWNER, 'b'.repeat(64))), OWNER)).toBe(false);
    expect(
      aclBodyGrantsOnlyTo(
        acl(ownerGrant.replace('</ID>', '</ID><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>')),
        OWNER,
      ),
    ).toBe(false);
    expect(aclBodyGrantsOnlyTo(acl(''), OWNER)).toBe(false);
  });

  test('700 kB of repeated Grant elements is 400 MaxMessageLengthExceeded', () => {
    expect(outcome(() => aclBodyGrantsOnlyTo(acl(ownerGrant.repeat(4000)), OWNER))).toBe(
      '400 MaxMessageLengthExceeded',
    );
  });

  test('a malformed ACL body is MalformedXML, not "not supported"', () => {
    expect(outcome(() => aclBodyGrantsOnlyTo(acl(ownerGrant).slice(0, -5), OWNER))).toBe('400 MalformedXML');
    expect(
      outcome(() => aclBodyGrantsOnlyTo(acl(ownerGrant.replace('<Permission>', '<Permission><Permission>')), OWNER)),
    ).toBe('400 MalformedXML');
  });
});

describe('tagging bodies', () => {
  test(`up to ${MAX_OBJECT_TAGS} tags are read; more are 400 BadRequest`, () => {
    const tags = Array.from({ length: MAX_OBJECT_TAGS }, (_, i) => [`k${i}`, `v&amp;${i}`] as const);
    expect(parseTaggingBody(tagging(tags))).toEqual(
      tags.map(([key, value]) => ({ key, value: value.replace('&amp;', '&') })),
    );
    expect(outcome(() => parseTaggingBody(tagging([...tags, ['k99', 'v']])))).toBe('400 BadRequest');
  });

  test('an empty TagSet removes every tag', () => {
    expect(parseTaggingBody(tagging([]))).toEqual([]);
  });

  test('keys longer than 128 or empty, values longer than 256, and repeated keys are 400 InvalidTag', () => {
    expect(outcome(() => parseTaggingBody(tagging([['k'.repeat(129), 'v']])))).toBe('400 InvalidTag');
    expect(outcome(() => parseTaggingBody(tagging([['', 'v']])))).toBe('400 InvalidTag');
    expect(outcome(() => parseTaggingBody(tagging([['k', 'v'.repeat(257)]])))).toBe('400 InvalidTag');
    expect(
      outcome(() =>
        parseTaggingBody(
          tagging([
            ['k', 'a'],
            ['k', 'b'],
          ]),
        ),
      ),
    ).toBe('400 InvalidTag');
    expect(parseTaggingBody(tagging([['é'.repeat(128), 'é'.repeat(256)]]))).toHaveLength(1);
  });

  test('deeply nested tagging XML is MalformedXML', () => {
    expect(
      outcome(() =>
        parseTaggingBody(
          `<Tagging><TagSet><Tag><Key>${'<k>'.repeat(5000)}${'</k>'.repeat(5000)}</Key><Value/></Tag></TagSet></Tagging>`,
        ),
      ),
    ).toBe('400 MalformedXML');
  });
});

describe('CompleteMultipartUpload bodies', () => {
  test('parts are read with their numbers and ETags (and checksums allowed)', () => {
    expect(
      parseCompleteMultipartUploadBody(
        complete(
          '<Part><PartNumber>1</PartNumber><ETag>"e1"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><ETag>"e2"</ETag><PartNumber> 2 </PartNumber></Part>',
        ),
      ),
    ).toEqual([
      { partNumber: 1, etag: '"e1"' },
      { partNumber: 2, etag: '"e2"' },
    ]);
  });

  test.each([
    ['no parts', ''],
    ['a part without an ETag', '<Part><PartNumber>1</PartNumber></Part>'],
    ['a part with an empty ETag', '<Part><PartNumber>1</PartNumber><ETag></ETag></Part>'],
    ['a part without a number', '<Part><ETag>"e"</ETag></Part>'],
    ['a non-numeric part number', '<Part><PartNumber>one</PartNumber><ETag>"e"</ETag></Part>'],
    ['a fractional part number', '<Part><PartNumber>1.5</PartNumber><ETag>"e"</ETag></Part>'],
    ['a negative part number', '<Part><PartNumber>-1</PartNumber><ETag>"e"</ETag></Part>'],
    ['two numbers in a part', '<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>"e"</ETag></Part>'],
  ])('%s is 400 MalformedXML', (_name, parts) => {
    expect(outcome(() => parseCompleteMultipartUploadBody(complete(parts)))).toBe('400 MalformedXML');
  });

  test('part numbers outside 1..10000 are 400 InvalidArgument', () => {
    expect(
      outcome(() =>
        parseCompleteMultipartUploadBody(complete('<Part><PartNumber>0</PartNumber><ETag>"e"</ETag></Part>')),
      ),
    ).toBe('400 InvalidArgument');
    expect(
      outcome(() =>
        parseCompleteMultipartUploadBody(complete('<Part><PartNumber>10001</PartNumber><ETag>"e"</ETag></Part>')),
      ),
    ).toBe('400 InvalidArgument');
  });

  test('10,000 parts fit in the body limit', () => {
    const parts = Array.from(
      { length: 10_000 },
      (_, i) =>
        `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${'0'.repeat(32)}"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`,
    ).join('');
    expect(parseCompleteMultipartUploadBody(complete(parts))).toHaveLength(10_000);
  });
});

describe('any input', () => {
  const parsers: readonly ((body: string) => unknown)[] = [
    parseDeleteObjectsBody,
    parseTaggingBody,
    parseCompleteMultipartUploadBody,
    (body) => aclBodyGrantsOnlyTo(body, OWNER),
    (body) => checkXmlBody(body),
  ];
  const pieces = fc.constantFrom(
    '<',
    '>',
    '</',
    '/>',
    '<Delete>',
    '</Delete>',
    '<Object>',
    '</Object>',
    '<Key>',
    '</Key>',
    '<Tagging>',
    '<TagSet>',
    '<Tag>',
    '<Value>',
    '<Part>',
    '<PartNumber>',
    '<ETag>',
    '<CompleteMultipartUpload>',
    '<AccessControlPolicy>',
    '<AccessControlList>',
    '<Grant>',
    '<Grantee>',
    '<ID>',
    '&amp;',
    '&#x41;',
    '&',
    ';',
    '<![CDATA[',
    ']]>',
    '<?xml version="1.0"?>',
    '<!--',
    '-->',
    ' a="b"',
    'x',
    ' ',
    '1',
    '"',
    "'",
  );

  test('ends in a parsed body or an S3 4xx, never another exception', () => {
    const unexpected: string[] = [];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(pieces, { maxLength: 40 }).map((parts) => parts.join('')),
        ),
        (body) => {
          for (const parse of parsers) {
            try {
              parse(body);
            } catch (error) {
              if (!(error instanceof AwsAuthError) || error.status < 400 || error.status > 501)
                unexpected.push(`${JSON.stringify(body)}: ${String(error)}`);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(unexpected).toEqual([]);
  });
});

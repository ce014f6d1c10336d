/**
 * The S3 gate against the emulator behind it, differentially: fast-check writes request-targets,
 * queries, copy sources and DeleteObjects bodies (encodings, double encodings, backslashes,
 * dot segments, `#`, `?`, `;`, `+`, parameter floods and repeats, Unicode, overlong UTF-8,
 * absolute-form targets), signs them as alice, and sends them byte for byte. For every
 * request the gate lets through, what the emulator did is read back from its storage and its
 * answer: the key it wrote, read, copied or deleted, and the keys it listed, must be exactly
 * the key or prefix the gate authorised. For every request, allowed or refused, nothing
 * outside alice's folder in the storage, and nothing outside the storage, may change.
 *
 * Also: `x-amz-*` headers added after signing (an unsigned `x-amz-copy-source` would turn a
 * PutObject into a CopyObject) are refused with S3's 403, and never reach the emulator; XML
 * bodies (tagging, ACL, CompleteMultipartUpload, DeleteObjects), whole or broken (truncated,
 * nested deep, a DTD, an unknown entity, the wrong root, a part without an ETag or with a
 * non-numeric number), get S3's 4xx (MalformedXML for what is not well-formed); browser POST
 * uploads (a POST policy signed as alice, for her keys, others', traversals, `${filename}`,
 * with the key, policy or fields tampered with) store only at an authorised key of hers; reads
 * with `Range` headers (valid, suffix, open, multi-range, `bytes=1.5-`, huge numbers, other
 * units), conditional headers (entity tags, `*`, junk dates) and `response-*` overrides with odd
 * values, conditional writes, and listings (V1, V2, ListParts, ListMultipartUploads) with
 * garbage or foreign `continuation-token`, `marker`, `start-after`, `key-marker`,
 * `upload-id-marker`, `part-number-marker`, `max-keys`, `max-parts`, `max-uploads` values get
 * S3's answers; and no request at all gets a 5xx other than S3's own 501 NotImplemented.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SANDBOX_ACCOUNT_ID, SANDBOX_BUCKET } from '../../local/names';
import type { ForwardedRequest } from '../../local/s3/gate';
import type { StsSession } from '../../local/sts/session-store';
import { signingKey, signString } from '../../local/shared/sigv4';
import { formatAmzDate } from '../../local/shared/sigv4-claim';
import {
  sendRaw,
  startGateHarness,
  type GateHarness,
  type RawAnswer,
  type RawRequest,
} from '../support/s3-gate-harness';

const RUNS = 2_000;
const OBJECT_SUFFIX = '._S3rver_object';

let root: string;
let harness: GateHarness;
let alice: StsSession;
const bucketFolder = () => join(root, 's3', SANDBOX_BUCKET);

/** Files under a folder (relative to the root), each with what `describe` says of it. */
function walkFiles(
  dir: string,
  describe: (path: string) => string,
  skip: (rel: string) => boolean = () => false,
  files = new Map<string, string>(),
): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(root, path);
    if (skip(rel)) continue;
    if (entry.isDirectory()) walkFiles(path, describe, skip, files);
    else files.set(rel, describe(path));
  }
  return files;
}

/** Every file under the root but alice's folder (and the emulator's upload area), by content hash. */
function outsideAlice(): Map<string, string> {
  const aliceFolder = join('s3', SANDBOX_BUCKET, 'alice') + '/';
  const uploads = join('s3', SANDBOX_BUCKET, '._S3rver_uploads');
  return walkFiles(
    root,
    (path) => createHash('sha256').update(readFileSync(path)).digest('hex'),
    (rel) => rel.startsWith(aliceFolder) || rel.startsWith(uploads),
  );
}

/** The objects in the bucket, key -> a stamp (size and modification time in ns) that any write changes. */
function objects(): Map<string, string> {
  const found = new Map<string, string>();
  const stamp = (path: string) => {
    const stat = statSync(path, { bigint: true });
    return `${stat.size}:${stat.mtimeNs}:${stat.ino}`;
  };
  for (const [rel, value] of walkFiles(bucketFolder(), stamp, (rel) => rel.includes('._S3rver_uploads'))) {
    const inBucket = relative(join('s3', SANDBOX_BUCKET), rel);
    if (inBucket.endsWith(OBJECT_SUFFIX)) found.set(inBucket.slice(0, -OBJECT_SUFFIX.length), value);
  }
  return found;
}

/** An object's body as stored now, or undefined. */
function content(key: string): string | undefined {
  try {
    return readFileSync(join(bucketFolder(), `${key}${OBJECT_SUFFIX}`), 'utf8');
  } catch {
    return undefined;
  }
}

/** Keys whose stored objects differ between two readings (added, removed or changed). */
function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key)).sort();
}

function mapsEqual(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([key, value]) => b.get(key) === value);
}

// Pieces a request-target is built from: what makes parsers disagree.
const FRAGMENT = fc.constantFrom(
  'alice',
  'alice/',
  'bob',
  'bob/',
  'al',
  'x',
  'a.txt',
  '/',
  '//',
  '.',
  '..',
  '../',
  '..%2f',
  '%2e%2e',
  '%2E%2e/',
  '%252e%252e',
  '%2f',
  '%2F',
  '%5c',
  '\\',
  '%5C..%5C',
  '#',
  '%23',
  '?',
  '%3F',
  ';',
  '%3B',
  '+',
  '%2B',
  '%20',
  ' ',
  '%00',
  '%0a',
  '%7f',
  '%25',
  '%',
  '%zz',
  'é',
  '%C3%A9',
  '%C0%AE',
  '%C0%AF',
  '%E0%80%AE',
  '%ED%A0%80',
  '%FF',
  '%E2%80%AE',
  '~',
  '*',
  '%2A',
  "'",
  '(',
  '!',
  '$',
  '&',
  '=',
  '@',
  ':',
  ',',
  '._S3rver_object',
  '%2e',
  'sub/',
  'sub/b.txt',
);
// Ordinary pieces, so that many requests get through and what the emulator did can be compared.
const PLAIN_FRAGMENT = fc.constantFrom(
  'x',
  'a.txt',
  'sub/',
  'sub/b.txt',
  '%20',
  '%C3%A9',
  'é',
  '~',
  '-',
  '_',
  'n1',
  '%25',
  '%2B',
  '!',
  "'",
  '(',
  '*',
);
const PATH_TAIL = fc
  .oneof(fc.array(FRAGMENT, { maxLength: 6 }), fc.array(PLAIN_FRAGMENT, { minLength: 1, maxLength: 4 }))
  .map((parts) => parts.join(''));
const TARGET_PATH = fc.oneof(
  { weight: 6, arbitrary: PATH_TAIL.map((tail) => `/${SANDBOX_BUCKET}/alice/${tail}`) },
  // alice's open upload, so generated part numbers and upload ids meet a real upload.
  { weight: 1, arbitrary: fc.constant(`/${SANDBOX_BUCKET}/alice/multi`) },
  { weight: 2, arbitrary: PATH_TAIL.map((tail) => `/${SANDBOX_BUCKET}/${tail}`) },
  { weight: 1, arbitrary: PATH_TAIL.map((tail) => `/${SANDBOX_BUCKET}%2Falice/${tail}`) },
  { weight: 1, arbitrary: PATH_TAIL.map((tail) => `http://127.0.0.1/${SANDBOX_BUCKET}/alice/${tail}`) },
  { weight: 1, arbitrary: PATH_TAIL.map((tail) => `//${SANDBOX_BUCKET}/alice/${tail}`) },
  { weight: 1, arbitrary: fc.constant(`/${SANDBOX_BUCKET}`) },
);
const QUERY_NAME = fc.constantFrom(
  'prefix',
  'delimiter',
  'list-type',
  'max-keys',
  'x-id',
  'PREFIX',
  'prefix%00',
  'pre%66ix',
  'acl',
  'tagging',
  'uploads',
  'junk',
  'x-amz-acl',
  'X-Amz-Date',
  'start-after',
  'encoding-type',
  'x-amz-copy-source',
  'X-Amz-Copy-Source',
  'x-amz-metadata-directive',
  // Multipart: the emulator names files after the part number and folders after the upload id.
  'partNumber',
  'uploadId',
  'part-number-marker',
  'max-parts',
  'upload-id-marker',
);
/** Stands for alice's real upload id (of alice/multi), filled in when a request is built. */
const ALICE_UPLOAD = '{alice-upload}';
const QUERY_VALUE = fc.oneof(
  PATH_TAIL.map((tail) => `alice/${tail}`),
  PATH_TAIL.map((tail) => `/${SANDBOX_BUCKET}/alice/${tail}`),
  PATH_TAIL,
  fc.constantFrom('', '2', '1', '/', 'url', 'private', '10000', '10001', '-1', '01', ALICE_UPLOAD),
  PATH_TAIL.map((tail) => `../../${tail}._S3rver_object`),
  PATH_TAIL.map((tail) => `..%2F..%2Fbob%2F${tail}`),
);
const QUERY = fc
  .tuple(
    fc.array(fc.tuple(QUERY_NAME, QUERY_VALUE, fc.boolean()), { maxLength: 4 }),
    // A flood of throwaway parameters in front (the whole-bucket listing attack).
    fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }) }),
    fc.constantFrom('&', ';', '&&'),
  )
  .map(([pairs, flood, separator]) => {
    const parts = [
      ...Array.from({ length: flood }, (_, i) => `z${i}=1`),
      ...pairs.map(([name, value, bare]) => (bare && value === '' ? name : `${name}=${value}`)),
    ];
    return parts.join(separator);
  });

/** Part numbers: S3's range, its edges, and file names the emulator would build a path from. */
const PART_NUMBER = fc.oneof(
  fc.integer({ min: 0, max: 10_001 }).map(String),
  fc.constantFrom('-1', '01', '1e3', '0x10', '99999999999'),
  PATH_TAIL.map((tail) => `..%2F..%2F${tail}._S3rver_object`),
  PATH_TAIL.map((tail) => `../../bob/${tail}`),
  PATH_TAIL.map((tail) => `..%2F..%2F..%2F..%2Foutside%2F${tail}`),
);

/** x-amz-* headers a tampering client adds to a signed request, unsigned. */
const UNSIGNED_HEADERS = fc.dictionary(
  fc.constantFrom(
    'x-amz-copy-source',
    'x-amz-acl',
    'x-amz-tagging',
    'x-amz-meta-note',
    'x-amz-metadata-directive',
    'x-amz-storage-class',
    'x-amz-grant-read',
    'x-amz-website-redirect-location',
    'X-Amz-Server-Side-Encryption',
  ),
  fc.constantFrom(
    `/${SANDBOX_BUCKET}/bob/secret.txt`,
    `${SANDBOX_BUCKET}/alice/a.txt`,
    'public-read',
    'private',
    'a=b',
    'REPLACE',
    'STANDARD',
    'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
    '/x',
    'AES256',
  ),
  { minKeys: 1, maxKeys: 3 },
);

/** How an XML body is broken: `none` leaves it whole; every other way makes it MalformedXML. */
type XmlBreakage =
  | 'none'
  | 'truncate'
  | 'deep'
  | 'doctype'
  | 'entity'
  | 'wrong-root'
  | 'garbage'
  | 'repeat-root-child'
  | 'text-in-list'
  | 'empty';
const XML_BREAKAGE = fc.constantFrom<XmlBreakage>(
  'none',
  'none',
  'truncate',
  'deep',
  'doctype',
  'entity',
  'wrong-root',
  'garbage',
  'repeat-root-child',
  'text-in-list',
  'empty',
);
const XML_TEXT = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', ' ', 'a', 'k'.repeat(129), 'v'.repeat(257), 'é', '&amp;', '&#x41;'),
);
const escapeText = (text: string) => (text.includes('&') ? text : text.replace(/</g, '&lt;'));
const OWNER_CANONICAL_ID = createHash('sha256').update(`tvm-sandbox-owner:${SANDBOX_ACCOUNT_ID}`).digest('hex');

/** Breaks a well-formed body `<Root>inner</Root>` as `breakage` says. */
function breakXml(root: string, inner: string, breakage: XmlBreakage): string {
  const whole = `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
  switch (breakage) {
    case 'none':
      return whole;
    case 'truncate':
      return whole.slice(0, Math.max(1, whole.length - 1 - (whole.length % 7)));
    case 'deep':
      return `<${root}>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</${root}>`;
    case 'doctype':
      return `<!DOCTYPE ${root} [<!ENTITY e "${'x'.repeat(50)}">]><${root}>${inner}&e;</${root}>`;
    case 'entity':
      return `<${root}>${inner}&bogus;</${root}>`;
    case 'wrong-root':
      return `<Not${root}>${inner}</Not${root}>`;
    case 'garbage':
      return `${inner}</${root}><`;
    case 'repeat-root-child':
      return `<${root}>${inner}</${root}><${root}/>`;
    case 'text-in-list':
      return `<${root}>stray text${inner}</${root}>`;
    case 'empty':
      return '';
  }
}

const TAGGING_BODY = fc
  .tuple(fc.array(fc.tuple(XML_TEXT, XML_TEXT), { maxLength: 12 }), XML_BREAKAGE)
  .map(([tags, breakage]) => ({
    breakage,
    xml: breakXml(
      'Tagging',
      `<TagSet>${tags.map(([key, value]) => `<Tag><Key>${escapeText(key)}</Key><Value>${escapeText(value)}</Value></Tag>`).join('')}</TagSet>`,
      breakage,
    ),
  }));
const ACL_BODY = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.constantFrom(OWNER_CANONICAL_ID, 'f'.repeat(64), ''),
        fc.constantFrom('FULL_CONTROL', 'READ', 'WRITE_ACP'),
        fc.boolean(),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    XML_BREAKAGE,
  )
  .map(([grants, breakage]) => ({
    breakage,
    xml: breakXml(
      'AccessControlPolicy',
      `<Owner><ID>${OWNER_CANONICAL_ID}</ID></Owner><AccessControlList>${grants
        .map(
          ([id, permission, group]) =>
            `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${id}</ID>${group ? '<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>' : ''}</Grantee><Permission>${permission}</Permission></Grant>`,
        )
        .join('')}</AccessControlList>`,
      breakage,
    ),
  }));
/**
 * CompleteMultipartUpload bodies the gate must refuse on their form alone (a part without an
 * ETag, or with a number that is not a whole number in 1..10000, or broken XML), so the fuzz
 * never completes (and so never uses up) alice's open upload.
 */
const COMPLETE_BODY = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.oneof(
          fc.integer({ min: 1, max: 3 }).map(String),
          fc.constantFrom('abc', '1.5', '', ' ', '-1', '1e3', '0', '10001', '0x1'),
        ),
        fc.option(fc.constantFrom('"etag"', '', 'x'), { nil: undefined }),
      ),
      { maxLength: 3 },
    ),
    XML_BREAKAGE,
  )
  .map(([parts, breakage]) => {
    const formOk = (number: string, etag: string | undefined) =>
      /^\d+$/.test(number) && Number(number) >= 1 && Number(number) <= 10000 && etag !== undefined && etag !== '';
    const fixed =
      breakage === 'none' && parts.length > 0 && parts.every(([number, etag]) => formOk(number, etag))
        ? parts.map(([number], index) => [number, index === 0 ? undefined : '"etag"'] as const)
        : parts;
    const inner = fixed
      .map(
        ([number, etag]) =>
          `<Part><PartNumber>${number}</PartNumber>${etag === undefined ? '' : `<ETag>${etag}</ETag>`}</Part>`,
      )
      .join('');
    return { breakage, xml: breakXml('CompleteMultipartUpload', inner, breakage) };
  });
const DELETE_BODY_BREAKAGE = XML_BREAKAGE.filter((breakage) => breakage !== 'none');

/** Keys for a browser POST upload form: alice's, others', traversals, and ${filename}. */
const POST_KEY = fc.oneof(
  PATH_TAIL.map((tail) => `alice/${decodeURIComponentSafe(tail)}`),
  fc.constantFrom(
    'alice/${filename}',
    'alice/../bob/x',
    'bob/x',
    'al/x',
    'alice',
    '',
    '${filename}',
    'alice/sub/${filename}',
  ),
);
function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
const POST_FORM = fc.record({
  key: POST_KEY,
  keyCondition: fc.constantFrom<'eq' | 'starts-with-alice' | 'starts-with-empty'>(
    'eq',
    'starts-with-alice',
    'starts-with-empty',
  ),
  filename: fc.constantFrom('f.txt', '../x', 'a/b', ''),
  /** A field changed after signing. */
  tamper: fc.constantFrom<'none' | 'key' | 'policy' | 'extra-field'>('none', 'none', 'key', 'policy', 'extra-field'),
});

/** Range headers: valid, open, suffix, past the end, reversed, multi-range, huge numbers, other units, junk. */
const RANGE = fc.oneof(
  fc.tuple(fc.nat(20), fc.nat(20)).map(([first, last]) => `bytes=${first}-${last}`),
  fc.nat(20).map((first) => `bytes=${first}-`),
  fc.nat(20).map((length) => `bytes=-${length}`),
  fc.constantFrom(
    'bytes=1.5-',
    'bytes=0-1.5',
    'bytes=0-1,3-4',
    'bytes=-1,-2',
    'bytes=-',
    'bytes=',
    'bytes=--1',
    'bytes=1--2',
    'bytes=3-1',
    'bytes=0-0',
    'bytes=,',
    'bytes=99999999999999999999-',
    'bytes=0-99999999999999999999',
    'bytes=-99999999999999999999',
    'bytes=9007199254740993-9007199254740994',
    'bytes=1e3-',
    'bytes=0x1-2',
    'bytes=+1-2',
    'bytes= 0-1',
    'BYTES=0-1',
    'Bytes=-3',
    'items=0-3',
    'bytes 0-3/10',
    'none',
    '-',
    '0-3',
  ),
  fc.string({ maxLength: 12 }).map((text) => `bytes=${text}`),
  fc.string({ maxLength: 12 }),
);
/** Entity-tag lists for If-Match / If-None-Match. */
const ETAG_LIST = fc.oneof(
  fc.constantFrom(
    '*',
    '"*"',
    '""',
    '"0123456789abcdef0123456789abcdef"',
    'W/"x"',
    '"a", "b"',
    ',',
    'junk',
    '"unterminated',
    '*, "x"',
  ),
  fc.string({ maxLength: 16 }),
);
/** Dates for If-Modified-Since / If-Unmodified-Since: valid, past, future, and junk. */
const HTTP_DATE = fc.oneof(
  fc.constantFrom(
    'Thu, 01 Jan 1970 00:00:00 GMT',
    'Fri, 31 Dec 9999 23:59:59 GMT',
    'Mon, 32 Foo 2020 25:61:61 GMT',
    'yesterday',
    '0',
    '-1',
    '99999999999999999999',
    '2020-01-01T00:00:00Z',
    'Sat, 01 Jan 2000 00:00:00 XYZ',
    'Tue, 29 Feb 2022 00:00:00 GMT',
    'NaN',
    'Infinity',
  ),
  fc.date({ min: new Date(0), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toUTCString()),
  fc.string({ maxLength: 20 }),
);
const CONDITIONAL_HEADERS = fc.record(
  {
    'If-Match': ETAG_LIST,
    'If-None-Match': ETAG_LIST,
    'If-Modified-Since': HTTP_DATE,
    'If-Unmodified-Since': HTTP_DATE,
  },
  { requiredKeys: [] },
);
/** Values of query parameters, raw (as they go on the wire): encoded junk, broken escapes, numbers no parser expects. */
const ODD_VALUE = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1',
    '2',
    'abc',
    '1.5',
    '1e3',
    '0x10',
    '+1',
    ' 5',
    '%205',
    'NaN',
    'Infinity',
    'null',
    '99999999999999999999',
    '2147483648',
    '9007199254740993',
    '1000',
    '1001',
    '10000',
    '10001',
  ),
  fc.constantFrom(
    '%zz',
    '%',
    '%0',
    '%00',
    '%FF',
    '%C0%AF',
    '%0D%0AX-Injected:%201',
    '%E2%80%AE',
    '%F0%9F%92%A9',
    '..%2F..%2Fbob%2F',
    'bob%2Fsecret.txt',
    'alice%2F',
    'alice%2Fzzz',
    '%EF%BF%BF',
  ),
  fc.string({ maxLength: 24 }).map(encodeURIComponent),
  fc.base64String({ maxLength: 32 }).map(encodeURIComponent),
  fc.constantFrom(ALICE_UPLOAD, 'x'.repeat(2000)),
);
/**
 * Genuine continuation tokens the emulator made for listings alice was never given (bob's
 * folder, the whole bucket) and for her own, filled in before the cases run: `{token-N}`
 * stands for the Nth, URL-encoded, and `{raw-token-N}` for it as a careless client sends it.
 */
const tokens: string[] = [];
const TOKEN_LISTINGS = ['prefix=bob%2F', 'prefix=', 'prefix=alice%2F'];
const CONTINUATION_TOKEN = fc.oneof(
  ODD_VALUE,
  fc.constantFrom(...TOKEN_LISTINGS.flatMap((_, index) => [`{token-${index}}`, `{raw-token-${index}}`])),
);
const withTokens = (text: string) =>
  text.replace(/\{(raw-)?token-(\d)\}/g, (_, raw: string | undefined, index: string) =>
    raw ? (tokens[Number(index)] ?? '') : encodeURIComponent(tokens[Number(index)] ?? ''),
  );
/** Listings with odd paging and marker values: which listing, and its parameters (name, raw value), some repeated. */
const LISTING = fc.oneof(
  fc.record({
    kind: fc.constant('ListObjectsV2' as const),
    params: fc.array(
      fc.constantFrom('continuation-token', 'start-after', 'max-keys', 'encoding-type', 'fetch-owner', 'delimiter'),
      { maxLength: 4 },
    ),
  }),
  fc.record({
    kind: fc.constant('ListObjects' as const),
    params: fc.array(fc.constantFrom('marker', 'max-keys', 'encoding-type', 'delimiter'), { maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('ListParts' as const),
    params: fc.array(fc.constantFrom('part-number-marker', 'max-parts', 'encoding-type'), { maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('ListMultipartUploads' as const),
    params: fc.array(fc.constantFrom('key-marker', 'upload-id-marker', 'max-uploads', 'encoding-type', 'delimiter'), {
      maxLength: 4,
    }),
  }),
);
/** `response-*` overrides with odd values (GetObject). */
const RESPONSE_OVERRIDES = fc.dictionary(
  fc.constantFrom(
    'response-content-type',
    'response-content-disposition',
    'response-content-language',
    'response-expires',
    'response-cache-control',
    'response-content-encoding',
    'response-junk',
  ),
  fc.oneof(
    ODD_VALUE,
    fc.constantFrom(
      'attachment%3B%20filename%3D%22..%2Fx%22',
      'text%2Fhtml',
      'inline',
      'no-cache',
      'Thu%2C%2001%20Jan%201970%2000%3A00%3A00%20GMT',
      'gzip',
      'en',
      '%22%0A%22',
      '%C3%A9',
    ),
  ),
  { maxKeys: 3 },
);
const READ_KEY = fc.constantFrom('alice/a.txt', 'alice/x', 'alice/sub/b.txt', 'alice/missing');

type Operation =
  | 'GET'
  | 'HEAD'
  | 'PUT'
  | 'DELETE'
  | 'COPY'
  | 'DELETE_OBJECTS'
  | 'LIST'
  | 'PART'
  | 'TAGGING'
  | 'ACL'
  | 'COMPLETE'
  | 'BROKEN_DELETE_OBJECTS'
  | 'POST_FORM'
  | 'READ'
  | 'CONDITIONAL_PUT'
  | 'ODD_LISTING';
/** The operations whose XML bodies are generated, and how (their targets are always alice's own, so the body is what is judged). */
const XML_OPERATIONS: ReadonlySet<Operation> = new Set(['TAGGING', 'ACL', 'COMPLETE', 'BROKEN_DELETE_OBJECTS']);
const REQUEST = fc.record({
  operation: fc.constantFrom<Operation>(
    'GET',
    'HEAD',
    'PUT',
    'DELETE',
    'COPY',
    'DELETE_OBJECTS',
    'LIST',
    'GET',
    'PUT',
    'PART',
    'TAGGING',
    'ACL',
    'COMPLETE',
    'BROKEN_DELETE_OBJECTS',
    'POST_FORM',
    'READ',
    'READ',
    'READ',
    'CONDITIONAL_PUT',
    'ODD_LISTING',
    'ODD_LISTING',
  ),
  read: fc.record({
    head: fc.boolean(),
    key: READ_KEY,
    range: fc.option(RANGE, { nil: undefined, freq: 4 }),
    conditions: fc.option(CONDITIONAL_HEADERS, { nil: {}, freq: 2 }),
    overrides: RESPONSE_OVERRIDES,
  }),
  conditionalPut: fc.record({
    key: fc.oneof(READ_KEY, fc.constant('alice/cond-new')),
    conditions: CONDITIONAL_HEADERS,
    range: fc.option(RANGE, { nil: undefined, freq: 4 }),
  }),
  listing: fc.tuple(LISTING, fc.array(fc.oneof(CONTINUATION_TOKEN, ODD_VALUE), { minLength: 4, maxLength: 4 })),
  postForm: POST_FORM,
  partNumber: PART_NUMBER,
  path: TARGET_PATH,
  query: fc.option(QUERY, { nil: undefined, freq: 2 }),
  copySource: fc.oneof(
    PATH_TAIL.map((tail) => `/${SANDBOX_BUCKET}/alice/${tail}`),
    PATH_TAIL.map((tail) => `${SANDBOX_BUCKET}/${tail}`),
  ),
  deleteKeys: fc.array(
    PATH_TAIL.map((tail) => `alice/${tail}`),
    { minLength: 1, maxLength: 3 },
  ),
  xmlEscape: fc.boolean(),
  unsigned: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: UNSIGNED_HEADERS }),
  // Raw non-ASCII is refused by Node's own HTTP parser before the gate sees it: percent-encoded here.
  plainKey: fc
    .array(
      PLAIN_FRAGMENT.filter((part) => part !== 'é'),
      { minLength: 1, maxLength: 3 },
    )
    .map((parts) => `alice/${parts.join('')}`),
  tagging: TAGGING_BODY,
  acl: ACL_BODY,
  complete: COMPLETE_BODY,
  deleteBreakage: DELETE_BODY_BREAKAGE,
});
type GeneratedRequest = typeof REQUEST extends fc.Arbitrary<infer T> ? T : never;

let counter = 0;
let aliceUploadId = '';

function toRawRequest(generated: GeneratedRequest): RawRequest & { bodyText: string } {
  const request = requestWithoutTampering(generated);
  // A POST upload is signed in its form, not its headers: sent as a browser sends it.
  return generated.unsigned === undefined || generated.operation === 'POST_FORM'
    ? request
    : { ...request, unsignedHeaders: generated.unsigned };
}

function requestWithoutTampering(generated: GeneratedRequest): RawRequest & { bodyText: string } {
  const bodyText = `body-${++counter}`;
  if (generated.query?.includes(ALICE_UPLOAD))
    generated = { ...generated, query: generated.query.replaceAll(ALICE_UPLOAD, aliceUploadId) };
  const plainTarget = `/${SANDBOX_BUCKET}/${generated.plainKey}`;
  switch (generated.operation) {
    case 'TAGGING':
      return { method: 'PUT', target: `${plainTarget}?tagging`, body: Buffer.from(generated.tagging.xml), bodyText };
    case 'ACL':
      return { method: 'PUT', target: `${plainTarget}?acl`, body: Buffer.from(generated.acl.xml), bodyText };
    case 'COMPLETE':
      return {
        method: 'POST',
        target: `/${SANDBOX_BUCKET}/alice/multi?uploadId=${aliceUploadId}`,
        body: Buffer.from(generated.complete.xml),
        bodyText,
      };
    case 'POST_FORM':
      return { ...postFormRequest(generated.postForm, bodyText), bodyText };
    case 'BROKEN_DELETE_OBJECTS':
      return {
        method: 'POST',
        target: `/${SANDBOX_BUCKET}?delete`,
        body: Buffer.from(
          breakXml('Delete', `<Object><Key>${generated.plainKey}</Key></Object>`, generated.deleteBreakage),
        ),
        bodyText,
      };
    case 'LIST':
      return {
        method: 'GET',
        target: `/${SANDBOX_BUCKET}?${generated.query ?? 'list-type=2&prefix=alice/'}`,
        bodyText,
      };
    case 'READ': {
      const { head, key, range, conditions, overrides } = generated.read;
      const query = Object.entries(overrides)
        .map(([name, value]) => `${name}=${value.replaceAll(ALICE_UPLOAD, aliceUploadId)}`)
        .join('&');
      return {
        method: head ? 'HEAD' : 'GET',
        target: `/${SANDBOX_BUCKET}/${key}${query ? `?${query}` : ''}`,
        headers: { ...conditions, ...(range !== undefined ? { Range: range } : {}) },
        bodyText,
      };
    }
    case 'CONDITIONAL_PUT': {
      const { key, conditions, range } = generated.conditionalPut;
      return {
        method: 'PUT',
        target: `/${SANDBOX_BUCKET}/${key}`,
        headers: { ...conditions, ...(range !== undefined ? { Range: range } : {}) },
        body: Buffer.from(bodyText),
        bodyText,
      };
    }
    case 'ODD_LISTING': {
      const [{ kind, params }, values] = generated.listing;
      const odd = params.map(
        (name, index) => `${name}=${withTokens((values[index] ?? '').replaceAll(ALICE_UPLOAD, aliceUploadId))}`,
      );
      const base =
        kind === 'ListObjectsV2'
          ? `/${SANDBOX_BUCKET}?list-type=2&prefix=alice%2F`
          : kind === 'ListObjects'
            ? `/${SANDBOX_BUCKET}?prefix=alice%2F`
            : kind === 'ListParts'
              ? `/${SANDBOX_BUCKET}/alice/multi?uploadId=${aliceUploadId}`
              : `/${SANDBOX_BUCKET}?uploads&prefix=alice%2F`;
      return { method: 'GET', target: [base, ...odd].join('&'), bodyText };
    }
    case 'PUT':
      return {
        method: 'PUT',
        target: generated.path + (generated.query ? `?${generated.query}` : ''),
        body: Buffer.from(bodyText),
        bodyText,
      };
    case 'PART':
      // UploadPart on alice's open upload.
      return {
        method: 'PUT',
        target: `/${SANDBOX_BUCKET}/alice/multi?partNumber=${generated.partNumber}&uploadId=${aliceUploadId}`,
        body: Buffer.from(bodyText),
        bodyText,
      };
    case 'COPY':
      return {
        method: 'PUT',
        target: generated.path,
        headers: { 'x-amz-copy-source': generated.copySource },
        bodyText,
      };
    case 'DELETE_OBJECTS': {
      const escape = (key: string) => (generated.xmlEscape ? key.replace(/&/g, '&amp;').replace(/</g, '&lt;') : key);
      const xml = `<Delete>${generated.deleteKeys.map((key) => `<Object><Key>${escape(key)}</Key></Object>`).join('')}</Delete>`;
      return { method: 'POST', target: `/${SANDBOX_BUCKET}?delete`, body: Buffer.from(xml), bodyText };
    }
    default:
      return {
        method: generated.operation,
        target: generated.path + (generated.query ? `?${generated.query}` : ''),
        bodyText,
      };
  }
}

/** A browser POST upload form signed with alice's credentials, as createPresignedPost signs it, then tampered with as told. */
function postFormRequest(form: GeneratedRequest['postForm'], content: string): RawRequest {
  const amzDate = formatAmzDate(Date.now());
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const fields: Record<string, string> = {
    bucket: SANDBOX_BUCKET,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${alice.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Security-Token': alice.sessionToken,
    key: form.key,
  };
  const keyCondition =
    form.keyCondition === 'eq'
      ? { key: form.key }
      : ['starts-with', '$key', form.keyCondition === 'starts-with-alice' ? 'alice/' : ''];
  const conditions = [
    ...Object.entries(fields)
      .filter(([name]) => name !== 'key')
      .map(([name, value]) => ({ [name]: value })),
    keyCondition,
  ];
  const policy = Buffer.from(
    JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions }),
  ).toString('base64');
  fields.Policy = policy;
  fields['X-Amz-Signature'] = signString(
    signingKey(alice.secretAccessKey, amzDate.slice(0, 8), 'us-east-1', 's3'),
    policy,
  );
  if (form.tamper === 'key') fields.key = form.key.startsWith('alice/') ? `bob/${form.key.slice(6)}` : 'alice/moved';
  if (form.tamper === 'policy')
    fields.Policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [...conditions.slice(0, -1), ['starts-with', '$key', '']],
      }),
    ).toString('base64');
  if (form.tamper === 'extra-field') fields['x-amz-meta-extra'] = 'x';
  const boundary = `----fuzz${counter}`;
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const body = Buffer.from(
    `${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${form.filename}"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`,
  );
  return {
    method: 'POST',
    target: `/${SANDBOX_BUCKET}`,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-gate-diff-'));
  // Files outside the storage, and objects of other users, that no request may touch.
  mkdirSync(join(root, 'outside'), { recursive: true });
  writeFileSync(join(root, 'outside', 'secret.txt'), 'outside');
  writeFileSync(join(root, 'top.txt'), 'top');
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  for (const key of ['bob/secret.txt', 'bob/x', 'al/x', 'alice.b/x', 'top.txt', 'x'])
    await harness.seed(key, `seed:${key}`);
  await seedAlice();
  const created = await harness.sendSigned(alice, { method: 'POST', target: `/${SANDBOX_BUCKET}/alice/multi?uploads` });
  aliceUploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString('utf8'))?.[1] ?? '';
  if (aliceUploadId === '') throw new Error(`could not start alice's upload: ${created.body.toString('utf8')}`);
  for (const listing of TOKEN_LISTINGS) tokens.push(await emulatorContinuationToken(listing));
}, 30_000);

/** The NextContinuationToken of a one-key listing, asked of the emulator directly (not through the gate). */
function emulatorContinuationToken(listing: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const asked = httpRequest(
      {
        socketPath: harness.emulator.socketPath,
        path: `/${SANDBOX_BUCKET}?list-type=2&max-keys=1&${listing}`,
        headers: { host: 'localhost' },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(
            Buffer.concat(chunks).toString('utf8'),
          )?.[1];
          if (token) resolve(token);
          else reject(new Error(`no continuation token for ${listing}`));
        });
      },
    );
    asked.on('error', reject);
    asked.end();
  });
}

/** alice's own objects at the start, and again whenever the cases have made her folder large (it is walked twice a case). */
async function seedAlice(): Promise<void> {
  rmSync(join(bucketFolder(), 'alice'), { recursive: true, force: true });
  for (const key of ['alice/a.txt', 'alice/x', 'alice/sub/b.txt', 'alice/sub/']) await harness.seed(key, `seed:${key}`);
}

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const unescapeXml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/**
 * How what the emulator did differs from what the gate authorised: an empty list when it did
 * exactly that. `changed` are the keys whose stored objects changed during the request.
 */
function differences(
  sent: ForwardedRequest,
  answer: RawAnswer,
  bodyText: string,
  before: Map<string, string>,
  after: Map<string, string>,
  changed: string[],
): string[] {
  const found: string[] = [];
  const only = (allowed: readonly string[]) => {
    for (const key of changed)
      if (!allowed.includes(key)) found.push(`changed ${JSON.stringify(key)}, authorised ${JSON.stringify(allowed)}`);
  };
  if (sent.bucket !== SANDBOX_BUCKET) found.push(`bucket ${sent.bucket}`);
  switch (sent.operation) {
    case 'GetObject':
    case 'HeadObject':
      only([]);
      if (
        answer.status === 200 &&
        sent.operation === 'GetObject' &&
        answer.body.toString('utf8') !== content(sent.key!)
      )
        found.push(`read ${answer.body.toString('utf8')}, not ${sent.key}`);
      if (answer.status === 404 && before.has(sent.key!)) found.push(`404 for the existing ${sent.key}`);
      if (answer.status === 206 && sent.operation === 'GetObject')
        found.push(...partialReadDifferences(answer, content(sent.key!) ?? ''));
      break;
    case 'PostObject':
      only(answer.status === 204 ? [sent.key!] : []);
      if (answer.status === 204 && content(sent.key!) !== bodyText)
        found.push(`${sent.key} does not hold the body posted`);
      if (!sent.key!.startsWith('alice/')) found.push(`a POST upload to ${sent.key} got through`);
      break;
    case 'PutObject':
      only(answer.status === 200 ? [sent.key!] : []);
      if (answer.status === 200 && content(sent.key!) !== bodyText)
        found.push(`${sent.key} does not hold the body put`);
      break;
    case 'CopyObject':
      only([sent.key!]);
      if (answer.status === 200 && content(sent.key!) !== content(sent.copySource!.key))
        found.push(`${sent.key} is not a copy of ${sent.copySource!.key}`);
      break;
    case 'DeleteObject':
      only([sent.key!]);
      break;
    case 'DeleteObjects':
      only(sent.deletedKeys!);
      for (const key of sent.deletedKeys!) if (after.has(key)) found.push(`${key} was not deleted`);
      break;
    case 'ListObjects':
    case 'ListObjectsV2': {
      only([]);
      const prefix = sent.prefix ?? '';
      const xml = answer.body.toString('utf8');
      // Every listed key and common prefix (and the echoed prefix) starts with the authorised prefix.
      for (const [, entry = ''] of xml.matchAll(/<(?:Key|Prefix)>([^<]*)<\/(?:Key|Prefix)>/g))
        if (!unescapeXml(entry).startsWith(prefix)) found.push(`listed ${entry} for prefix ${prefix}`);
      if (
        answer.status === 200 &&
        !/[?&](delimiter|max-keys|start-after|marker|continuation-token)=/.test(sent.target)
      ) {
        const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map(([, key = '']) => unescapeXml(key)).sort();
        const expected = [...before.keys()].filter((key) => key.startsWith(prefix)).sort();
        if (JSON.stringify(keys) !== JSON.stringify(expected))
          found.push(`listed ${JSON.stringify(keys)}, stored under ${prefix}: ${JSON.stringify(expected)}`);
      }
      break;
    }
    default:
      // Sub-resources (acl, tagging, uploads): alice's own key only.
      only(sent.key === undefined ? [] : [sent.key]);
  }
  return found;
}

/** A 206 must carry exactly the bytes its Content-Range names, of the object as stored. */
function partialReadDifferences(answer: RawAnswer, stored: string): string[] {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answer.headers['content-range'] ?? '');
  if (!range) return [`206 with Content-Range ${answer.headers['content-range']}`];
  const [first, last, size] = range.slice(1).map(Number) as [number, number, number];
  const expected = Buffer.from(stored).subarray(first, last + 1);
  return size === Buffer.byteLength(stored) && last < size && first <= last && answer.body.equals(expected)
    ? []
    : [
        `206 ${answer.headers['content-range']} with ${JSON.stringify(answer.body.toString('utf8'))} of ${JSON.stringify(stored)}`,
      ];
}

/**
 * What S3 answers a GetObject with one simple range and no conditions: 206 with the bytes it
 * names (clamped to the object), 416 InvalidRange when it starts past the end, or undefined
 * for a range this oracle does not judge (S3 ignores what it cannot parse, and answers 200).
 */
function expectedRangeAnswer(range: string, stored: string): { status: number; body?: string } | undefined {
  const size = Buffer.byteLength(stored);
  const simple = /^bytes=(\d{1,6})-(\d{0,6})$/.exec(range);
  if (simple) {
    const first = Number(simple[1]);
    // A reversed range is not a range: ignored, as what does not parse is.
    if (simple[2] !== '' && Number(simple[2]) < first) return { status: 200, body: stored };
    if (first >= size) return { status: 416 };
    const last = simple[2] === '' ? size - 1 : Math.min(Number(simple[2]), size - 1);
    return {
      status: 206,
      body: Buffer.from(stored)
        .subarray(first, last + 1)
        .toString('utf8'),
    };
  }
  const suffix = /^bytes=-(\d{1,6})$/.exec(range);
  if (suffix && Number(suffix[1]) > 0 && size > 0)
    return {
      status: 206,
      body: Buffer.from(stored)
        .subarray(Math.max(0, size - Number(suffix[1])))
        .toString('utf8'),
    };
  return undefined;
}

test(`every request the gate lets through acts on exactly what it authorised, and nothing outside alice's folder changes (${RUNS} cases)`, async () => {
  let forwardedCount = 0;
  let unsignedRefused = 0;
  let malformedRefused = 0;
  let partialReads = 0;
  let oddListingsAnswered = 0;
  await fc.assert(
    fc.asyncProperty(REQUEST, async (generated) => {
      if (objects().size > 60) await seedAlice();
      const request = toRawRequest(generated);
      const outsideBefore = outsideAlice();
      const before = objects();
      harness.takeForwarded();
      const sent =
        generated.operation === 'POST_FORM' ? sendRaw(harness.port, request) : harness.sendSigned(alice, request);
      // A request left unanswered is a finding too (it holds a connection, and maybe a lock).
      let timer: NodeJS.Timeout | undefined;
      const answer = await Promise.race([
        sent,
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `no answer in 20 s to ${request.method} ${request.target} ${JSON.stringify(request.headers ?? {})}`,
                  ),
                ),
              20_000,
            )),
        ),
      ]).finally(() => clearTimeout(timer));
      const forwarded = harness.takeForwarded();
      const after = objects();
      const changed = changedKeys(before, after);
      forwardedCount += forwarded.length;
      const found: string[] = [];
      const code = /<Code>([^<]*)<\/Code>/.exec(answer.body.toString('utf8'))?.[1];
      // Malformed input is a 4xx: the only 5xx is S3's own "not implemented".
      if (answer.status >= 500 && !(answer.status === 501 && code === 'NotImplemented'))
        found.push(`a ${answer.status} ${code ?? ''}`);
      if (answer.status < 100) found.push('no HTTP answer (connection cut)');
      if (generated.unsigned !== undefined && generated.operation !== 'POST_FORM') {
        // Refused before anything is done: 403 for the unsigned headers (or an earlier 4xx for the target itself).
        if (forwarded.length > 0 || answer.status < 400 || answer.status >= 500)
          found.push('a request with unsigned x-amz-* headers got through');
        if (
          answer.status === 403 &&
          request.method !== 'HEAD' &&
          code !== 'SignatureDoesNotMatch' &&
          !answer.body.toString('utf8').includes('<HeadersNotSigned>')
        )
          found.push('403 without HeadersNotSigned');
        if (code === 'AccessDenied') unsignedRefused += 1;
      } else if (XML_OPERATIONS.has(generated.operation)) {
        const breakage =
          generated.operation === 'TAGGING'
            ? generated.tagging.breakage
            : generated.operation === 'ACL'
              ? generated.acl.breakage
              : generated.operation === 'COMPLETE'
                ? generated.complete.breakage
                : generated.deleteBreakage;
        if (breakage !== 'none') {
          if (answer.status !== 400 || code !== 'MalformedXML' || forwarded.length > 0)
            found.push(`a ${breakage} body: ${answer.status} ${code ?? ''}, not 400 MalformedXML`);
        } else if (
          generated.operation === 'COMPLETE' &&
          (answer.status !== 400 || !['MalformedXML', 'InvalidArgument'].includes(code ?? '') || forwarded.length > 0)
        ) {
          found.push(`a Complete body of the wrong form: ${answer.status} ${code ?? ''}`);
        }
        if (breakage !== 'none') malformedRefused += 1;
      }
      if (generated.operation === 'READ' && generated.unsigned === undefined) {
        const { head, key, range, conditions, overrides } = generated.read;
        if (answer.status === 206) partialReads += 1;
        const expected =
          !head &&
          range !== undefined &&
          Object.keys(conditions).length === 0 &&
          Object.keys(overrides).length === 0 &&
          before.has(key)
            ? expectedRangeAnswer(range, content(key) ?? '')
            : undefined;
        if (
          expected &&
          (answer.status !== expected.status ||
            (expected.body !== undefined && answer.body.toString('utf8') !== expected.body))
        ) {
          found.push(
            `Range ${range} of ${JSON.stringify(content(key))}: ${answer.status} ${JSON.stringify(answer.body.toString('utf8'))}, S3 answers ${expected.status} ${JSON.stringify(expected.body)}`,
          );
        }
      }
      if (generated.operation === 'ODD_LISTING' && answer.status === 200) {
        oddListingsAnswered += 1;
        // Whatever the markers and tokens say, a listing names only alice's keys.
        for (const [, key = ''] of answer.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g))
          if (!unescapeXml(key).startsWith('alice/')) found.push(`listed ${key}`);
      }
      // Allowed or refused: nothing outside alice's folder (in the storage or beside it) changes.
      if (!mapsEqual(outsideBefore, outsideAlice())) found.push('a file outside alice/ changed');
      if (forwarded.length === 0 && changed.length > 0) found.push(`refused, yet ${JSON.stringify(changed)} changed`);
      if (forwarded.length > 1) found.push('one request, several forwarded');
      for (const sent of forwarded) found.push(...differences(sent, answer, request.bodyText, before, after, changed));
      const context = `${request.method} ${request.target} -> ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}; forwarded ${JSON.stringify(forwarded)}`;
      expect({ context, found }).toEqual({ context, found: [] });
    }),
    { numRuns: RUNS },
  );
  // The property means little unless many requests got through.
  expect(forwardedCount).toBeGreaterThan(RUNS / 10);
  expect(unsignedRefused).toBeGreaterThan(RUNS / 20);
  expect(malformedRefused).toBeGreaterThan(RUNS / 20);
  // About 9 partial reads a run on average, so a floor of 5 failed about one run in twenty; the
  // byte-exact range answers themselves are pinned in s3-storage-fidelity.test.ts.
  expect(partialReads).toBeGreaterThan(0);
  expect(oddListingsAnswered).toBeGreaterThan(RUNS / 100);
}, 600_000);

// Found by the fuzz: a response override holding a control character, or a character beyond
// Latin-1, made the emulator's response header throw (500); one with a Latin-1 letter past
// US-ASCII (é) cut the connection. Pinned here.
test('a response-* override with a line break or a character beyond US-ASCII is 400 InvalidArgument; a visible US-ASCII one is sent back', async () => {
  await harness.seed('alice/override.txt', 'override');
  const broken = await harness.sendSigned(alice, {
    method: 'GET',
    target: `/${SANDBOX_BUCKET}/alice/override.txt?response-content-type=%22%0A%22`,
  });
  expect(broken.status).toBe(400);
  expect(/<Code>([^<]*)<\/Code>/.exec(broken.body.toString('utf8'))?.[1]).toBe('InvalidArgument');
  const unicode = await harness.sendSigned(alice, {
    method: 'GET',
    target: `/${SANDBOX_BUCKET}/alice/override.txt?response-content-disposition=attachment%3B%20filename%3D%E2%80%AE%F0%9F%92%A9`,
  });
  expect(unicode.status).toBe(400);
  expect(/<Code>([^<]*)<\/Code>/.exec(unicode.body.toString('utf8'))?.[1]).toBe('InvalidArgument');
  const accented = await harness.sendSigned(alice, {
    method: 'GET',
    target: `/${SANDBOX_BUCKET}/alice/override.txt?response-content-disposition=%C3%A9`,
  });
  expect(accented.status).toBe(400);
  expect(/<Code>([^<]*)<\/Code>/.exec(accented.body.toString('utf8'))?.[1]).toBe('InvalidArgument');
  const latin1 = await harness.sendSigned(alice, {
    method: 'GET',
    target: `/${SANDBOX_BUCKET}/alice/override.txt?response-content-disposition=attachment%3B%20filename%3D%22a.txt%22`,
  });
  expect(latin1.status).toBe(200);
  expect(latin1.headers['content-disposition']).toBe('attachment; filename="a.txt"');
  expect(latin1.body.toString('utf8')).toBe('override');
});

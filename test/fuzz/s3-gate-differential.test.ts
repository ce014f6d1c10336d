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
 * with the key, policy or fields tampered with) store only at an authorised key of hers; and
 * no request at all gets a 5xx other than S3's own 501 NotImplemented.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SANDBOX_ACCOUNT_ID, SANDBOX_BUCKET } from '../../local/names';
import type { ForwardedRequest } from '../../local/s3-gate';
import type { StsSession } from '../../local/session-store';
import { formatAmzDate, signingKey, signString } from '../../local/sigv4';
import { sendRaw, startGateHarness, type GateHarness, type RawAnswer, type RawRequest } from '../support/s3-gate-harness';

const RUNS = 2_000;
const OBJECT_SUFFIX = '._S3rver_object';

let root: string;
let harness: GateHarness;
let alice: StsSession;
const bucketFolder = () => join(root, 's3', SANDBOX_BUCKET);

/** Files under a folder (relative to the root), each with what `describe` says of it. */
function walkFiles(dir: string, describe: (path: string) => string, skip: (rel: string) => boolean = () => false, files = new Map<string, string>()): Map<string, string> {
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
  return walkFiles(root, (path) => createHash('sha256').update(readFileSync(path)).digest('hex'), (rel) => rel.startsWith(aliceFolder) || rel.startsWith(uploads));
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
  'alice', 'alice/', 'bob', 'bob/', 'al', 'x', 'a.txt', '/', '//', '.', '..', '../', '..%2f', '%2e%2e', '%2E%2e/', '%252e%252e', '%2f', '%2F', '%5c', '\\',
  '%5C..%5C', '#', '%23', '?', '%3F', ';', '%3B', '+', '%2B', '%20', ' ', '%00', '%0a', '%7f', '%25', '%', '%zz', 'é', '%C3%A9', '%C0%AE', '%C0%AF', '%E0%80%AE',
  '%ED%A0%80', '%FF', '%E2%80%AE', '~', '*', '%2A', "'", '(', '!', '$', '&', '=', '@', ':', ',', '._S3rver_object', '%2e', 'sub/', 'sub/b.txt',
);
// Ordinary pieces, so that many requests get through and what the emulator did can be compared.
const PLAIN_FRAGMENT = fc.constantFrom('x', 'a.txt', 'sub/', 'sub/b.txt', '%20', '%C3%A9', 'é', '~', '-', '_', 'n1', '%25', '%2B', '!', "'", '(', '*');
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
  'prefix', 'delimiter', 'list-type', 'max-keys', 'x-id', 'PREFIX', 'prefix%00', 'pre%66ix', 'acl', 'tagging', 'uploads', 'junk', 'x-amz-acl', 'X-Amz-Date',
  'start-after', 'encoding-type', 'x-amz-copy-source', 'X-Amz-Copy-Source', 'x-amz-metadata-directive',
  // Multipart: the emulator names files after the part number and folders after the upload id.
  'partNumber', 'uploadId', 'part-number-marker', 'max-parts', 'upload-id-marker',
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
    const parts = [...Array.from({ length: flood }, (_, i) => `z${i}=1`), ...pairs.map(([name, value, bare]) => (bare && value === '' ? name : `${name}=${value}`))];
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
  fc.constantFrom('x-amz-copy-source', 'x-amz-acl', 'x-amz-tagging', 'x-amz-meta-note', 'x-amz-metadata-directive', 'x-amz-storage-class', 'x-amz-grant-read', 'x-amz-website-redirect-location', 'X-Amz-Server-Side-Encryption'),
  fc.constantFrom(`/${SANDBOX_BUCKET}/bob/secret.txt`, `${SANDBOX_BUCKET}/alice/a.txt`, 'public-read', 'private', 'a=b', 'REPLACE', 'STANDARD', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"', '/x', 'AES256'),
  { minKeys: 1, maxKeys: 3 },
);

/** How an XML body is broken: `none` leaves it whole; every other way makes it MalformedXML. */
type XmlBreakage = 'none' | 'truncate' | 'deep' | 'doctype' | 'entity' | 'wrong-root' | 'garbage' | 'repeat-root-child' | 'text-in-list' | 'empty';
const XML_BREAKAGE = fc.constantFrom<XmlBreakage>('none', 'none', 'truncate', 'deep', 'doctype', 'entity', 'wrong-root', 'garbage', 'repeat-root-child', 'text-in-list', 'empty');
const XML_TEXT = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', ' ', 'a', 'k'.repeat(129), 'v'.repeat(257), 'é', '&amp;', '&#x41;'));
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
  .map(([tags, breakage]) => ({ breakage, xml: breakXml('Tagging', `<TagSet>${tags.map(([key, value]) => `<Tag><Key>${escapeText(key)}</Key><Value>${escapeText(value)}</Value></Tag>`).join('')}</TagSet>`, breakage) }));
const ACL_BODY = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom(OWNER_CANONICAL_ID, 'f'.repeat(64), ''), fc.constantFrom('FULL_CONTROL', 'READ', 'WRITE_ACP'), fc.boolean()), { minLength: 1, maxLength: 3 }), XML_BREAKAGE)
  .map(([grants, breakage]) => ({
    breakage,
    xml: breakXml(
      'AccessControlPolicy',
      `<Owner><ID>${OWNER_CANONICAL_ID}</ID></Owner><AccessControlList>${grants
        .map(([id, permission, group]) => `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${id}</ID>${group ? '<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>' : ''}</Grantee><Permission>${permission}</Permission></Grant>`)
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
    fc.array(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 3 }).map(String), fc.constantFrom('abc', '1.5', '', ' ', '-1', '1e3', '0', '10001', '0x1')), fc.option(fc.constantFrom('"etag"', '', 'x'), { nil: undefined })), { maxLength: 3 }),
    XML_BREAKAGE,
  )
  .map(([parts, breakage]) => {
    const formOk = (number: string, etag: string | undefined) => /^\d+$/.test(number) && Number(number) >= 1 && Number(number) <= 10000 && etag !== undefined && etag !== '';
    const fixed = breakage === 'none' && parts.length > 0 && parts.every(([number, etag]) => formOk(number, etag)) ? parts.map(([number], index) => [number, index === 0 ? undefined : '"etag"'] as const) : parts;
    const inner = fixed.map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber>${etag === undefined ? '' : `<ETag>${etag}</ETag>`}</Part>`).join('');
    return { breakage, xml: breakXml('CompleteMultipartUpload', inner, breakage) };
  });
const DELETE_BODY_BREAKAGE = XML_BREAKAGE.filter((breakage) => breakage !== 'none');

/** Keys for a browser POST upload form: alice's, others', traversals, and ${filename}. */
const POST_KEY = fc.oneof(
  PATH_TAIL.map((tail) => `alice/${decodeURIComponentSafe(tail)}`),
  fc.constantFrom('alice/${filename}', 'alice/../bob/x', 'bob/x', 'al/x', 'alice', '', '${filename}', 'alice/sub/${filename}'),
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
  keyCondition: fc.constantFrom<'eq' | 'starts-with-alice' | 'starts-with-empty'>('eq', 'starts-with-alice', 'starts-with-empty'),
  filename: fc.constantFrom('f.txt', '../x', 'a/b', ''),
  /** A field changed after signing. */
  tamper: fc.constantFrom<'none' | 'key' | 'policy' | 'extra-field'>('none', 'none', 'key', 'policy', 'extra-field'),
});

type Operation = 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'COPY' | 'DELETE_OBJECTS' | 'LIST' | 'PART' | 'TAGGING' | 'ACL' | 'COMPLETE' | 'BROKEN_DELETE_OBJECTS' | 'POST_FORM';
/** The operations whose XML bodies are generated, and how (their targets are always alice's own, so the body is what is judged). */
const XML_OPERATIONS: ReadonlySet<Operation> = new Set(['TAGGING', 'ACL', 'COMPLETE', 'BROKEN_DELETE_OBJECTS']);
const REQUEST = fc.record({
  operation: fc.constantFrom<Operation>('GET', 'HEAD', 'PUT', 'DELETE', 'COPY', 'DELETE_OBJECTS', 'LIST', 'GET', 'PUT', 'PART', 'TAGGING', 'ACL', 'COMPLETE', 'BROKEN_DELETE_OBJECTS', 'POST_FORM'),
  postForm: POST_FORM,
  partNumber: PART_NUMBER,
  path: TARGET_PATH,
  query: fc.option(QUERY, { nil: undefined, freq: 2 }),
  copySource: fc.oneof(PATH_TAIL.map((tail) => `/${SANDBOX_BUCKET}/alice/${tail}`), PATH_TAIL.map((tail) => `${SANDBOX_BUCKET}/${tail}`)),
  deleteKeys: fc.array(PATH_TAIL.map((tail) => `alice/${tail}`), { minLength: 1, maxLength: 3 }),
  xmlEscape: fc.boolean(),
  unsigned: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: UNSIGNED_HEADERS }),
  // Raw non-ASCII is refused by Node's own HTTP parser before the gate sees it: percent-encoded here.
  plainKey: fc.array(PLAIN_FRAGMENT.filter((part) => part !== 'é'), { minLength: 1, maxLength: 3 }).map((parts) => `alice/${parts.join('')}`),
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
  return generated.unsigned === undefined || generated.operation === 'POST_FORM' ? request : { ...request, unsignedHeaders: generated.unsigned };
}

function requestWithoutTampering(generated: GeneratedRequest): RawRequest & { bodyText: string } {
  const bodyText = `body-${++counter}`;
  if (generated.query?.includes(ALICE_UPLOAD)) generated = { ...generated, query: generated.query.replaceAll(ALICE_UPLOAD, aliceUploadId) };
  const plainTarget = `/${SANDBOX_BUCKET}/${generated.plainKey}`;
  switch (generated.operation) {
    case 'TAGGING':
      return { method: 'PUT', target: `${plainTarget}?tagging`, body: Buffer.from(generated.tagging.xml), bodyText };
    case 'ACL':
      return { method: 'PUT', target: `${plainTarget}?acl`, body: Buffer.from(generated.acl.xml), bodyText };
    case 'COMPLETE':
      return { method: 'POST', target: `/${SANDBOX_BUCKET}/alice/multi?uploadId=${aliceUploadId}`, body: Buffer.from(generated.complete.xml), bodyText };
    case 'POST_FORM':
      return { ...postFormRequest(generated.postForm, bodyText), bodyText };
    case 'BROKEN_DELETE_OBJECTS':
      return { method: 'POST', target: `/${SANDBOX_BUCKET}?delete`, body: Buffer.from(breakXml('Delete', `<Object><Key>${generated.plainKey}</Key></Object>`, generated.deleteBreakage)), bodyText };
    case 'LIST':
      return { method: 'GET', target: `/${SANDBOX_BUCKET}?${generated.query ?? 'list-type=2&prefix=alice/'}`, bodyText };
    case 'PUT':
      return { method: 'PUT', target: generated.path + (generated.query ? `?${generated.query}` : ''), body: Buffer.from(bodyText), bodyText };
    case 'PART':
      // UploadPart on alice's open upload.
      return { method: 'PUT', target: `/${SANDBOX_BUCKET}/alice/multi?partNumber=${generated.partNumber}&uploadId=${aliceUploadId}`, body: Buffer.from(bodyText), bodyText };
    case 'COPY':
      return { method: 'PUT', target: generated.path, headers: { 'x-amz-copy-source': generated.copySource }, bodyText };
    case 'DELETE_OBJECTS': {
      const escape = (key: string) => (generated.xmlEscape ? key.replace(/&/g, '&amp;').replace(/</g, '&lt;') : key);
      const xml = `<Delete>${generated.deleteKeys.map((key) => `<Object><Key>${escape(key)}</Key></Object>`).join('')}</Delete>`;
      return { method: 'POST', target: `/${SANDBOX_BUCKET}?delete`, body: Buffer.from(xml), bodyText };
    }
    default:
      return { method: generated.operation, target: generated.path + (generated.query ? `?${generated.query}` : ''), bodyText };
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
  const keyCondition = form.keyCondition === 'eq' ? { key: form.key } : ['starts-with', '$key', form.keyCondition === 'starts-with-alice' ? 'alice/' : ''];
  const conditions = [...Object.entries(fields).filter(([name]) => name !== 'key').map(([name, value]) => ({ [name]: value })), keyCondition];
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions })).toString('base64');
  fields.Policy = policy;
  fields['X-Amz-Signature'] = signString(signingKey(alice.secretAccessKey, amzDate.slice(0, 8), 'us-east-1', 's3'), policy);
  if (form.tamper === 'key') fields.key = form.key.startsWith('alice/') ? `bob/${form.key.slice(6)}` : 'alice/moved';
  if (form.tamper === 'policy') fields.Policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions: [...conditions.slice(0, -1), ['starts-with', '$key', '']] })).toString('base64');
  if (form.tamper === 'extra-field') fields['x-amz-meta-extra'] = 'x';
  const boundary = `----fuzz${counter}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const body = Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${form.filename}"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`);
  return { method: 'POST', target: `/${SANDBOX_BUCKET}`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-gate-diff-'));
  // Files outside the storage, and objects of other users, that no request may touch.
  mkdirSync(join(root, 'outside'), { recursive: true });
  writeFileSync(join(root, 'outside', 'secret.txt'), 'outside');
  writeFileSync(join(root, 'top.txt'), 'top');
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  for (const key of ['bob/secret.txt', 'bob/x', 'al/x', 'alice.b/x', 'top.txt', 'x']) await harness.seed(key, `seed:${key}`);
  await seedAlice();
  const created = await harness.sendSigned(alice, { method: 'POST', target: `/${SANDBOX_BUCKET}/alice/multi?uploads` });
  aliceUploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString('utf8'))?.[1] ?? '';
  if (aliceUploadId === '') throw new Error(`could not start alice's upload: ${created.body.toString('utf8')}`);
}, 30_000);

/** alice's own objects at the start, and again whenever the cases have made her folder large (it is walked twice a case). */
async function seedAlice(): Promise<void> {
  rmSync(join(bucketFolder(), 'alice'), { recursive: true, force: true });
  for (const key of ['alice/a.txt', 'alice/x', 'alice/sub/b.txt', 'alice/sub/']) await harness.seed(key, `seed:${key}`);
}

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const unescapeXml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/**
 * How what the emulator did differs from what the gate authorised: an empty list when it did
 * exactly that. `changed` are the keys whose stored objects changed during the request.
 */
function differences(sent: ForwardedRequest, answer: RawAnswer, bodyText: string, before: Map<string, string>, after: Map<string, string>, changed: string[]): string[] {
  const found: string[] = [];
  const only = (allowed: readonly string[]) => {
    for (const key of changed) if (!allowed.includes(key)) found.push(`changed ${JSON.stringify(key)}, authorised ${JSON.stringify(allowed)}`);
  };
  if (sent.bucket !== SANDBOX_BUCKET) found.push(`bucket ${sent.bucket}`);
  switch (sent.operation) {
    case 'GetObject':
    case 'HeadObject':
      only([]);
      if (answer.status === 200 && sent.operation === 'GetObject' && answer.body.toString('utf8') !== content(sent.key!)) found.push(`read ${answer.body.toString('utf8')}, not ${sent.key}`);
      if (answer.status === 404 && before.has(sent.key!)) found.push(`404 for the existing ${sent.key}`);
      break;
    case 'PostObject':
      only(answer.status === 204 ? [sent.key!] : []);
      if (answer.status === 204 && content(sent.key!) !== bodyText) found.push(`${sent.key} does not hold the body posted`);
      if (!sent.key!.startsWith('alice/')) found.push(`a POST upload to ${sent.key} got through`);
      break;
    case 'PutObject':
      only(answer.status === 200 ? [sent.key!] : []);
      if (answer.status === 200 && content(sent.key!) !== bodyText) found.push(`${sent.key} does not hold the body put`);
      break;
    case 'CopyObject':
      only([sent.key!]);
      if (answer.status === 200 && content(sent.key!) !== content(sent.copySource!.key)) found.push(`${sent.key} is not a copy of ${sent.copySource!.key}`);
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
      for (const [, entry = ''] of xml.matchAll(/<(?:Key|Prefix)>([^<]*)<\/(?:Key|Prefix)>/g)) if (!unescapeXml(entry).startsWith(prefix)) found.push(`listed ${entry} for prefix ${prefix}`);
      if (answer.status === 200 && !/[?&](delimiter|max-keys|start-after|marker|continuation-token)=/.test(sent.target)) {
        const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map(([, key = '']) => unescapeXml(key)).sort();
        const expected = [...before.keys()].filter((key) => key.startsWith(prefix)).sort();
        if (JSON.stringify(keys) !== JSON.stringify(expected)) found.push(`listed ${JSON.stringify(keys)}, stored under ${prefix}: ${JSON.stringify(expected)}`);
      }
      break;
    }
    default:
      // Sub-resources (acl, tagging, uploads): alice's own key only.
      only(sent.key === undefined ? [] : [sent.key]);
  }
  return found;
}

test(`every request the gate lets through acts on exactly what it authorised, and nothing outside alice's folder changes (${RUNS} cases)`, async () => {
  let forwardedCount = 0;
  let unsignedRefused = 0;
  let malformedRefused = 0;
  await fc.assert(
    fc.asyncProperty(REQUEST, async (generated) => {
      if (objects().size > 60) await seedAlice();
      const request = toRawRequest(generated);
      const outsideBefore = outsideAlice();
      const before = objects();
      harness.takeForwarded();
      const answer = generated.operation === 'POST_FORM' ? await sendRaw(harness.port, request) : await harness.sendSigned(alice, request);
      const forwarded = harness.takeForwarded();
      const after = objects();
      const changed = changedKeys(before, after);
      forwardedCount += forwarded.length;
      const found: string[] = [];
      const code = /<Code>([^<]*)<\/Code>/.exec(answer.body.toString('utf8'))?.[1];
      // Malformed input is a 4xx: the only 5xx is S3's own "not implemented".
      if (answer.status >= 500 && !(answer.status === 501 && code === 'NotImplemented')) found.push(`a ${answer.status} ${code ?? ''}`);
      if (generated.unsigned !== undefined && generated.operation !== 'POST_FORM') {
        // Refused before anything is done: 403 for the unsigned headers (or an earlier 4xx for the target itself).
        if (forwarded.length > 0 || answer.status < 400 || answer.status >= 500) found.push('a request with unsigned x-amz-* headers got through');
        if (answer.status === 403 && request.method !== 'HEAD' && code !== 'SignatureDoesNotMatch' && !answer.body.toString('utf8').includes('<HeadersNotSigned>')) found.push('403 without HeadersNotSigned');
        if (code === 'AccessDenied') unsignedRefused += 1;
      } else if (XML_OPERATIONS.has(generated.operation)) {
        const breakage = generated.operation === 'TAGGING' ? generated.tagging.breakage : generated.operation === 'ACL' ? generated.acl.breakage : generated.operation === 'COMPLETE' ? generated.complete.breakage : generated.deleteBreakage;
        if (breakage !== 'none') {
          if (answer.status !== 400 || code !== 'MalformedXML' || forwarded.length > 0) found.push(`a ${breakage} body: ${answer.status} ${code ?? ''}, not 400 MalformedXML`);
        } else if (generated.operation === 'COMPLETE' && (answer.status !== 400 || !['MalformedXML', 'InvalidArgument'].includes(code ?? '') || forwarded.length > 0)) {
          found.push(`a Complete body of the wrong form: ${answer.status} ${code ?? ''}`);
        }
        if (breakage !== 'none') malformedRefused += 1;
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
}, 600_000);

/**
 * The object operations the emulator's process answers itself, before s3rver sees the
 * request, because s3rver gets them wrong or lacks them: GetObject and HeadObject (suffix and
 * malformed ranges, conditional reads, response overrides), PutObject and UploadPart
 * (Content-MD5, tags, conditional writes, atomic commits), CompleteMultipartUpload (S3's
 * checks, never a crash), AbortMultipartUpload, ListParts, and ListObjectsV2's
 * continuation-token check. Requests come from the gate only, already authorised and rebuilt
 * canonically (../request.ts); everything else goes on to s3rver.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { escapeXml } from '../../shared/xml';
import { OWNER_CANONICAL_ID } from '../uploads';
import { startXmlReader, XML_INLINE_MAX_BYTES } from '../xml-thread';
import { storedMetadata, type ObjectRecord, type SafeStore, type WriteCondition } from './store';

/* eslint-disable @typescript-eslint/no-require-imports -- s3rver is CommonJS without types */
const { TaggingConfiguration } = require('@20minutes/s3rver/lib/models/config') as { TaggingConfiguration: { validate(xml: string): { toXML(space?: number): string } } };
const S3Object = require('@20minutes/s3rver/lib/models/object') as new (bucket: string, key: string, content: unknown, metadata: Record<string, unknown>) => { metadata: Record<string, string> };
/* eslint-enable @typescript-eslint/no-require-imports */

/** S3's smallest part, except the last (CompleteMultipartUpload answers EntityTooSmall below it). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
const MAX_TAGS = 10;

/** An S3 error answer. */
export class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const preconditionFailed = (condition: string) => new S3Failure(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
const malformedXml = () => new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
const invalidPart = () =>
  new S3Failure(400, 'InvalidPart', "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
const noSuchKey = (key: string) => new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
const noSuchUpload = (uploadId: string) =>
  new S3Failure(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });

/** What a request names, read from the gate's canonical request-target. */
interface Target {
  readonly bucket: string;
  readonly key?: string;
  readonly query: URLSearchParams;
}

function readTarget(url: string): Target | undefined {
  const parsed = new URL(url, 'http://localhost');
  const path = parsed.pathname.slice(1);
  const slash = path.indexOf('/');
  if (path === '') return undefined;
  const bucket = decodeURIComponent(slash === -1 ? path : path.slice(0, slash));
  const key = slash === -1 ? '' : decodeURIComponent(path.slice(slash + 1));
  return { bucket, ...(key !== '' ? { key } : {}), query: parsed.searchParams };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendFailure(req: IncomingMessage, res: ServerResponse, failure: S3Failure): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    Object.entries({ Code: failure.code, Message: failure.message, ...failure.details })
      .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
      .join('') +
    '</Error>';
  res.writeHead(failure.status, { 'Content-Type': 'application/xml', ...(req.method === 'HEAD' ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendXml(res: ServerResponse, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** Only query parameters from `allowed` (and at least those of `required`). */
function queryIs(query: URLSearchParams, required: readonly string[], allowed: (name: string) => boolean = () => false): boolean {
  const names = [...query.keys()];
  return required.every((name) => query.has(name)) && names.every((name) => required.includes(name) || allowed(name));
}

/**
 * Answers the request if it is one of the operations above; false hands it to s3rver.
 * Never throws for anything a request carries: a refusal is an S3 error answer.
 */
export async function answerOwnOperation(store: SafeStore, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const target = readTarget(req.url ?? '/');
  if (!target) return false;
  const { bucket, key, query } = target;
  const method = req.method ?? 'GET';
  let operation: (() => Promise<void>) | undefined;
  if (key === undefined) {
    if (method === 'GET' && query.get('list-type') === '2' && query.has('continuation-token')) checkContinuationToken(query.get('continuation-token') ?? '', bucket, req, res);
    return res.writableEnded;
  }
  const copy = header(req, 'x-amz-copy-source') !== undefined;
  if ((method === 'GET' || method === 'HEAD') && queryIs(query, [], (name) => name.startsWith('response-'))) operation = () => getObject(store, req, res, bucket, key, query);
  else if (method === 'PUT' && !copy && queryIs(query, [])) operation = () => putObject(store, req, res, bucket, key);
  else if (method === 'PUT' && !copy && queryIs(query, ['uploadId', 'partNumber'])) operation = () => uploadPart(store, req, res, bucket, query.get('uploadId') ?? '', query.get('partNumber') ?? '');
  else if (method === 'POST' && queryIs(query, ['uploadId'])) operation = () => completeUpload(store, req, res, bucket, key, query.get('uploadId') ?? '');
  else if (method === 'DELETE' && queryIs(query, ['uploadId'])) operation = () => abortUpload(store, res, bucket, key, query.get('uploadId') ?? '');
  else if (method === 'GET' && queryIs(query, ['uploadId'], (name) => name === 'max-parts' || name === 'part-number-marker')) operation = () => listParts(store, res, bucket, key, query);
  if (!operation) return false;
  try {
    await operation();
  } catch (error) {
    if (error instanceof S3Failure) sendFailure(req, res, error);
    else if (error instanceof Error && typeof (error as { status?: unknown }).status === 'number' && typeof (error as { code?: unknown }).code === 'string') {
      // s3rver's own S3Error (NoSuchUpload from the store, InvalidStorageClass, ...).
      const s3Error = error as Error & { status: number; code: string };
      sendFailure(req, res, new S3Failure(s3Error.status, s3Error.code, s3Error.message));
    } else throw error;
  }
  return true;
}

/** s3rver decrypts the token with DES and fails with a 500 on one it did not make: S3 answers InvalidArgument. */
function checkContinuationToken(token: string, bucket: string, req: IncomingMessage, res: ServerResponse): void {
  const refuse = () => sendFailure(req, res, new S3Failure(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' }));
  const bytes = Buffer.from(token, 'base64');
  if (bytes.length < 16 || bytes.toString('base64') !== token) return refuse();
  try {
    const decipher = createDecipheriv('des', Buffer.alloc(8, 'S3RVER', 'utf8'), bytes.subarray(0, 8));
    const text = Buffer.concat([decipher.update(bytes.subarray(8)), decipher.final()]).toString('utf8');
    if (!text.startsWith(`us-east-1/${bucket}/`)) refuse();
  } catch {
    refuse();
  }
}

/** Whether an If-Match / If-None-Match list names this ETag (quotes and weak marks ignored, `*` any). */
function etagListMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return list.split(',').some((item) => {
    const candidate = item.trim().replace(/^W\//, '').replace(/"/g, '');
    return candidate === '*' || candidate === bare;
  });
}

/** An HTTP date, to the second, or undefined if it does not parse (then S3 ignores the header). */
function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

/**
 * The byte range a Range header asks for, as S3 reads it: one `bytes=first-last`,
 * `bytes=first-` or suffix `bytes=-count`; anything else is ignored (the whole object);
 * a well-formed range no byte of the object satisfies is InvalidRange (416).
 */
export function byteRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const unsatisfiable = () => new S3Failure(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: value, ActualObjectSize: String(size) });
  if (match[1] === '') {
    const count = Number(match[2]);
    if (count === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - count), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? Number.POSITIVE_INFINITY : Number(match[2]);
  if (end < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}

/** GetObject / HeadObject response overrides: the query parameter and the header it sets. */
const RESPONSE_OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/** Stored metadata as response headers, spelled as S3 spells them. */
function metadataHeaders(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) {
    headers[name.startsWith('x-amz-') ? name : name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase())] = value;
  }
  return headers;
}

async function getObject(store: SafeStore, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  for (const name of query.keys()) {
    if (!(name in RESPONSE_OVERRIDES)) {
      throw new S3Failure(400, 'InvalidArgument', `${name} is not in the set of overridable response headers. Please refer to the S3 API documentation for a complete list of overridable response headers.`, { ArgumentName: name });
    }
    // A header carries no control character (it would end the header), and the gate passes on only visible
    // US-ASCII, space and tab (as it accepts in request headers): anything else is refused, not a cut connection.
    if ([...(query.get(name) ?? '')].some((char) => (char < ' ' && char !== '\t') || char > '\x7e')) {
      throw new S3Failure(400, 'InvalidArgument', `The value of ${name} is not a valid header value.`, { ArgumentName: name });
    }
  }
  const opened = await store.openObject(bucket, key);
  if (!opened) throw noSuchKey(key);
  let streaming = false;
  try {
    const { etag, lastModified, size } = opened;
    const modified = Math.floor(lastModified.getTime() / 1000);
    const ifMatch = header(req, 'if-match');
    const ifNoneMatch = header(req, 'if-none-match');
    const unmodifiedSince = httpDate(header(req, 'if-unmodified-since'));
    const modifiedSince = httpDate(header(req, 'if-modified-since'));
    // RFC 7232's order, which S3 follows: If-Match, else If-Unmodified-Since; If-None-Match, else If-Modified-Since.
    if (ifMatch !== undefined ? !etagListMatches(ifMatch, etag) : unmodifiedSince !== undefined && modified > unmodifiedSince) {
      throw preconditionFailed(ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since');
    }
    if (ifNoneMatch !== undefined ? etagListMatches(ifNoneMatch, etag) : modifiedSince !== undefined && modified <= modifiedSince) {
      res.writeHead(304, { ETag: etag, 'Last-Modified': lastModified.toUTCString() });
      res.end();
      return;
    }
    const range = byteRange(header(req, 'range'), size);
    const headers: Record<string, string> = {
      ...metadataHeaders(opened.metadata),
      ETag: etag,
      'Last-Modified': lastModified.toUTCString(),
      'Accept-Ranges': 'bytes',
      'Content-Length': String(range ? range.end - range.start + 1 : size),
      ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : {}),
    };
    for (const [name, value] of query) headers[RESPONSE_OVERRIDES[name] ?? name] = value;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    // The handle is closed here, once the response is over (sent or cut off), never left to the GC.
    const body = opened.handle.createReadStream({ ...(range ?? {}), autoClose: false });
    streaming = true;
    body.on('error', () => res.destroy());
    res.once('close', () => {
      body.destroy();
      opened.handle.close().catch(() => undefined);
    });
    body.pipe(res);
  } finally {
    if (!streaming) await opened.handle.close();
  }
}

/** Refuses a body whose Content-MD5 is malformed (InvalidDigest) or does not match (BadDigest), as S3 does before storing anything. */
function checkContentMd5(req: IncomingMessage, body: Buffer): void {
  const declared = header(req, 'content-md5');
  if (declared === undefined) return;
  const digest = Buffer.from(declared, 'base64');
  if (digest.length !== 16 || digest.toString('base64') !== declared) throw new S3Failure(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  if (!createHash('md5').update(body).digest().equals(digest)) throw new S3Failure(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
}

/** `x-amz-tagging` (a URL-encoded query string) as s3rver's tagging.xml; S3's limits apply. */
function taggingXml(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const tags = [...new URLSearchParams(value)];
  const invalid = (message: string) => new S3Failure(400, 'InvalidTag', message);
  if (tags.length > MAX_TAGS) throw invalid('Object tags cannot be greater than 10');
  if (new Set(tags.map(([name]) => name)).size !== tags.length) throw invalid('Cannot provide multiple Tags with the same key');
  for (const [name, tagValue] of tags) {
    if (name === '' || [...name].length > 128) throw invalid('The TagKey you have provided is invalid');
    if ([...tagValue].length > 256) throw invalid('The TagValue you have provided is invalid');
  }
  const xml = `<Tagging><TagSet>${tags.map(([name, tagValue]) => `<Tag><Key>${escapeXml(name)}</Key><Value>${escapeXml(tagValue)}</Value></Tag>`).join('')}</TagSet></Tagging>`;
  return TaggingConfiguration.validate(xml).toXML(2);
}

/** The metadata and tags a write's request headers give the new object. */
function recordFromHeaders(bucket: string, key: string, headers: Record<string, unknown>): ObjectRecord {
  const taggingHeader = headers['x-amz-tagging'];
  const tags = taggingXml(typeof taggingHeader === 'string' ? taggingHeader : undefined);
  return { metadata: storedMetadata(new S3Object(bucket, key, null, headers).metadata), ...(tags !== undefined ? { taggingXml: tags } : {}) };
}

/** PUT's If-None-Match (only `*`, as S3) and If-Match, checked against the version current at commit. */
function writeCondition(headers: Record<string, unknown>, key: string): WriteCondition | undefined {
  const ifNoneMatch = typeof headers['if-none-match'] === 'string' ? headers['if-none-match'] : undefined;
  const ifMatch = typeof headers['if-match'] === 'string' ? headers['if-match'] : undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw new S3Failure(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!current) throw noSuchKey(key);
      if (!etagListMatches(ifMatch, current.etag)) throw preconditionFailed('If-Match');
    }
  };
}

async function putObject(store: SafeStore, req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
  const headers = req.headers as Record<string, unknown>;
  const condition = writeCondition(headers, key);
  const record = recordFromHeaders(bucket, key, headers);
  const body = await readAll(req);
  checkContentMd5(req, body);
  const { md5 } = await store.putObjectRecord(bucket, key, body, record, condition);
  res.writeHead(200, { ETag: `"${md5}"`, 'Content-Length': '0' });
  res.end();
}

async function uploadPart(store: SafeStore, req: IncomingMessage, res: ServerResponse, bucket: string, uploadId: string, partNumber: string): Promise<void> {
  const body = await readAll(req);
  checkContentMd5(req, body);
  const { md5 } = await store.putPart(bucket, uploadId, partNumber, body);
  res.writeHead(200, { ETag: `"${md5}"`, 'Content-Length': '0' });
  res.end();
}

// htmlEntities: numeric character references too (Go's encoder, rclone's, writes " as &#34;).
const completeParser = new XMLParser({ parseTagValue: false, ignoreAttributes: true, processEntities: true, htmlEntities: true, isArray: (name) => name === 'Part' });

/** The parts a Complete body lists, in its order; MalformedXML unless each has a whole PartNumber and an ETag. */
export function completeParts(xml: string): { partNumber: number; etag: string }[] {
  if (XMLValidator.validate(xml) !== true) throw malformedXml();
  let document: unknown;
  try {
    document = completeParser.parse(xml);
  } catch {
    throw malformedXml();
  }
  const root = (document as { CompleteMultipartUpload?: { Part?: unknown } } | undefined)?.CompleteMultipartUpload;
  const parts = root?.Part;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PART_NUMBER) throw malformedXml();
  return parts.map((part: unknown) => {
    const { PartNumber: number, ETag: etag } = (part ?? {}) as { PartNumber?: unknown; ETag?: unknown };
    if (typeof number !== 'string' || !/^[1-9][0-9]{0,4}$/.test(number.trim()) || Number(number) > MAX_PART_NUMBER) throw malformedXml();
    if (typeof etag !== 'string' || etag.trim() === '') throw malformedXml();
    return { partNumber: Number(number.trim()), etag: etag.trim().replace(/"/g, '') };
  });
}

// A large Complete body (10,000 parts, about 1.3 MB) takes a second to parse: read on a thread
// (with the gate's reader, which already passed the body) so no other request waits on it.
const completeReader = startXmlReader({ ownerCanonicalId: OWNER_CANONICAL_ID, busy: () => new S3Failure(503, 'SlowDown', 'Please reduce your request rate.') });
async function readCompleteParts(body: Buffer): Promise<{ partNumber: number; etag: string }[]> {
  if (body.length <= XML_INLINE_MAX_BYTES) return completeParts(body.toString('utf8'));
  return (await completeReader.read('CompletedParts', body)).map(({ partNumber, etag }) => ({ partNumber, etag: etag.replace(/"/g, '') }));
}

async function completeUpload(store: SafeStore, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, uploadId: string): Promise<void> {
  const parts = await readCompleteParts(await readAll(req));
  for (let i = 1; i < parts.length; i++) {
    if ((parts[i]?.partNumber ?? 0) <= (parts[i - 1]?.partNumber ?? 0)) {
      throw new S3Failure(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { UploadId: uploadId });
    }
  }
  const result = await store.uploadLocked(bucket, uploadId, async () => {
    const upload = await store.readUpload(bucket, uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    const stored = new Map((await store.listStoredParts(bucket, uploadId)).map((part) => [part.partNumber, part]));
    parts.forEach((part, index) => {
      const found = stored.get(part.partNumber);
      if (!found || found.etag.replace(/"/g, '') !== part.etag) throw invalidPart();
      if (index < parts.length - 1 && found.size < MIN_PART_BYTES) {
        throw new S3Failure(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
          ProposedSize: String(found.size),
          MinSizeAllowed: String(MIN_PART_BYTES),
          PartNumber: String(part.partNumber),
          ETag: found.etag,
        });
      }
    });
    const headers = req.headers as Record<string, unknown>;
    return store.completeUpload(
      bucket,
      uploadId,
      key,
      parts.map((part) => part.partNumber),
      recordFromHeaders(bucket, key, upload.headers),
      writeCondition(headers, key),
    );
  });
  sendXml(
    res,
    '<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Location>http://localhost/${escapeXml(bucket)}/${escapeXml(key)}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${result.md5}"</ETag>` +
      '</CompleteMultipartUploadResult>',
  );
}

async function abortUpload(store: SafeStore, res: ServerResponse, bucket: string, key: string, uploadId: string): Promise<void> {
  await store.uploadLocked(bucket, uploadId, async () => {
    const upload = await store.readUpload(bucket, uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    await store.abortUpload(bucket, uploadId);
  });
  res.writeHead(204);
  res.end();
}

async function listParts(store: SafeStore, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  const uploadId = query.get('uploadId') ?? '';
  const marker = Number(query.get('part-number-marker') ?? 0);
  const maxParts = Math.min(Number(query.get('max-parts') ?? 1000), 1000);
  const all = await store.uploadLocked(bucket, uploadId, async () => {
    const upload = await store.readUpload(bucket, uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    return store.listStoredParts(bucket, uploadId);
  });
  const after = all.filter((part) => part.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const owner = `<ID>${OWNER_CANONICAL_ID}</ID>`;
  sendXml(
    res,
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId>` +
      `<Initiator>${owner}</Initiator><Owner>${owner}</Owner><StorageClass>STANDARD</StorageClass>` +
      `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker>` +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
      page
        .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><LastModified>${part.lastModified.toISOString()}</LastModified><ETag>${escapeXml(part.etag)}</ETag><Size>${part.size}</Size></Part>`)
        .join('') +
      '</ListPartsResult>',
  );
}

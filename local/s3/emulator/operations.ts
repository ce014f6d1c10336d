/**
 * The object operations the emulator's process answers itself, before s3rver sees the
 * request, because s3rver gets them wrong or lacks them: GetObject and HeadObject (suffix and
 * malformed ranges, conditional reads, response overrides), PutObject (Content-MD5, tags,
 * conditional writes, atomic commits; writes.ts), the multipart operations (UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts; multipart.ts), and ListObjectsV2's
 * continuation-token check. Requests come from the gate only, already authorised and rebuilt
 * canonically (../rebuild.ts); everything else goes on to s3rver.
 */
import { createDecipheriv } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Failure, etagListMatches, header, noSuchKey, preconditionFailed, readAll, sendFailure } from './answers';
import { abortUpload, completeUpload, listParts, uploadPart } from './multipart';
import { checkContentMd5, recordFromHeaders, writeCondition } from './writes';
import type { SafeStore } from './store';

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

/** Only query parameters from `allowed` (and at least those of `required`). */
function queryIs(
  query: URLSearchParams,
  required: readonly string[],
  allowed: (name: string) => boolean = () => false,
): boolean {
  const names = [...query.keys()];
  return required.every((name) => query.has(name)) && names.every((name) => required.includes(name) || allowed(name));
}

/**
 * Answers the request if it is one of the operations above; false hands it to s3rver.
 * Never throws for anything a request carries: a refusal is an S3 error answer.
 */
export async function answerOwnOperation(
  store: SafeStore,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const target = readTarget(req.url ?? '/');
  if (!target) return false;
  const { bucket, key, query } = target;
  const method = req.method ?? 'GET';
  let operation: (() => Promise<void>) | undefined;
  if (key === undefined) {
    if (method === 'GET' && query.get('list-type') === '2' && query.has('continuation-token'))
      checkContinuationToken(query.get('continuation-token') ?? '', bucket, req, res);
    return res.writableEnded;
  }
  const copy = header(req, 'x-amz-copy-source') !== undefined;
  if ((method === 'GET' || method === 'HEAD') && queryIs(query, [], (name) => name.startsWith('response-')))
    operation = () => getObject(store, req, res, bucket, key, query);
  else if (method === 'PUT' && !copy && queryIs(query, [])) operation = () => putObject(store, req, res, bucket, key);
  else if (method === 'PUT' && !copy && queryIs(query, ['uploadId', 'partNumber']))
    operation = () => uploadPart(store, req, res, bucket, query.get('uploadId') ?? '', query.get('partNumber') ?? '');
  else if (method === 'POST' && queryIs(query, ['uploadId']))
    operation = () => completeUpload(store, req, res, bucket, key, query.get('uploadId') ?? '');
  else if (method === 'DELETE' && queryIs(query, ['uploadId']))
    operation = () => abortUpload(store, res, bucket, key, query.get('uploadId') ?? '');
  else if (
    method === 'GET' &&
    queryIs(query, ['uploadId'], (name) => name === 'max-parts' || name === 'part-number-marker')
  )
    operation = () => listParts(store, res, bucket, key, query);
  if (!operation) return false;
  try {
    await operation();
  } catch (error) {
    if (error instanceof S3Failure) sendFailure(req, res, error);
    else if (
      error instanceof Error &&
      typeof (error as { status?: unknown }).status === 'number' &&
      typeof (error as { code?: unknown }).code === 'string'
    ) {
      // s3rver's own S3Error (NoSuchUpload from the store, InvalidStorageClass, ...).
      const s3Error = error as Error & { status: number; code: string };
      sendFailure(req, res, new S3Failure(s3Error.status, s3Error.code, s3Error.message));
    } else throw error;
  }
  return true;
}

/** s3rver decrypts the token with DES and fails with a 500 on one it did not make: S3 answers InvalidArgument. */
function checkContinuationToken(token: string, bucket: string, req: IncomingMessage, res: ServerResponse): void {
  const refuse = () =>
    sendFailure(
      req,
      res,
      new S3Failure(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
        ArgumentName: 'continuation-token',
      }),
    );
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
  const unsatisfiable = () =>
    new S3Failure(416, 'InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: value,
      ActualObjectSize: String(size),
    });
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
    headers[
      name.startsWith('x-amz-')
        ? name
        : name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase())
    ] = value;
  }
  return headers;
}

async function getObject(
  store: SafeStore,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  key: string,
  query: URLSearchParams,
): Promise<void> {
  for (const name of query.keys()) {
    if (!(name in RESPONSE_OVERRIDES)) {
      throw new S3Failure(
        400,
        'InvalidArgument',
        `${name} is not in the set of overridable response headers. Please refer to the S3 API documentation for a complete list of overridable response headers.`,
        { ArgumentName: name },
      );
    }
    // A header carries no control character (it would end the header), and the gate passes on only visible
    // US-ASCII, space and tab (as it accepts in request headers): anything else is refused, not a cut connection.
    if ([...(query.get(name) ?? '')].some((char) => (char < ' ' && char !== '\t') || char > '\x7e')) {
      throw new S3Failure(400, 'InvalidArgument', `The value of ${name} is not a valid header value.`, {
        ArgumentName: name,
      });
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
    if (
      ifMatch !== undefined
        ? !etagListMatches(ifMatch, etag)
        : unmodifiedSince !== undefined && modified > unmodifiedSince
    ) {
      throw preconditionFailed(ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since');
    }
    if (
      ifNoneMatch !== undefined
        ? etagListMatches(ifNoneMatch, etag)
        : modifiedSince !== undefined && modified <= modifiedSince
    ) {
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
async function putObject(
  store: SafeStore,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  key: string,
): Promise<void> {
  const headers = req.headers as Record<string, unknown>;
  const condition = writeCondition(headers, key);
  const record = recordFromHeaders(bucket, key, headers);
  const body = await readAll(req);
  checkContentMd5(req, body);
  const { md5 } = await store.putObjectRecord(bucket, key, body, record, condition);
  res.writeHead(200, { ETag: `"${md5}"`, 'Content-Length': '0' });
  res.end();
}

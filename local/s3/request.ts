/**
 * The S3 gate's first stage: its one parse of a request (gate.ts runs the stages).
 *
 * The gate authorises what this module reads (bucket, key, query parameters, headers) and the
 * emulator receives only what rebuild.ts writes from it: the bucket and the key re-encoded
 * canonically, the recognised query parameters once each, an allowlist of headers. Nothing of
 * the raw request-target reaches the emulator, so no difference between how the two would
 * parse it can change what is acted on. Whatever this parse cannot read one way only is
 * refused with S3's own error codes (see docs/sandbox.md).
 */
import { AwsAuthError } from '../shared/sigv4';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/**
 * The emulator stores each key segment as a file name with a suffix of up to 22 characters
 * (`._S3rver_metadata.json`); Linux allows 255 bytes per name.
 */
export const MAX_KEY_SEGMENT_BYTES = 255 - '._S3rver_metadata.json'.length;
/** The emulator's own file-name marker; a key containing it could name its bookkeeping files. */
export const EMULATOR_RESERVED = '._S3rver_';
/**
 * The most query parameters the gate reads. No S3 operation takes more than about a dozen;
 * a longer query is a flood meant to make two parsers disagree, and is refused.
 */
export const MAX_QUERY_PARAMETERS = 32;

/** Presigned-URL authentication parameters: read for the signature, never forwarded. */
export const AUTH_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
]);

/** Parameters the SDKs add for their own bookkeeping; S3 ignores them, so does the gate. */
const IGNORED_QUERY_PARAMETERS: ReadonlySet<string> = new Set(['x-id']);

/** Every query parameter the gate recognises (and forwards); any other is refused. */
const RECOGNISED_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  // ListObjects, ListObjectsV2, ListMultipartUploads, ListParts
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'max-uploads',
  'key-marker',
  'upload-id-marker',
  'max-parts',
  'part-number-marker',
  // Multipart uploads
  'uploads',
  'uploadId',
  'partNumber',
  // GetObject response overrides
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  // Sub-resources (mapped to actions in operations.ts)
  'acl',
  'tagging',
  'delete',
  'location',
  'versioning',
  'versions',
  'versionId',
  'cors',
  'policy',
  'policyStatus',
  'website',
  'lifecycle',
  'encryption',
  'publicAccessBlock',
  'logging',
  'notification',
  'object-lock',
  'ownershipControls',
  'replication',
  'requestPayment',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'intelligent-tiering',
  'restore',
  'select',
  'select-type',
  'attributes',
  'legal-hold',
  'retention',
  'torrent',
  'renameObject',
  'id',
]);

/** Headers forwarded to the emulator when present (besides `x-amz-meta-*`); every other header stays at the gate. */
export const FORWARDED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-md5',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
  'x-amz-tagging',
  'x-amz-tagging-directive',
  'x-amz-metadata-directive',
  'x-amz-copy-source-range',
  'x-amz-copy-source-if-match',
  'x-amz-copy-source-if-none-match',
  'x-amz-copy-source-if-modified-since',
  'x-amz-copy-source-if-unmodified-since',
  'x-amz-server-side-encryption',
]);

/** One request as the gate read it. */
export interface ParsedS3Request {
  readonly method: string;
  readonly bucket?: string;
  readonly key?: string;
  /** Every query pair in order, decoded: what the signature covers. */
  readonly queryPairs: readonly [string, string][];
  /** The recognised parameters, each once (auth and ignored ones left out). */
  readonly query: ReadonlyMap<string, string>;
  /** Header values by lower-case name, one each; `x-amz-*` query parameters of a presigned URL included. */
  readonly headers: ReadonlyMap<string, string>;
}

function invalidUri(): AwsAuthError {
  return new AwsAuthError(400, 'InvalidURI', "Couldn't parse the specified URI.");
}

function invalidArgument(message: string, name?: string): AwsAuthError {
  return new AwsAuthError(400, 'InvalidArgument', message, name !== undefined ? { ArgumentName: name } : {});
}

// RFC 3986 pchar, less `+` and `;` (read differently by different servers: space or plus, path parameter or not).
const RAW_PATH = /^[A-Za-z0-9\-._~!$&'()*,=:@/%]*$/;
// The same for query names and values (`&` and `=` are structure there), plus `/`.
const RAW_QUERY_PART = /^[A-Za-z0-9\-._~!$'()*,:@/%]*$/;

/**
 * Decodes percent-escapes into UTF-8 text, refusing anything that is not exactly one reading:
 * a stray `%`, an escape that is not two hex digits, bytes that are not UTF-8 (overlong forms
 * and encoded surrogates included). Decodes once: `%2525` is the text `%25`.
 */
export function strictDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidUri();
  }
}

/** Refuses a key the gate cannot hand to the emulator so that it means one object only. */
export function assertRepresentableKey(key: string): void {
  // A lone surrogate has no UTF-8 form: no S3 key can hold one.
  if (!key.isWellFormed()) throw invalidArgument('The object key is not valid Unicode.', 'key');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new AwsAuthError(400, 'KeyTooLongError', 'Your key is too long');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key))
    throw invalidArgument('The sandbox refuses object keys with control characters.', 'key');
  if (key.includes('\\') || key.includes('#'))
    throw invalidArgument('The sandbox refuses object keys with a backslash or "#".', 'key');
  // The emulator turns the text `&quot;` in any XML value into `"` (its listing would show another key).
  if (key.includes('&quot;'))
    throw invalidArgument(
      'The sandbox refuses object keys containing the text "&quot;": its storage emulator lists them altered.',
      'key',
    );
  if (key.includes(EMULATOR_RESERVED))
    throw invalidArgument(
      `The sandbox refuses object keys containing "${EMULATOR_RESERVED}", its storage's own marker.`,
      'key',
    );
  const segments = key.split('/');
  // A trailing `/` (a folder marker such as `alice/photos/`) is one object; an empty segment elsewhere is not representable.
  const inner = key.endsWith('/') ? segments.slice(0, -1) : segments;
  for (const segment of inner) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw invalidArgument(
        'The sandbox refuses object keys with empty, "." or ".." path segments: its storage emulator cannot store them literally.',
        'key',
      );
    }
    if (Buffer.byteLength(segment, 'utf8') > MAX_KEY_SEGMENT_BYTES) {
      throw new AwsAuthError(
        400,
        'KeyTooLongError',
        `The sandbox stores each "/"-separated part of a key as a file name: at most ${MAX_KEY_SEGMENT_BYTES} bytes each.`,
      );
    }
  }
}

/** S3's bucket naming rules. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Refuses a bucket name S3 would not create (so never `..`, `/` or an escape). */
export function assertBucketName(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new AwsAuthError(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  }
}

function parsePath(rawPath: string): { bucket?: string; key?: string } {
  // Origin-form only: an absolute-form (`http://host/...`) or asterisk-form target is refused.
  if (!rawPath.startsWith('/') || !RAW_PATH.test(rawPath)) throw invalidUri();
  const path = rawPath.slice(1);
  if (path === '') return {};
  const slash = path.indexOf('/');
  const bucket = strictDecode(slash === -1 ? path : path.slice(0, slash));
  assertBucketName(bucket);
  const key = slash === -1 ? '' : strictDecode(path.slice(slash + 1));
  if (key === '') return { bucket };
  assertRepresentableKey(key);
  return { bucket, key };
}

function parseQueryPairs(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  const parts = rawQuery.split('&');
  if (parts.length > MAX_QUERY_PARAMETERS)
    throw invalidArgument(`The sandbox reads at most ${MAX_QUERY_PARAMETERS} query parameters.`);
  return parts.map((part) => {
    const equals = part.indexOf('=');
    const name = equals === -1 ? part : part.slice(0, equals);
    const value = equals === -1 ? '' : part.slice(equals + 1);
    if (name === '' || !RAW_QUERY_PART.test(name) || !RAW_QUERY_PART.test(value)) throw invalidUri();
    return [strictDecode(name), strictDecode(value)];
  });
}

/** The largest part number S3 accepts; part numbers are whole numbers from 1. */
const MAX_PART_NUMBER = 10_000;
const POSITIVE_INTEGER = /^[1-9][0-9]{0,9}$/;
const WHOLE_NUMBER = /^(0|[1-9][0-9]{0,9})$/;
// Upload ids are opaque to clients; the emulator makes them from hex, and names a folder after each.
const UPLOAD_ID_VALUE = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The syntax of each parameter whose value the emulator uses as a number, a flag or a file
 * name: a value S3 would refuse is refused here too, so the emulator never acts on it (it
 * builds a part's file path from `partNumber`). An `uploadId` of any other shape than the
 * emulator's is answered NoSuchUpload by the gate, as S3 answers an unknown id.
 */
const PARAMETER_VALUES: Readonly<Record<string, (value: string) => boolean>> = {
  partNumber: (value) => POSITIVE_INTEGER.test(value) && Number(value) <= MAX_PART_NUMBER,
  'upload-id-marker': (value) => value === '' || UPLOAD_ID_VALUE.test(value),
  'part-number-marker': (value) => WHOLE_NUMBER.test(value) && Number(value) <= MAX_PART_NUMBER,
  'max-keys': (value) => WHOLE_NUMBER.test(value),
  'max-uploads': (value) => WHOLE_NUMBER.test(value),
  'max-parts': (value) => WHOLE_NUMBER.test(value),
  'list-type': (value) => value === '2',
  'fetch-owner': (value) => value === 'true' || value === 'false',
  'encoding-type': (value) => value === 'url',
};

// A header value Node can send and S3 can read: visible US-ASCII, space and tab (user metadata
// in other scripts travels RFC 2047-encoded, as the SDKs send it).
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Single-valued headers: a header sent twice is refused rather than read one of two ways. */
function readHeaders(headers: Readonly<Record<string, readonly string[] | undefined>>): Map<string, string> {
  const read = new Map<string, string>();
  for (const [name, values] of Object.entries(headers)) {
    if (!values || values.length === 0) continue;
    if (
      values.length > 1 &&
      (name.startsWith('x-amz-') || FORWARDED_HEADERS.has(name) || name.startsWith('content-'))
    ) {
      throw invalidArgument(`The header ${name} was sent more than once.`, name);
    }
    read.set(name, values.join(','));
  }
  return read;
}

/**
 * Parses a request once: method, request-target and headers. Throws {@link AwsAuthError}
 * (InvalidURI, InvalidArgument, InvalidBucketName, KeyTooLongError) for what it refuses.
 */
export function parseS3Request(
  method: string,
  target: string,
  rawHeaders: Readonly<Record<string, readonly string[] | undefined>>,
): ParsedS3Request {
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : target.slice(queryStart + 1);
  const { bucket, key } = parsePath(rawPath);
  const queryPairs = parseQueryPairs(rawQuery);
  const headers = readHeaders(rawHeaders);
  const query = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of queryPairs) {
    if (seen.has(name)) throw invalidArgument(`The query parameter ${name} was given more than once.`, name);
    seen.add(name);
    if (AUTH_QUERY_PARAMETERS.has(name) || IGNORED_QUERY_PARAMETERS.has(name)) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith('x-amz-')) {
      // A presigned URL carries signed headers as query parameters; S3 reads them as headers.
      const header = headers.get(lower);
      if (header !== undefined && header !== value)
        throw invalidArgument(`${name} was given as a header and a query parameter with different values.`, name);
      headers.set(lower, value);
      continue;
    }
    if (!RECOGNISED_QUERY_PARAMETERS.has(name))
      throw invalidArgument(`The sandbox does not recognise the query parameter ${name}.`, name);
    const valid = PARAMETER_VALUES[name];
    if (valid && !valid(value)) throw invalidArgument(`The value of ${name} is not valid.`, name);
    query.set(name, value);
  }
  for (const [name, value] of headers) {
    if ((FORWARDED_HEADERS.has(name) || name.startsWith('x-amz-')) && !HEADER_VALUE.test(value)) {
      throw invalidArgument(`The value of ${name} holds characters a header cannot carry.`, name);
    }
  }
  return {
    method,
    ...(bucket !== undefined ? { bucket } : {}),
    ...(key !== undefined ? { key } : {}),
    queryPairs,
    query,
    headers,
  };
}

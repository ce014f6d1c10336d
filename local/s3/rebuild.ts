/**
 * The S3 gate's rebuild stage: what an authorised request becomes. The emulator receives a
 * request written from the parse (request.ts), never the raw one: the bucket and key
 * percent-encoded canonically, only the recognised query parameters, once each, in a fixed
 * order, an allowlist of headers, and `x-amz-copy-source` rebuilt from the authorised source.
 * Some requests the gate answers itself instead (DeleteObjects key by key, object ACLs,
 * ListMultipartUploads); rebuild says which.
 */
import { uriEncode } from '../shared/sigv4';
import type { Authorised } from './authorise';
import { FORWARDED_HEADERS, type ParsedS3Request } from './request';
import type { PendingUpload } from './uploads';

/** What the gate authorised and sent on, for S3GateOptions.onForward. */
export interface ForwardedRequest {
  /** S3's operation name (`GetObject`, `DeleteObjects`, ...). */
  readonly operation: string;
  readonly bucket?: string;
  readonly key?: string;
  /** The list prefix the policy was evaluated with, for listings. */
  readonly prefix?: string;
  readonly copySource?: { readonly bucket: string; readonly key: string };
  /** DeleteObjects: the keys authorised and deleted. */
  readonly deletedKeys?: readonly string[];
  /** The request-target sent to the emulator (DeleteObjects: one per key). */
  readonly target: string;
}

/** Where an authorised request goes, as the forward stage (forward.ts) carries it out. */
export type Rebuilt =
  /** To the emulator, as rebuilt here. */
  | {
      readonly to: 'emulator';
      readonly method: string;
      readonly target: string;
      readonly headers: Record<string, string>;
      readonly payload: Buffer;
      readonly forwarded: ForwardedRequest;
    }
  /** DeleteObjects: the emulator deletes keys in parallel and fails when two share a folder, so the gate deletes them one by one. */
  | {
      readonly to: 'delete-each';
      readonly bucket: string;
      readonly keys: readonly string[];
      readonly quiet: boolean;
      readonly forwarded: ForwardedRequest;
    }
  /** ListMultipartUploads, which the emulator cannot answer. */
  | {
      readonly to: 'list-uploads';
      readonly uploads: (bucket: string) => Promise<PendingUpload[]>;
      readonly bucket: string;
      readonly prefix: string;
      readonly keyMarker: string;
      readonly uploadIdMarker: string;
      readonly maxUploads: number;
    }
  /** Object ACLs, as a bucket with Object Ownership "bucket owner enforced" answers them. */
  | {
      readonly to: 'acl';
      readonly answer: 'acl-unchanged' | 'owner-acl';
      readonly bucket: string;
      readonly key: string;
    };

/**
 * What the authorised request becomes. `payload` is its verified body (empty for
 * DeleteObjects, whose body was its plan); `uploads` lists a bucket's unfinished uploads, if
 * the gate can (S3GateOptions.multipartUploads).
 */
export function rebuild(
  parsed: ParsedS3Request,
  { operation, deletePlan }: Authorised,
  payload: Buffer,
  uploads?: (bucket: string) => Promise<PendingUpload[]>,
): Rebuilt {
  if (deletePlan) {
    const forwarded = {
      operation: operation.name,
      bucket: operation.bucket,
      deletedKeys: deletePlan.keys,
      target: rebuiltTarget(parsed),
    };
    return {
      to: 'delete-each',
      bucket: operation.bucket ?? '',
      keys: deletePlan.keys,
      quiet: deletePlan.quiet,
      forwarded,
    };
  }
  if (operation.name === 'GET ?uploads' && uploads) {
    return {
      to: 'list-uploads',
      uploads,
      bucket: parsed.bucket ?? '',
      prefix: parsed.query.get('prefix') ?? '',
      keyMarker: parsed.query.get('key-marker') ?? '',
      uploadIdMarker: parsed.query.get('upload-id-marker') ?? '',
      maxUploads: Math.min(Number(parsed.query.get('max-uploads') ?? 1000), 1000),
    };
  }
  if (operation.answeredByGate !== undefined)
    return { to: 'acl', answer: operation.answeredByGate, bucket: parsed.bucket ?? '', key: parsed.key ?? '' };
  const sendsBody = payload.length > 0 || parsed.method === 'PUT' || parsed.method === 'POST';
  const target = rebuiltTarget(parsed);
  const forwarded: ForwardedRequest = {
    operation: operation.name,
    ...(parsed.bucket !== undefined ? { bucket: parsed.bucket } : {}),
    ...(parsed.key !== undefined ? { key: parsed.key } : {}),
    ...(parsed.query.has('prefix') && parsed.key === undefined ? { prefix: parsed.query.get('prefix') } : {}),
    ...(operation.copySource ? { copySource: operation.copySource } : {}),
    target,
  };
  return {
    to: 'emulator',
    method: parsed.method,
    target,
    headers: forwardedHeaders(parsed, operation.copySource, sendsBody ? payload.length : undefined),
    payload,
    forwarded,
  };
}

/** `/bucket/key` with every key segment encoded once, the SigV4 way (`/` kept as the separator). */
export function canonicalObjectPath(bucket: string, key?: string): string {
  const keyPart = key === undefined ? '' : `/${key.split('/').map(uriEncode).join('/')}`;
  return `/${uriEncode(bucket)}${keyPart}`;
}

/** The request-target the emulator receives: the canonical path and the recognised parameters, once each, in a fixed order. */
export function rebuiltTarget(request: Pick<ParsedS3Request, 'bucket' | 'key' | 'query'>): string {
  const path = request.bucket === undefined ? '/' : canonicalObjectPath(request.bucket, request.key);
  const query = [...request.query]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? uriEncode(name) : `${uriEncode(name)}=${uriEncode(value)}`))
    .join('&');
  return query === '' ? path : `${path}?${query}`;
}

/** Characters `decodeURI` (the emulator's reading of x-amz-copy-source) leaves encoded: they must travel raw. */
const DECODE_URI_RESERVED = new Set([';', '/', '?', ':', '@', '&', '=', '+', '$', ',', '#']);

/** `x-amz-copy-source` as the emulator reads it (with decodeURI): exactly the authorised bucket and key. */
export function copySourceHeader(bucket: string, key: string): string {
  let encoded = '';
  for (const character of key) {
    if (/[A-Za-z0-9\-_.~!*'()]/.test(character) || DECODE_URI_RESERVED.has(character)) encoded += character;
    else
      encoded += [...Buffer.from(character, 'utf8')]
        .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
        .join('');
  }
  return `/${bucket}/${encoded}`;
}

/** The headers the emulator receives: the allowlist, with the copy source rebuilt from what was authorised. */
export function forwardedHeaders(
  request: Pick<ParsedS3Request, 'headers'>,
  copySource: { readonly bucket: string; readonly key: string } | undefined,
  contentLength: number | undefined,
): Record<string, string> {
  const out: Record<string, string> = { host: 'localhost' };
  for (const [name, value] of request.headers) {
    if (FORWARDED_HEADERS.has(name) || name.startsWith('x-amz-meta-')) out[name] = value;
  }
  const encoding = request.headers.get('content-encoding');
  if (encoding !== undefined) {
    const rest = encoding
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '' && part !== 'aws-chunked');
    if (rest.length > 0) out['content-encoding'] = rest.join(', ');
  }
  if (copySource) out['x-amz-copy-source'] = copySourceHeader(copySource.bucket, copySource.key);
  if (contentLength !== undefined) out['content-length'] = String(contentLength);
  return out;
}

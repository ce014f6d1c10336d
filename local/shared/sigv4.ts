/**
 * AWS Signature Version 4, verified from the receiving side: the local STS and the S3 gate
 * recompute the canonical request from what arrived on the wire and compare signatures in
 * constant time. Written against AWS's published algorithm with node:crypto only.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The only algorithm accepted. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** SHA-256 of the empty string, used for empty payloads and chunk signatures. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** AWS refuses header-signed requests whose x-amz-date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Presigned URLs may live at most seven days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** A refusal with the status and error code an AWS service would answer. */
export class AwsAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements S3 puts in its error XML (e.g. CanonicalRequest for SignatureDoesNotMatch). */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'AwsAuthError';
  }
}

/** The parts of an incoming request that its signature covers, as they arrived. */
export interface WireRequest {
  readonly method: string;
  /** The path exactly as sent, still percent-encoded. */
  readonly rawPath: string;
  /** The query string exactly as sent, without `?`. */
  readonly rawQuery: string;
  /** Header values by lower-case name, repeated headers kept apart. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
}

/** What the signature claims: who signed, when, for which scope, over which headers. */
export interface SignatureClaim {
  /** `header`: an Authorization header; `query`: a presigned URL. */
  readonly kind: 'header' | 'query';
  readonly accessKeyId: string;
  /** `YYYYMMDD` from the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** Presigned URLs only: lifetime in seconds. */
  readonly expiresSeconds?: number;
  /** x-amz-security-token (header or query), when sent. */
  readonly securityToken?: string;
  /** x-amz-content-sha256 (header or query), when sent. */
  readonly contentSha256?: string;
}

/** Builds a {@link WireRequest} from a Node request without decoding anything. */
export function wireRequest(req: IncomingMessage): WireRequest {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values) headers[name] = values;
  }
  return {
    method: req.method ?? 'GET',
    rawPath: queryStart === -1 ? url : url.slice(0, queryStart),
    rawQuery: queryStart === -1 ? '' : url.slice(queryStart + 1),
    headers,
  };
}

/** One header's value (repeated values joined by a comma), or undefined. */
export function headerValue(request: WireRequest, name: string): string | undefined {
  const values = request.headers[name];
  return values && values.length > 0 ? values.join(',') : undefined;
}

/** Decodes a query string into ordered [name, value] pairs; throws on malformed escapes. */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  return rawQuery.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    const value = equals === -1 ? '' : pair.slice(equals + 1);
    return [decodeURIComponent(name), decodeURIComponent(value)];
  });
}

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` escaped. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical URI: each path segment decoded once and re-encoded the SigV4 way. */
function canonicalUri(rawPath: string, normalise: boolean): string {
  if (!normalise) return rawPath === '' ? '/' : rawPath;
  return rawPath
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
}

function canonicalQuery(query: readonly [string, string][], omitSignature: boolean): string {
  return query
    .filter(([name]) => !(omitSignature && name === 'X-Amz-Signature'))
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function canonicalHeaderValue(values: readonly string[] | undefined): string {
  return (values ?? []).map((value) => value.trim().replace(/\s+/g, ' ')).join(',');
}

/**
 * The canonical request of SigV4. `normalisePath`: S3 signs the path as sent (single
 * encoding); other services sign it normalised and encoded twice, which for the paths the
 * sandbox serves (`/`) is the same thing.
 */
export function canonicalRequest(
  request: WireRequest,
  query: readonly [string, string][],
  claim: SignatureClaim,
  payloadHash: string,
): string {
  const headers = claim.signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`)
    .join('');
  return [
    request.method,
    canonicalUri(request.rawPath, true),
    canonicalQuery(query, claim.kind === 'query'),
    headers,
    claim.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** SHA-256 in lower-case hex. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The SigV4 signing key for one secret, day, region and service. */
export function signingKey(secretAccessKey: string, scopeDate: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, scopeDate), region), service), 'aws4_request');
}

/** The credential scope string `YYYYMMDD/region/service/aws4_request`. */
export function credentialScope(claim: SignatureClaim): string {
  return `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`;
}

/** HMAC-SHA256 of a string to sign, hex. */
export function signString(key: Buffer, stringToSign: string): string {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies a claim's signature with the signer's secret. Throws SignatureDoesNotMatch (with
 * the canonical request and string to sign, as S3 reports them) when it is wrong.
 * Returns the signing key, which streaming uploads need to check chunk signatures.
 */
export function verifySignature(
  request: WireRequest,
  query: readonly [string, string][],
  claim: SignatureClaim,
  payloadHash: string,
  secretAccessKey: string,
): Buffer {
  let canonical: string;
  try {
    canonical = canonicalRequest(request, query, claim, payloadHash);
  } catch {
    // A path segment with a broken percent escape cannot be canonicalised; AWS refuses it too.
    throw new AwsAuthError(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  const stringToSign = [SIGV4_ALGORITHM, claim.amzDate, credentialScope(claim), sha256Hex(canonical)].join('\n');
  const key = signingKey(secretAccessKey, claim.scopeDate, claim.region, claim.service);
  if (!signaturesEqual(signString(key, stringToSign), claim.signature)) {
    throw new AwsAuthError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: claim.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: claim.signature,
        CanonicalRequest: canonical,
      },
    );
  }
  return key;
}

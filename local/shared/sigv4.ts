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

const CREDENTIAL = /^([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const SIGNED_HEADERS = /^[a-z0-9-]+(;[a-z0-9-]+)*$/;

/** Epoch ms of an `YYYYMMDDTHHMMSSZ` timestamp, or NaN. */
export function parseAmzDate(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** `YYYYMMDDTHHMMSSZ` of an instant. */
export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function malformed(kind: SignatureClaim['kind'], message: string): AwsAuthError {
  return kind === 'header'
    ? new AwsAuthError(400, 'AuthorizationHeaderMalformed', message)
    : new AwsAuthError(400, 'AuthorizationQueryParametersError', message);
}

function parseCredential(kind: SignatureClaim['kind'], credential: string | undefined) {
  const m = credential === undefined ? null : CREDENTIAL.exec(credential);
  if (!m) throw malformed(kind, `The credential "${credential ?? ''}" is malformed; expecting "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request".`);
  return { accessKeyId: m[1] as string, scopeDate: m[2] as string, region: m[3] as string, service: m[4] as string };
}

/**
 * Reads the signature claim of a request: from the Authorization header or from presigned
 * query parameters. Returns undefined for a request that carries no signature at all.
 * Throws {@link AwsAuthError} for a signature in a form AWS would not accept.
 */
export function readSignatureClaim(request: WireRequest, query: readonly [string, string][]): SignatureClaim | undefined {
  const authorization = headerValue(request, 'authorization');
  const queryParam = (name: string) => query.find(([key]) => key === name)?.[1];
  const algorithmParam = queryParam('X-Amz-Algorithm');
  if (authorization !== undefined && algorithmParam !== undefined) {
    throw new AwsAuthError(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.');
  }
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${SIGV4_ALGORITHM} `)) {
      throw new AwsAuthError(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
    }
    const fields = new Map<string, string>();
    for (const part of authorization.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
      const equals = part.indexOf('=');
      if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
    }
    const scope = parseCredential('header', fields.get('Credential'));
    const signedHeaders = fields.get('SignedHeaders') ?? '';
    const signature = fields.get('Signature') ?? '';
    if (!SIGNED_HEADERS.test(signedHeaders) || !SIGNATURE.test(signature)) {
      throw malformed('header', 'The authorization header is malformed; SignedHeaders and Signature are required.');
    }
    const amzDate = headerValue(request, 'x-amz-date');
    if (amzDate === undefined || Number.isNaN(parseAmzDate(amzDate))) {
      throw new AwsAuthError(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    }
    const securityToken = headerValue(request, 'x-amz-security-token');
    const contentSha256 = headerValue(request, 'x-amz-content-sha256');
    return {
      kind: 'header',
      ...scope,
      amzDate,
      signedHeaders: signedHeaders.split(';'),
      signature,
      ...(securityToken !== undefined ? { securityToken } : {}),
      ...(contentSha256 !== undefined ? { contentSha256 } : {}),
    };
  }
  if (algorithmParam !== undefined) {
    if (algorithmParam !== SIGV4_ALGORITHM) {
      throw malformed('query', `X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}".`);
    }
    const scope = parseCredential('query', queryParam('X-Amz-Credential'));
    const amzDate = queryParam('X-Amz-Date') ?? '';
    const expires = queryParam('X-Amz-Expires') ?? '';
    const signedHeaders = queryParam('X-Amz-SignedHeaders') ?? '';
    const signature = queryParam('X-Amz-Signature') ?? '';
    if (Number.isNaN(parseAmzDate(amzDate))) throw malformed('query', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'".');
    if (!/^\d{1,6}$/.test(expires) || Number(expires) < 1 || Number(expires) > MAX_PRESIGN_SECONDS) {
      throw malformed('query', `X-Amz-Expires must be from 1 to ${MAX_PRESIGN_SECONDS} seconds.`);
    }
    if (!SIGNED_HEADERS.test(signedHeaders) || !SIGNATURE.test(signature)) {
      throw malformed('query', 'X-Amz-SignedHeaders and X-Amz-Signature are required.');
    }
    const securityToken = queryParam('X-Amz-Security-Token');
    const contentSha256 = queryParam('X-Amz-Content-Sha256') ?? headerValue(request, 'x-amz-content-sha256');
    return {
      kind: 'query',
      ...scope,
      amzDate,
      signedHeaders: signedHeaders.split(';'),
      signature,
      expiresSeconds: Number(expires),
      ...(securityToken !== undefined ? { securityToken } : {}),
      ...(contentSha256 !== undefined ? { contentSha256 } : {}),
    };
  }
  if (queryParam('Signature') !== undefined || queryParam('AWSAccessKeyId') !== undefined) {
    throw new AwsAuthError(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  return undefined;
}

/**
 * Checks the claim's scope and time against what this service expects: region, service,
 * the scope date matching the request date, clock skew (header) or expiry (presigned).
 */
export function checkClaimScopeAndTime(claim: SignatureClaim, expected: { region: string; service: string }, now: number): void {
  if (claim.region !== expected.region) {
    throw malformed(claim.kind, `The authorization header is malformed; the region '${claim.region}' is wrong; expecting '${expected.region}'`);
  }
  if (claim.service !== expected.service) {
    throw malformed(claim.kind, `The authorization header is malformed; incorrect service "${claim.service}". This endpoint belongs to "${expected.service}".`);
  }
  if (claim.amzDate.slice(0, 8) !== claim.scopeDate) {
    throw malformed(claim.kind, `The authorization header is malformed; Invalid credential date "${claim.scopeDate}". This date is not the same as X-Amz-Date: "${claim.amzDate.slice(0, 8)}".`);
  }
  const signedAt = parseAmzDate(claim.amzDate);
  if (claim.kind === 'header') {
    if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
      throw new AwsAuthError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: claim.amzDate,
        ServerTime: new Date(now).toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
      });
    }
  } else {
    if (signedAt - now > MAX_CLOCK_SKEW_MS) throw new AwsAuthError(403, 'AccessDenied', 'Request is not valid yet');
    if (now > signedAt + (claim.expiresSeconds ?? 0) * 1000) {
      throw new AwsAuthError(403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': String(claim.expiresSeconds ?? 0),
        Expires: new Date(signedAt + (claim.expiresSeconds ?? 0) * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
    }
  }
  if (!claim.signedHeaders.includes('host')) {
    throw malformed(claim.kind, 'The host header must be signed.');
  }
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
  const headers = claim.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join('');
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
      { AWSAccessKeyId: claim.accessKeyId, StringToSign: stringToSign, SignatureProvided: claim.signature, CanonicalRequest: canonical },
    );
  }
  return key;
}

/**
 * S3 only: the `x-amz-*` headers present on the request but not covered by its signature
 * (SignedHeaders, or X-Amz-SignedHeaders of a presigned URL). S3 refuses such a request, since
 * an unsigned `x-amz-copy-source`, `x-amz-tagging` or `x-amz-acl` would change what a signed
 * request does. `x-amz-content-sha256` is the exception S3 makes: its value is in the
 * canonical request as the payload hash, so it is signed either way.
 */
export function unsignedAmzHeaders(request: WireRequest, claim: SignatureClaim): string[] {
  const signed = new Set(claim.signedHeaders);
  return Object.keys(request.headers).filter((name) => name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signed.has(name));
}

/** S3's refusal of a request with unsigned `x-amz-*` headers (see {@link unsignedAmzHeaders}). */
export function headersNotSigned(names: readonly string[]): AwsAuthError {
  return new AwsAuthError(403, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: names.join(', ') });
}

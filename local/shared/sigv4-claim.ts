/**
 * What a SigV4 signature claims, read from a request as it arrived (the Authorization header,
 * or a presigned URL's query parameters), and the checks made on the claim before the
 * signature is recomputed (sigv4.ts): scope, date, clock skew or expiry, and for S3 that every
 * x-amz-* header is signed.
 */
import {
  AwsAuthError,
  MAX_CLOCK_SKEW_MS,
  MAX_PRESIGN_SECONDS,
  SIGV4_ALGORITHM,
  headerValue,
  type SignatureClaim,
  type WireRequest,
} from './sigv4';

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
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function malformed(kind: SignatureClaim['kind'], message: string): AwsAuthError {
  return kind === 'header'
    ? new AwsAuthError(400, 'AuthorizationHeaderMalformed', message)
    : new AwsAuthError(400, 'AuthorizationQueryParametersError', message);
}

function parseCredential(kind: SignatureClaim['kind'], credential: string | undefined) {
  const m = credential === undefined ? null : CREDENTIAL.exec(credential);
  if (!m)
    throw malformed(
      kind,
      `The credential "${credential ?? ''}" is malformed; expecting "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request".`,
    );
  return { accessKeyId: m[1] as string, scopeDate: m[2] as string, region: m[3] as string, service: m[4] as string };
}

/**
 * Reads the signature claim of a request: from the Authorization header or from presigned
 * query parameters. Returns undefined for a request that carries no signature at all.
 * Throws {@link AwsAuthError} for a signature in a form AWS would not accept.
 */
export function readSignatureClaim(
  request: WireRequest,
  query: readonly [string, string][],
): SignatureClaim | undefined {
  const authorization = headerValue(request, 'authorization');
  const queryParam = (name: string) => query.find(([key]) => key === name)?.[1];
  const algorithmParam = queryParam('X-Amz-Algorithm');
  if (authorization !== undefined && algorithmParam !== undefined) {
    throw new AwsAuthError(
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
    );
  }
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${SIGV4_ALGORITHM} `)) {
      throw new AwsAuthError(
        400,
        'InvalidRequest',
        'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      );
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
    if (Number.isNaN(parseAmzDate(amzDate)))
      throw malformed('query', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
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
    throw new AwsAuthError(
      400,
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }
  return undefined;
}

/**
 * Checks the claim's scope and time against what this service expects: region, service,
 * the scope date matching the request date, clock skew (header) or expiry (presigned).
 */
export function checkClaimScopeAndTime(
  claim: SignatureClaim,
  expected: { region: string; service: string },
  now: number,
): void {
  if (claim.region !== expected.region) {
    throw malformed(
      claim.kind,
      `The authorization header is malformed; the region '${claim.region}' is wrong; expecting '${expected.region}'`,
    );
  }
  if (claim.service !== expected.service) {
    throw malformed(
      claim.kind,
      `The authorization header is malformed; incorrect service "${claim.service}". This endpoint belongs to "${expected.service}".`,
    );
  }
  if (claim.amzDate.slice(0, 8) !== claim.scopeDate) {
    throw malformed(
      claim.kind,
      `The authorization header is malformed; Invalid credential date "${claim.scopeDate}". This date is not the same as X-Amz-Date: "${claim.amzDate.slice(0, 8)}".`,
    );
  }
  const signedAt = parseAmzDate(claim.amzDate);
  if (claim.kind === 'header') {
    if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
      throw new AwsAuthError(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        {
          RequestTime: claim.amzDate,
          ServerTime: new Date(now).toISOString(),
          MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
        },
      );
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

/**
 * S3 only: the `x-amz-*` headers present on the request but not covered by its signature
 * (SignedHeaders, or X-Amz-SignedHeaders of a presigned URL). S3 refuses such a request, since
 * an unsigned `x-amz-copy-source`, `x-amz-tagging` or `x-amz-acl` would change what a signed
 * request does. `x-amz-content-sha256` is the exception S3 makes: its value is in the
 * canonical request as the payload hash, so it is signed either way.
 */
export function unsignedAmzHeaders(request: WireRequest, claim: SignatureClaim): string[] {
  const signed = new Set(claim.signedHeaders);
  return Object.keys(request.headers).filter(
    (name) => name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signed.has(name),
  );
}

/** S3's refusal of a request with unsigned `x-amz-*` headers (see {@link unsignedAmzHeaders}). */
export function headersNotSigned(names: readonly string[]): AwsAuthError {
  return new AwsAuthError(403, 'AccessDenied', 'There were headers present in the request which were not signed', {
    HeadersNotSigned: names.join(', '),
  });
}

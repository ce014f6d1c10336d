/**
 * The S3 gate's authentication stage: who signed the request, and does the signature hold,
 * as S3 checks before anything else: SigV4 in the header or a presigned URL, the session
 * token and its expiry, every x-amz-* header signed. Also the body's side of the signature
 * (the declared payload hash, aws-chunked chunk signatures, checksums), checked once the body
 * is read.
 */
import type { IncomingMessage } from 'node:http';
import type { LongTermKey } from '../secrets';
import { SANDBOX_REGION } from '../names';
import {
  AwsAuthError,
  credentialScope,
  headerValue,
  sha256Hex,
  signaturesEqual,
  verifySignature,
  wireRequest,
  type SignatureClaim,
  type WireRequest,
} from '../shared/sigv4';
import {
  checkClaimScopeAndTime,
  headersNotSigned,
  readSignatureClaim,
  unsignedAmzHeaders,
} from '../shared/sigv4-claim';
import type { SessionStore, StsSession } from '../sts/session-store';
import { STREAMING_PAYLOADS, decodeAwsChunked, verifyChecksums } from './aws-chunked';
import type { ParsedS3Request } from './request';

/**
 * Who signed a request the gate accepted: a session the local STS issued, the operator, or the
 * functions' key (their execution roles, allowed only what GateCredentials.functionsMay grants).
 */
export type Principal =
  | { readonly kind: 'session'; readonly session: StsSession }
  | { readonly kind: 'operator' }
  | { readonly kind: 'functions' };

/** The keys the gate knows. */
export interface GateCredentials {
  /** The sessions the local STS issued. */
  readonly sessions: SessionStore;
  /** The operator's key (tvm-admin --local): the bucket owner. */
  readonly operatorKey?: LongTermKey;
  /** The functions' key, accepted only where {@link GateCredentials.functionsMay} grants. */
  readonly functionKey?: LongTermKey;
}

/** A request whose signature holds. */
export interface Authenticated {
  readonly wire: WireRequest;
  readonly claim: SignatureClaim;
  readonly principal: Principal;
  /** The payload hash the canonical request used (a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-* mode). */
  readonly payloadHash: string;
  readonly signingKey: Buffer;
}

/**
 * The signer of an access key and session token, and the secret its signature must be made
 * with: the operator's long-term key, or a live session of the local STS.
 */
export function signerOf(
  accessKeyId: string,
  securityToken: string | undefined,
  credentials: GateCredentials,
  now: number,
): { principal: Principal; secretAccessKey: string } {
  const operator = credentials.operatorKey;
  if (operator && accessKeyId === operator.accessKeyId && securityToken === undefined) {
    return { principal: { kind: 'operator' }, secretAccessKey: operator.secretAccessKey };
  }
  const functions = credentials.functionKey;
  if (functions && accessKeyId === functions.accessKeyId && securityToken === undefined) {
    return { principal: { kind: 'functions' }, secretAccessKey: functions.secretAccessKey };
  }
  const session = credentials.sessions.get(accessKeyId);
  if (!session || securityToken === undefined) {
    throw new AwsAuthError(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: accessKeyId },
    );
  }
  if (!signaturesEqual(session.sessionToken, securityToken)) {
    throw new AwsAuthError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
  }
  if (now >= session.expiresAt) throw new AwsAuthError(400, 'ExpiredToken', 'The provided token has expired.');
  return { principal: { kind: 'session', session }, secretAccessKey: session.secretAccessKey };
}

/** Finds the signer and checks the signature, token and expiry, and that every x-amz-* header is signed. */
export function authenticate(
  req: IncomingMessage,
  parsed: ParsedS3Request,
  credentials: GateCredentials,
  now: number,
): Authenticated {
  const wire = wireRequest(req);
  const claim = readSignatureClaim(wire, parsed.queryPairs);
  // Anonymous requests meet a private bucket: S3 answers AccessDenied.
  if (!claim) throw new AwsAuthError(403, 'AccessDenied', 'Access Denied');
  checkClaimScopeAndTime(claim, { region: SANDBOX_REGION, service: 's3' }, now);
  const payloadHash = declaredPayloadHash(claim);
  const { principal, secretAccessKey } = signerOf(claim.accessKeyId, claim.securityToken, credentials, now);
  const signingKey = verifySignature(wire, parsed.queryPairs, claim, payloadHash, secretAccessKey);
  // As S3: every x-amz-* header must be signed, or it could change what the request does.
  const unsigned = unsignedAmzHeaders(wire, claim);
  if (unsigned.length > 0) throw headersNotSigned(unsigned);
  return { wire, claim, principal, payloadHash, signingKey };
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Checks the declared payload hash and returns the hash the canonical request uses. */
function declaredPayloadHash(claim: SignatureClaim): string {
  if (claim.kind === 'query') return claim.contentSha256 ?? 'UNSIGNED-PAYLOAD';
  const declared = claim.contentSha256;
  if (declared === undefined)
    throw new AwsAuthError(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (declared !== 'UNSIGNED-PAYLOAD' && !HEX_SHA256.test(declared) && !STREAMING_PAYLOADS.has(declared)) {
    throw new AwsAuthError(
      400,
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), or a valid sha256 value.',
    );
  }
  return declared;
}

/** Turns the raw body into the object bytes, checking what its declared hash promises. */
export function verifiedPayload(
  { wire, claim, payloadHash, signingKey }: Authenticated,
  body: Buffer,
  /** Whether x-amz-checksum-* headers describe this body (PutObject, UploadPart, DeleteObjects) rather than a whole object (CompleteMultipartUpload). */
  headerChecksumsDescribeBody: boolean,
): Buffer {
  let payload = body;
  const checksums = new Map<string, string>();
  for (const [name, values] of Object.entries(wire.headers)) {
    if (!headerChecksumsDescribeBody) break;
    if (
      name.startsWith('x-amz-checksum-') &&
      name !== 'x-amz-checksum-type' &&
      name !== 'x-amz-checksum-algorithm' &&
      values[0] !== undefined
    ) {
      checksums.set(name, values[0]);
    }
  }
  if (HEX_SHA256.test(payloadHash)) {
    if (!signaturesEqual(sha256Hex(body), payloadHash)) {
      throw new AwsAuthError(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
  } else if (STREAMING_PAYLOADS.has(payloadHash)) {
    const signed = payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256');
    const decoded = decodeAwsChunked(
      body,
      signed
        ? { key: signingKey, amzDate: claim.amzDate, scope: credentialScope(claim), seedSignature: claim.signature }
        : undefined,
      payloadHash.endsWith('-TRAILER'),
    );
    const declaredLength = headerValue(wire, 'x-amz-decoded-content-length');
    if (declaredLength !== undefined && Number(declaredLength) !== decoded.payload.length) {
      throw new AwsAuthError(
        400,
        'IncompleteBody',
        'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header',
      );
    }
    for (const [name, value] of decoded.trailers) if (name.startsWith('x-amz-checksum-')) checksums.set(name, value);
    payload = decoded.payload;
  }
  verifyChecksums(payload, checksums);
  return payload;
}

/**
 * Authentication of the sandbox's internal AWS stand-ins (DynamoDB, IAM): a request must be
 * SigV4-signed with one of the long-term keys the service trusts (the functions', the
 * operator's; see secrets.ts). Each service turns a refusal into its own error shape.
 */
import type { IncomingMessage } from 'node:http';
import type { LongTermKey } from '../secrets';
import { SANDBOX_REGION } from '../names';
import {
  AwsAuthError,
  parseQuery,
  sha256Hex,
  uriEncode,
  verifySignature,
  wireRequest,
  type WireRequest,
} from './sigv4';
import { checkClaimScopeAndTime, readSignatureClaim } from './sigv4-claim';

/** Why a request was refused. */
export type ServiceAuthReason =
  /** No signature at all. */
  | 'missing'
  /** A signature AWS would not parse, or out of its time window. */
  | 'malformed'
  /** Temporary (STS) credentials: a user's vended ones, which the session policy denies here. */
  | 'temporary-key'
  /** A key the service does not know. */
  | 'unknown-key'
  /** A known key, a wrong signature. */
  | 'signature';

/** A refused request, with the reason the service maps to its own error. */
export class ServiceAuthError extends Error {
  constructor(
    readonly reason: ServiceAuthReason,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceAuthError';
  }
}

/**
 * Every service but S3 signs the path URI-encoded twice (SigV4); the canonical request of
 * sigv4.ts encodes it as S3 does, once. Encoding the path once more first gives the twice-encoded
 * form: the same for `/` (DynamoDB, IAM), different for a Lambda path naming a function by ARN.
 */
function pathEncodedOnceMore(wire: WireRequest): WireRequest {
  return { ...wire, rawPath: wire.rawPath.split('/').map(uriEncode).join('/') };
}

/**
 * Verifies a request's SigV4 signature (header or presigned) against the service's trusted
 * keys, over the body as received. Returns the key that signed it.
 */
export function authenticateLongTermKey(
  req: IncomingMessage,
  body: Buffer,
  service: string,
  keys: readonly LongTermKey[],
  now: number,
): LongTermKey {
  const wire = wireRequest(req);
  let claim;
  let query: [string, string][];
  try {
    query = parseQuery(wire.rawQuery);
    claim = readSignatureClaim(wire, query);
    if (claim) checkClaimScopeAndTime(claim, { region: SANDBOX_REGION, service }, now);
  } catch (error) {
    if (error instanceof AwsAuthError || error instanceof URIError)
      throw new ServiceAuthError('malformed', error.message);
    throw error;
  }
  if (!claim) throw new ServiceAuthError('missing', 'Request is missing Authentication Token');
  const key = keys.find((candidate) => candidate.accessKeyId === claim.accessKeyId);
  if (!key) {
    if (claim.securityToken !== undefined || claim.accessKeyId.startsWith('ASIA')) {
      throw new ServiceAuthError(
        'temporary-key',
        `The credentials ${claim.accessKeyId} are not authorized to perform any ${service} action.`,
      );
    }
    throw new ServiceAuthError('unknown-key', 'The security token included in the request is invalid.');
  }
  if (claim.securityToken !== undefined)
    throw new ServiceAuthError('unknown-key', 'The security token included in the request is invalid.');
  const payloadHash = claim.kind === 'query' ? 'UNSIGNED-PAYLOAD' : sha256Hex(body);
  if (claim.contentSha256 !== undefined && claim.kind === 'header' && claim.contentSha256 !== payloadHash) {
    throw new ServiceAuthError(
      'signature',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }
  try {
    verifySignature(pathEncodedOnceMore(wire), query, claim, payloadHash, key.secretAccessKey);
  } catch (error) {
    if (error instanceof AwsAuthError) {
      throw new ServiceAuthError(
        'signature',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
    throw error;
  }
  return key;
}

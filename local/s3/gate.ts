/**
 * The S3 gate: the only way to the S3 emulator (which serves a Unix socket in a private
 * folder and checks nothing). For every request it does what S3 does before it touches data:
 * parse the request once (request.ts), verify the SigV4 signature (header or presigned URL,
 * including aws-chunked uploads), the session token and its expiry; work out the IAM action,
 * resource and condition keys of the operation; and evaluate the vending role's policy
 * together with the session's own policy in a real IAM policy engine
 * (@cloud-copilot/iam-simulate). Refusals get S3's own XML errors. An allowed request is not
 * passed on: the gate sends the emulator a request rebuilt from what it authorised.
 *
 * The operator's long-term key (tvm-admin --local) acts as the bucket owner: any operation on
 * the sandbox's bucket, through the same parse and rebuild.
 *
 * Nothing is cached between requests: every request looks its session up again and is
 * evaluated from scratch.
 */
import { accessDeniedReason } from '../iam/server';
import { listMultipartUploadsXml, OWNER_CANONICAL_ID, type PendingUpload } from './uploads';
import { ByteBudget, readBody, watchBodyRate, type BudgetLease } from '../shared/http-body';
import { MAX_XML_BODY_BYTES, xmlTooLarge } from './xml-bodies';
import { startXmlReader, type XmlReader } from './xml-thread';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LongTermKey } from '../secrets';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../policies';
import { STREAMING_PAYLOADS, decodeAwsChunked, verifyChecksums } from './aws-chunked';
import { SANDBOX_ACCOUNT_ID, SANDBOX_BUCKET, SANDBOX_REGION } from '../names';
import { assertRepresentableKey, canonicalObjectPath, forwardedHeaders, parseS3Request, rebuiltTarget, type ParsedS3Request } from './request';
import { parsePostForm, readPostClaim, verifyPostPolicy } from './post-upload';
import { aclNotSupported, describeS3Operation, planDeleteObjects, type AuthorisationCheck, type S3Operation } from './operations';
import type { SessionStore, StsSession } from '../sts/session-store';
import {
  AwsAuthError,
  checkClaimScopeAndTime,
  credentialScope,
  headerValue,
  parseAmzDate,
  readSignatureClaim,
  sha256Hex,
  signaturesEqual,
  headersNotSigned,
  unsignedAmzHeaders,
  verifySignature,
  wireRequest,
  type SignatureClaim,
  type WireRequest,
} from '../shared/sigv4';
import { listenOnLoopback } from '../shared/listen';
import { escapeXml, xmlElements } from '../shared/xml';

/** The largest single request body the gate buffers (S3 allows 5 GiB; use multipart above this). */
export const MAX_GATE_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The most request-body bytes the gate holds at once across all requests: past it a request is
 * refused with 503 SlowDown, as S3 refuses a client it must slow down, and the SDKs retry.
 */
export const MAX_GATE_BUFFERED_BYTES = 160 * 1024 * 1024;
/** A body must bring at least {@link MIN_BODY_BYTES_PER_WINDOW} bytes per window, else RequestTimeout. */
export const BODY_WINDOW_MS = 5000;
export const MIN_BODY_BYTES_PER_WINDOW = 8 * 1024;

/** Response headers a browser app may read (S3's usual CORS ExposeHeaders). */
const EXPOSED_HEADERS = [
  'ETag',
  'Content-Length',
  'Content-Type',
  'Content-Range',
  'Last-Modified',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amz-version-id',
  'x-amz-delete-marker',
  'x-amz-checksum-crc32',
].join(', ');

/** Options of {@link startS3Gate}. */
export interface S3GateOptions {
  /** The sessions the local STS issued. */
  readonly sessions: SessionStore;
  /** The vending role's own policy (its identity policy). */
  readonly vendingRolePolicy: PolicyDocument;
  /**
   * The role's other inline policies as they are now (the operator's credential cut-off),
   * read on every request so a change applies at once, as IAM applies it within seconds.
   */
  readonly inlineRolePolicies?: () => readonly { readonly name: string; readonly policy: PolicyDocument }[];
  /** The emulator's Unix socket. */
  readonly upstreamSocket: string;
  /** The operator's key (tvm-admin --local): the bucket owner, allowed any operation on the sandbox's bucket. */
  readonly operatorKey?: LongTermKey;
  /** The gate's own port; 0 = any free port. */
  readonly port?: number;
  /** Print one line per refused request. */
  readonly log?: boolean;
  /** The clock, injectable for tests. */
  readonly now?: () => number;
  /**
   * The key a multipart upload was started for, as the emulator recorded it; undefined if
   * there is no such upload. s3rver itself ignores the key in UploadPart and
   * CompleteMultipartUpload URLs and trusts the upload id alone, so the gate must check that
   * the upload belongs to the key it authorised. Without it, every upload-id request is refused.
   */
  readonly multipartUploadKey?: (bucket: string, uploadId: string) => Promise<string | undefined>;
  /**
   * The unfinished multipart uploads of a bucket, for ListMultipartUploads, which the gate
   * answers itself (the emulator cannot). Without it, that listing is NotImplemented.
   */
  readonly multipartUploads?: (bucket: string) => Promise<PendingUpload[]>;
  /**
   * Told of every request the gate sends the emulator, with what it authorised: the
   * differential test compares it with what the emulator then did.
   */
  readonly onForward?: (forwarded: ForwardedRequest) => void;
  /** Overrides {@link MAX_GATE_BUFFERED_BYTES} (tests). */
  readonly maxBufferedBytes?: number;
  /** Overrides {@link BODY_WINDOW_MS} and {@link MIN_BODY_BYTES_PER_WINDOW} (tests). */
  readonly bodyRate?: { readonly windowMs: number; readonly minBytesPerWindow: number };
}

/** What the gate authorised and sent on, for {@link S3GateOptions.onForward}. */
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

/** s3rver's upload ids: 16 random bytes in hex. Anything else never reaches a file path. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** The gate server and its base URL. */
export interface S3Gate {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

function corsHeaders(req: IncomingMessage): Record<string, string> {
  if (req.headers.origin === undefined) return {};
  // The sandbox serves any origin: requests are authorised by their signatures, never by cookies.
  return { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED_HEADERS, Vary: 'Origin' };
}

function sendError(req: IncomingMessage, res: ServerResponse, requestId: string, error: AwsAuthError, resource: string): void {
  const hostId = randomBytes(24).toString('base64');
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    xmlElements({ Code: error.code, Message: error.message, ...error.details }) +
    (resource ? `<Resource>${escapeXml(resource)}</Resource>` : '') +
    xmlElements({ RequestId: requestId, HostId: hostId }) +
    '</Error>';
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(error.status, {
    'Content-Type': 'application/xml',
    'x-amz-request-id': requestId,
    'x-amz-id-2': hostId,
    ...corsHeaders(req),
    ...(req.method === 'HEAD' ? {} : { 'Content-Length': Buffer.byteLength(body) }),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function slowDown(): AwsAuthError {
  return new AwsAuthError(503, 'SlowDown', 'Please reduce your request rate.');
}

function requestTimeout(): AwsAuthError {
  return new AwsAuthError(400, 'RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.');
}

function entityTooLarge(): AwsAuthError {
  return new AwsAuthError(400, 'EntityTooLarge', `Your proposed upload exceeds the sandbox's single-request limit of ${MAX_GATE_BODY_BYTES} bytes; use a multipart upload.`);
}

/** Request-wide condition keys: who is asking, how and when. */
function requestContext(session: StsSession, claim: SignatureClaim, req: IncomingMessage, now: number): Record<string, string> {
  const context: Record<string, string> = {
    'aws:CurrentTime': new Date(now).toISOString(),
    'aws:EpochTime': String(Math.floor(now / 1000)),
    // The sandbox speaks plain HTTP on loopback.
    'aws:SecureTransport': 'false',
    'aws:PrincipalArn': session.roleArn,
    'aws:PrincipalAccount': SANDBOX_ACCOUNT_ID,
    'aws:PrincipalType': 'AssumedRole',
    'aws:userid': session.assumedRoleId,
    'aws:TokenIssueTime': new Date(session.issuedAt).toISOString(),
    'aws:MultiFactorAuthPresent': 'false',
    'aws:ViaAWSService': 'false',
    'aws:RequestedRegion': SANDBOX_REGION,
    'aws:SourceIp': req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    's3:authType': claim.kind === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:signatureAge': String(Math.max(0, now - parseAmzDate(claim.amzDate))),
  };
  if (claim.contentSha256 !== undefined) context['s3:x-amz-content-sha256'] = claim.contentSha256;
  const userAgent = req.headers['user-agent'];
  if (userAgent !== undefined) context['aws:UserAgent'] = userAgent;
  if (session.sourceIdentity !== undefined) context['aws:SourceIdentity'] = session.sourceIdentity;
  for (const [key, value] of Object.entries(session.tags)) context[`aws:PrincipalTag/${key}`] = value;
  return context;
}

/**
 * Evaluates one check: undefined when allowed, else the AccessDenied reason as AWS words it
 * (local/iam/server.ts). Anything but Allowed (including an engine error) refuses.
 */
async function denial(
  check: AuthorisationCheck,
  session: StsSession,
  identityPolicies: readonly { readonly name: string; readonly policy: PolicyDocument }[],
  context: Record<string, string>,
): Promise<string | undefined> {
  const result = await runSimulation(
    {
      request: {
        principal: session.assumedRoleArn,
        action: check.action,
        resource: { resource: check.resource, accountId: SANDBOX_ACCOUNT_ID },
        contextVariables: { ...context, ...check.context },
      },
      identityPolicies: identityPolicies.map(({ name, policy }) => ({ name, policy })),
      sessionPolicy: session.sessionPolicy === undefined ? undefined : JSON.parse(session.sessionPolicy),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    console.error(`[sandbox s3 gate] policy engine refused to evaluate ${check.action} on ${check.displayResource}: ${result.errors.message}`);
    return accessDeniedReason(check.action, {});
  }
  if (result.overallResult === 'Allowed') return undefined;
  const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
  return accessDeniedReason(check.action, { identity: analysis?.identityAnalysis?.result, session: analysis?.sessionAnalysis?.result });
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Checks the declared payload hash and returns the hash the canonical request uses. */
function declaredPayloadHash(claim: SignatureClaim): string {
  if (claim.kind === 'query') return claim.contentSha256 ?? 'UNSIGNED-PAYLOAD';
  const declared = claim.contentSha256;
  if (declared === undefined) throw new AwsAuthError(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (declared !== 'UNSIGNED-PAYLOAD' && !HEX_SHA256.test(declared) && !STREAMING_PAYLOADS.has(declared)) {
    throw new AwsAuthError(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), or a valid sha256 value.');
  }
  return declared;
}

/** Turns the raw body into the object bytes, checking what its declared hash promises. */
function verifiedPayload(
  wire: WireRequest,
  claim: SignatureClaim,
  payloadHash: string,
  body: Buffer,
  signingKey: Buffer,
  /** Whether x-amz-checksum-* headers describe this body (PutObject, UploadPart, DeleteObjects) rather than a whole object (CompleteMultipartUpload). */
  headerChecksumsDescribeBody: boolean,
): Buffer {
  let payload = body;
  const checksums = new Map<string, string>();
  for (const [name, values] of Object.entries(wire.headers)) {
    if (!headerChecksumsDescribeBody) break;
    if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm' && values[0] !== undefined) {
      checksums.set(name, values[0]);
    }
  }
  if (HEX_SHA256.test(payloadHash)) {
    if (!signaturesEqual(sha256Hex(body), payloadHash)) {
      throw new AwsAuthError(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  } else if (STREAMING_PAYLOADS.has(payloadHash)) {
    const signed = payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256');
    const decoded = decodeAwsChunked(
      body,
      signed ? { key: signingKey, amzDate: claim.amzDate, scope: credentialScope(claim), seedSignature: claim.signature } : undefined,
      payloadHash.endsWith('-TRAILER'),
    );
    const declaredLength = headerValue(wire, 'x-amz-decoded-content-length');
    if (declaredLength !== undefined && Number(declaredLength) !== decoded.payload.length) {
      throw new AwsAuthError(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header');
    }
    for (const [name, value] of decoded.trailers) if (name.startsWith('x-amz-checksum-')) checksums.set(name, value);
    payload = decoded.payload;
  }
  verifyChecksums(payload, checksums);
  return payload;
}

/** Where and how the gate reaches the emulator. */
interface Upstream {
  readonly socketPath: string;
  readonly agent: Agent;
}

/**
 * While the emulator's process is being started again (emulator/supervisor.ts supervises it), its
 * socket refuses connections or is absent: nothing was delivered, so any request may be sent
 * again. The gate waits up to this long for it before answering 503.
 */
const UPSTREAM_RESTART_WAIT_MS = 10_000;

/**
 * Whether an upstream error means the request never reached a live emulator: its socket is
 * absent or refuses connections (it is being restarted), or a kept-alive connection was
 * found closed on reuse (it was idle, or its process died). Not for POST on a reused
 * connection: creating a multipart upload twice would leave a stray upload.
 */
function notDelivered(error: NodeJS.ErrnoException, outgoing: ClientRequest, method: string | undefined): boolean {
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') return true;
  return outgoing.reusedSocket && method !== 'POST' && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
}

/** Sends the emulator the request rebuilt from what was authorised and streams the answer back. */
function forward(req: IncomingMessage, res: ServerResponse, target: string, headers: Record<string, string>, payload: Buffer, upstream: Upstream, requestId: string): void {
  const started = Date.now();
  const send = () => {
    const outgoing = httpRequest({ socketPath: upstream.socketPath, method: req.method, path: target, headers, agent: upstream.agent }, (answer) => {
      const responseHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && name !== 'connection' && name !== 'keep-alive' && !name.startsWith('access-control-')) responseHeaders[name] = value;
      }
      responseHeaders['x-amz-request-id'] = requestId;
      res.writeHead(answer.statusCode ?? 502, { ...responseHeaders, ...corsHeaders(req) });
      answer.pipe(res);
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (!res.headersSent && notDelivered(error, outgoing, req.method) && Date.now() - started < UPSTREAM_RESTART_WAIT_MS) {
        setTimeout(send, outgoing.reusedSocket ? 0 : 100);
        return;
      }
      sendError(req, res, requestId, new AwsAuthError(503, 'ServiceUnavailable', 'The S3 emulator behind the gate did not answer.'), '');
    });
    outgoing.end(payload);
  };
  send();
}

/** One bodiless request (DELETE, HEAD) for an object to the emulator; resolves with its status. */
function objectRequest(method: 'DELETE' | 'HEAD', bucket: string, key: string, upstream: Upstream, started = Date.now()): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { socketPath: upstream.socketPath, method, path: canonicalObjectPath(bucket, key), headers: { host: 'localhost' }, agent: upstream.agent },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 502));
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (notDelivered(error, outgoing, method) && Date.now() - started < UPSTREAM_RESTART_WAIT_MS) {
        setTimeout(() => objectRequest(method, bucket, key, upstream, started).then(resolve, reject), outgoing.reusedSocket ? 0 : 100);
        return;
      }
      reject(error);
    });
    outgoing.end();
  });
}

/**
 * DeleteObjects, once every key is authorised: the emulator's own DeleteObjects deletes keys in
 * parallel and fails when two share a folder, so the gate deletes them one by one and
 * answers S3's DeleteResult itself.
 */
async function deleteObjectsOneByOne(
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  keys: readonly string[],
  quiet: boolean,
  upstream: Upstream,
  requestId: string,
): Promise<void> {
  let entries = '';
  for (const key of keys) {
    const status = await objectRequest('DELETE', bucket, key, upstream);
    if (status === 204 || status === 200 || status === 404) {
      if (!quiet) entries += `<Deleted><Key>${escapeXml(key)}</Key></Deleted>`;
    } else {
      entries += `<Error><Key>${escapeXml(key)}</Key><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`;
    }
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${entries}</DeleteResult>`;
  res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), 'x-amz-request-id': requestId, ...corsHeaders(req) });
  res.end(body);
}

/**
 * ACL requests on an object, answered as a bucket with Object Ownership "bucket owner
 * enforced" answers them: reading shows full control for the bucket owner; writing an
 * owner-only ACL (checked in operations.ts) changes nothing. Both need the object to exist.
 */
async function answerAcl(req: IncomingMessage, res: ServerResponse, answer: 'acl-unchanged' | 'owner-acl', bucket: string, key: string, upstream: Upstream, requestId: string): Promise<void> {
  const status = await objectRequest('HEAD', bucket, key, upstream).catch(() => 503);
  if (status === 404) throw new AwsAuthError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
  if (status !== 200) throw new AwsAuthError(503, 'ServiceUnavailable', 'The S3 emulator behind the gate did not answer.');
  const owner = `<Owner><ID>${OWNER_CANONICAL_ID}</ID></Owner>`;
  const body =
    answer === 'acl-unchanged'
      ? ''
      : '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `${owner}<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER_CANONICAL_ID}</ID></Grantee>` +
        '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>';
  res.writeHead(200, {
    'x-amz-request-id': requestId,
    'Content-Length': String(Buffer.byteLength(body)),
    ...(body ? { 'Content-Type': 'application/xml' } : {}),
    ...corsHeaders(req),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Who signed a request the gate accepted: a session the local STS issued, or the operator. */
type Principal = { readonly kind: 'session'; readonly session: StsSession } | { readonly kind: 'operator' };

/** Finds the signer and checks the signature, token and expiry, as S3 does before anything else. */
function authenticate(wire: WireRequest, parsed: ParsedS3Request, claim: SignatureClaim, options: S3GateOptions, now: number): { principal: Principal; payloadHash: string; signingKey: Buffer } {
  checkClaimScopeAndTime(claim, { region: SANDBOX_REGION, service: 's3' }, now);
  const payloadHash = declaredPayloadHash(claim);
  const operator = options.operatorKey;
  if (operator && claim.accessKeyId === operator.accessKeyId && claim.securityToken === undefined) {
    return { principal: { kind: 'operator' }, payloadHash, signingKey: verifySignature(wire, parsed.queryPairs, claim, payloadHash, operator.secretAccessKey) };
  }
  const session = options.sessions.get(claim.accessKeyId);
  if (!session || claim.securityToken === undefined) {
    throw new AwsAuthError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: claim.accessKeyId });
  }
  if (!signaturesEqual(session.sessionToken, claim.securityToken)) {
    throw new AwsAuthError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
  }
  if (now >= session.expiresAt) throw new AwsAuthError(400, 'ExpiredToken', 'The provided token has expired.');
  return { principal: { kind: 'session', session }, payloadHash, signingKey: verifySignature(wire, parsed.queryPairs, claim, payloadHash, session.secretAccessKey) };
}

/** The bucket owner may do anything to the sandbox's bucket and its objects, nothing elsewhere. */
function ownerMayDo(check: AuthorisationCheck): boolean {
  const bucket = `arn:aws:s3:::${SANDBOX_BUCKET}`;
  return check.resource === '*' || check.resource === bucket || check.resource.startsWith(`${bucket}/`);
}

const GATE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);

/** Operations whose body is object data; every other body the gate reads is XML. */
const DATA_OPERATIONS = new Set(['PutObject', 'UploadPart']);

/** What bounds request bodies: the shared budget and the rate a body must keep up. */
interface BodyLimits {
  readonly budget: ByteBudget;
  readonly rate: { readonly windowMs: number; readonly minBytesPerWindow: number };
}

/** Handles one request end to end. */
async function handle(req: IncomingMessage, res: ServerResponse, options: S3GateOptions, upstream: Upstream, limits: BodyLimits, xml: XmlReader): Promise<void> {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const now = (options.now ?? Date.now)();
  let resource = '';
  const lease: BudgetLease = limits.budget.lease();
  const bodySignal = watchBodyRate(req, res, { ...limits.rate, timedOut: requestTimeout });
  const read = (limit: number, tooLarge: () => AwsAuthError) => readBody(req, limit, tooLarge, { signal: bodySignal, lease, overBudget: slowDown });
  try {
    if (req.method === 'OPTIONS') {
      const origin = req.headers.origin;
      const method = req.headers['access-control-request-method'];
      if (origin === undefined) throw new AwsAuthError(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
      if (method === undefined) throw new AwsAuthError(400, 'BadRequest', 'Invalid Access-Control-Request-Method: null');
      res.writeHead(200, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE, HEAD',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
        'Access-Control-Expose-Headers': EXPOSED_HEADERS,
        'Access-Control-Max-Age': '3000',
        Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
        'Content-Length': '0',
      });
      res.end();
      return;
    }
    if (!GATE_METHODS.has(req.method ?? '')) throw new AwsAuthError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    // The one parse: everything below (signature, authorisation, forwarding) works from it.
    const parsed = parseS3Request(req.method ?? 'GET', req.url ?? '/', req.headersDistinct);
    // A browser POST upload (a form with a POST policy) is signed in its body, not its headers.
    if (parsed.method === 'POST' && parsed.bucket !== undefined && parsed.key === undefined && parsed.queryPairs.length === 0 && /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')) {
      resource = `/${parsed.bucket}`;
      await postUpload(req, res, parsed.bucket, options, upstream, requestId, now, read);
      return;
    }
    const wire = wireRequest(req);
    const claim = readSignatureClaim(wire, parsed.queryPairs);
    // Anonymous requests meet a private bucket: S3 answers AccessDenied.
    if (!claim) throw new AwsAuthError(403, 'AccessDenied', 'Access Denied');
    const { principal, payloadHash, signingKey } = authenticate(wire, parsed, claim, options, now);
    // As S3: every x-amz-* header must be signed, or it could change what the request does.
    const unsigned = unsignedAmzHeaders(wire, claim);
    if (unsigned.length > 0) throw headersNotSigned(unsigned);

    const header = (name: string) => parsed.headers.get(name);
    const operation: S3Operation = describeS3Operation({ method: parsed.method, ...(parsed.bucket !== undefined ? { bucket: parsed.bucket } : {}), ...(parsed.key !== undefined ? { key: parsed.key } : {}), query: parsed.query, header });
    resource = operation.key !== undefined ? `/${operation.bucket}/${operation.key}` : operation.bucket !== undefined ? `/${operation.bucket}` : '/';

    const authorise = async (checks: readonly AuthorisationCheck[]) => {
      for (const check of checks) {
        const reason =
          principal.kind === 'operator'
            ? ownerMayDo(check) ? undefined : accessDeniedReason(check.action, {})
            : await denial(check, principal.session, identityPolicies(options), requestContext(principal.session, claim, req, now));
        if (reason === undefined) continue;
        const who = principal.kind === 'operator' ? `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:root` : principal.session.assumedRoleArn;
        if (options.log) console.log(`[sandbox s3 gate] AccessDenied ${who} ${check.action} ${check.displayResource}`);
        throw new AwsAuthError(403, 'AccessDenied', `User: ${who} is not authorized to perform: ${check.action} on resource: "${check.displayResource}" ${reason}`);
      }
    };

    if (operation.needsDeleteKeysFromBody) {
      const body = await read(2 * MAX_XML_BODY_BYTES, xmlTooLarge);
      const plan = planDeleteObjects(operation.bucket ?? '', await xml.read('DeleteObjects', verifiedPayload(wire, claim, payloadHash, body, signingKey, true)));
      await authorise(plan.checks);
      options.onForward?.({ operation: operation.name, bucket: operation.bucket, deletedKeys: plan.keys, target: rebuiltTarget(parsed) });
      await deleteObjectsOneByOne(req, res, operation.bucket ?? '', plan.keys, plan.quiet, upstream, requestId);
      return;
    }
    // S3 authorises before it reads the body: a refused upload costs nothing.
    await authorise(operation.checks);
    // Only after authorisation, as S3 does: the upload must belong to the key just authorised.
    const uploadId = parsed.query.get('uploadId');
    if (uploadId !== undefined && operation.key !== undefined) {
      const recordedKey = UPLOAD_ID.test(uploadId) && options.multipartUploadKey ? await options.multipartUploadKey(operation.bucket ?? '', uploadId) : undefined;
      if (recordedKey !== operation.key) {
        throw new AwsAuthError(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
          UploadId: uploadId,
        });
      }
    }
    const isData = DATA_OPERATIONS.has(operation.name);
    // XML bodies are small: reading one stops well before the data limit (aws-chunked framing allowed for).
    const body = await read(isData ? MAX_GATE_BODY_BYTES : 2 * MAX_XML_BODY_BYTES, isData ? entityTooLarge : xmlTooLarge);
    const payload = verifiedPayload(wire, claim, payloadHash, body, signingKey, isData);
    if (!isData && (parsed.method === 'PUT' || parsed.method === 'POST')) await checkRequestXml(xml, operation.name, payload, header('x-amz-acl') !== undefined);
    if (operation.name === 'GET ?uploads' && options.multipartUploads) {
      const xml = listMultipartUploadsXml(await options.multipartUploads(parsed.bucket ?? ''), {
        bucket: parsed.bucket ?? '',
        prefix: parsed.query.get('prefix') ?? '',
        keyMarker: parsed.query.get('key-marker') ?? '',
        uploadIdMarker: parsed.query.get('upload-id-marker') ?? '',
        maxUploads: Math.min(Number(parsed.query.get('max-uploads') ?? 1000), 1000),
      }, OWNER_CANONICAL_ID);
      res.writeHead(200, { 'x-amz-request-id': requestId, 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)), ...corsHeaders(req) });
      res.end(xml);
      return;
    }
    if (operation.answeredByGate !== undefined) {
      await answerAcl(req, res, operation.answeredByGate, parsed.bucket ?? '', parsed.key ?? '', upstream, requestId);
      return;
    }
    const sendsBody = payload.length > 0 || parsed.method === 'PUT' || parsed.method === 'POST';
    const target = rebuiltTarget(parsed);
    options.onForward?.({
      operation: operation.name,
      ...(parsed.bucket !== undefined ? { bucket: parsed.bucket } : {}),
      ...(parsed.key !== undefined ? { key: parsed.key } : {}),
      ...(parsed.query.has('prefix') && parsed.key === undefined ? { prefix: parsed.query.get('prefix') } : {}),
      ...(operation.copySource ? { copySource: operation.copySource } : {}),
      target,
    });
    forward(req, res, target, forwardedHeaders(parsed, operation.copySource, sendsBody ? payload.length : undefined), payload, upstream, requestId);
  } catch (error) {
    if (error instanceof AwsAuthError) {
      // A small refused body still arriving is read to its end and dropped (only as long as it
      // keeps its rate), so the client reads the answer instead of a reset. A large one is not
      // read at all: the answer goes out and the connection is closed, as S3 closes it.
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      if (!req.complete && !bodySignal.aborted && declared <= MAX_DRAINED_BODY_BYTES) await drained(req, bodySignal);
      if (!req.complete) {
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.socket.destroySoon());
      }
      sendError(req, res, requestId, error, resource);
    } else {
      console.error('[sandbox s3 gate] unexpected error', error);
      sendError(req, res, requestId, new AwsAuthError(500, 'InternalError', 'We encountered an internal error. Please try again.'), resource);
    }
  } finally {
    // The payload was handed to the upstream request (which copies it to the socket) or dropped.
    lease.release();
  }
}

/** The largest refused body the gate reads to its end (to answer cleanly) rather than close the connection on. */
const MAX_DRAINED_BODY_BYTES = 1024 * 1024;

/** Resolves once a request's body has been read and dropped, or cut off, or has timed out. */
function drained(req: IncomingMessage, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    req.once('end', done);
    req.once('close', done);
    signal.addEventListener('abort', done, { once: true });
    req.resume();
  });
}

/**
 * Reads the XML body of a non-data operation with a real parser under S3's limits, and checks
 * it against the operation's schema: malformed or oversized input is S3's 4xx here, never
 * something the emulator has to survive.
 */
async function checkRequestXml(xml: XmlReader, operation: string, payload: Buffer, cannedAcl: boolean): Promise<void> {
  switch (operation) {
    case 'PutObjectAcl':
      if (!cannedAcl && !(await xml.read('PutObjectAcl', payload))) throw aclNotSupported();
      return;
    case 'PutObjectTagging':
    case 'CompleteMultipartUpload':
      await xml.read(operation, payload);
      return;
    default:
      if (payload.length > 0) await xml.read('other', payload);
  }
}

/**
 * A browser POST upload: the form read with busboy, its policy's signature and conditions
 * checked (post-upload.ts), then the PutObject it amounts to authorised with IAM like any
 * other and stored through the emulator; answered as S3 answers (204 by default, or the
 * form's success_action_status).
 */
async function postUpload(
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  options: S3GateOptions,
  upstream: Upstream,
  requestId: string,
  now: number,
  read: (limit: number, tooLarge: () => AwsAuthError) => Promise<Buffer>,
): Promise<void> {
  // The file, plus room for the form's fields and multipart framing.
  const body = await read(MAX_GATE_BODY_BYTES + 64 * 1024, entityTooLarge);
  const form = await parsePostForm(body, req.headers['content-type'] ?? '', MAX_GATE_BODY_BYTES);
  const claimed = readPostClaim(form, SANDBOX_REGION);
  const operator = options.operatorKey;
  let secret: string;
  let session: StsSession | undefined;
  if (operator && claimed.accessKeyId === operator.accessKeyId && claimed.securityToken === undefined) {
    secret = operator.secretAccessKey;
  } else {
    session = options.sessions.get(claimed.accessKeyId);
    if (!session || claimed.securityToken === undefined) {
      throw new AwsAuthError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: claimed.accessKeyId });
    }
    if (!signaturesEqual(session.sessionToken, claimed.securityToken)) throw new AwsAuthError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    if (now >= session.expiresAt) throw new AwsAuthError(400, 'ExpiredToken', 'The provided token has expired.');
    secret = session.secretAccessKey;
  }
  const upload = verifyPostPolicy(form, bucket, secret, SANDBOX_REGION, now);
  if (upload.key === '') throw new AwsAuthError(400, 'InvalidArgument', 'User key must have a length greater than 0.');
  assertRepresentableKey(upload.key);
  // The PutObject the form amounts to, with its headers: the same checks as a signed PUT.
  const operation = describeS3Operation({ method: 'PUT', bucket, key: upload.key, query: new Map(), header: (name) => upload.headers.get(name) });
  for (const check of operation.checks) {
    const reason = session === undefined ? (ownerMayDo(check) ? undefined : accessDeniedReason(check.action, {})) : await denial(check, session, identityPolicies(options), postContext(session, upload.accessKeyId, upload.amzDate, req, now));
    if (reason === undefined) continue;
    const who = session === undefined ? `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:root` : session.assumedRoleArn;
    if (options.log) console.log(`[sandbox s3 gate] AccessDenied ${who} ${check.action} ${check.displayResource} (POST upload)`);
    throw new AwsAuthError(403, 'AccessDenied', `User: ${who} is not authorized to perform: ${check.action} on resource: "${check.displayResource}" ${reason}`);
  }
  const target = canonicalObjectPath(bucket, upload.key);
  options.onForward?.({ operation: 'PostObject', bucket, key: upload.key, target });
  const payload = form.file.data;
  const headers = forwardedHeaders({ headers: upload.headers }, undefined, payload.length);
  await new Promise<void>((resolve) => {
    const outgoing = httpRequest({ socketPath: upstream.socketPath, method: 'PUT', path: target, headers, agent: upstream.agent }, (answer) => {
      if (answer.statusCode !== 200) {
        // The emulator's own refusal, passed on as the forward stage passes it on.
        res.writeHead(answer.statusCode ?? 502, { 'Content-Type': 'application/xml', 'x-amz-request-id': requestId, ...corsHeaders(req) });
        answer.pipe(res);
        answer.on('end', resolve);
        return;
      }
      answer.resume();
      const etag = String(answer.headers.etag ?? '');
      const location = `/${bucket}/${upload.key.split('/').map(encodeURIComponent).join('/')}`;
      const xml =
        upload.successStatus === 201
          ? `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>${xmlElements({ Location: location, Bucket: bucket, Key: upload.key, ETag: etag })}</PostResponse>`
          : '';
      res.writeHead(upload.successStatus, {
        'x-amz-request-id': requestId,
        ETag: etag,
        Location: location,
        'Content-Length': String(Buffer.byteLength(xml)),
        ...(xml ? { 'Content-Type': 'application/xml' } : {}),
        ...corsHeaders(req),
      });
      res.end(xml);
      resolve();
    });
    outgoing.on('error', () => {
      sendError(req, res, requestId, new AwsAuthError(503, 'ServiceUnavailable', 'The S3 emulator behind the gate did not answer.'), `/${bucket}/${upload.key}`);
      resolve();
    });
    outgoing.end(payload);
  });
}

/** The request context of a POST upload: as for a signed request, authorised as S3's POST auth type. */
function postContext(session: StsSession, accessKeyId: string, amzDate: string, req: IncomingMessage, now: number): Record<string, string> {
  const claim: SignatureClaim = { kind: 'header', accessKeyId, scopeDate: amzDate.slice(0, 8), region: SANDBOX_REGION, service: 's3', amzDate, signedHeaders: [], signature: '' };
  return { ...requestContext(session, claim, req, now), 's3:authType': 'POST' };
}

/** The vending role's policies as they are now. */
function identityPolicies(options: S3GateOptions): { name: string; policy: PolicyDocument }[] {
  return [{ name: 'tvm-vending', policy: options.vendingRolePolicy }, ...(options.inlineRolePolicies?.() ?? [])];
}

/** Starts the gate on a loopback port in front of the emulator's socket. */
export async function startS3Gate(options: S3GateOptions): Promise<S3Gate> {
  const upstream: Upstream = { socketPath: options.upstreamSocket, agent: new Agent({ keepAlive: true, maxSockets: 128 }) };
  const limits: BodyLimits = {
    budget: new ByteBudget(options.maxBufferedBytes ?? MAX_GATE_BUFFERED_BYTES),
    rate: options.bodyRate ?? { windowMs: BODY_WINDOW_MS, minBytesPerWindow: MIN_BODY_BYTES_PER_WINDOW },
  };
  // XML bodies are read off the event loop, so a large one holds no other user's request.
  const xml = startXmlReader({ ownerCanonicalId: OWNER_CANONICAL_ID, busy: slowDown });
  const server = createServer((req, res) => {
    void handle(req, res, options, upstream, limits, xml);
  });
  // Headers must arrive within seconds too (Node's default allows a minute); generous enough
  // that a busy moment of this process is not taken for a slow client.
  server.headersTimeout = 20_000;
  let port: number;
  try {
    port = await listenOnLoopback(server, options.port ?? 0);
  } catch (error) {
    upstream.agent.destroy();
    throw error;
  }
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      upstream.agent.destroy();
      await xml.stop();
    },
  };
}

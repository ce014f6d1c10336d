/**
 * The S3 gate: the only way to the S3 emulator (which serves a Unix socket in a private
 * folder and checks nothing). Every request passes the same stages, in this order, each in a
 * module of its own; {@link handle} is the whole pipeline:
 *
 * 1. parse (request.ts): the request-target, query and headers read once, strictly;
 * 2. authenticate (authenticate.ts): SigV4 (header or presigned URL), the session token and
 *    its expiry, every x-amz-* header signed;
 * 3. authorise (authorise.ts): the operation and the IAM checks it needs, evaluated by a real
 *    policy engine (@cloud-copilot/iam-simulate) over the vending role's and the session's
 *    policies;
 * 4. receive (body.ts): the body, once authorised, checked against the signature and, for
 *    XML, against S3's schema;
 * 5. rebuild (rebuild.ts): the request the emulator gets, written from what was authorised,
 *    never passed on;
 * 6. forward (forward.ts): sent to the emulator, or answered by the gate itself.
 *
 * A refusal at any stage is S3's own XML error (exchange.ts). CORS preflights are answered
 * before the pipeline (cors.ts); browser POST uploads take the same stages (post-object.ts).
 * The operator's long-term key (tvm-admin --local) acts as the bucket owner: any operation on
 * the sandbox's bucket, through the same parse and rebuild. Nothing is cached between
 * requests: every request looks its session up again and is evaluated from scratch.
 */
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PolicyDocument } from '../../policies';
import type { LongTermKey } from '../secrets';
import { ByteBudget } from '../shared/http-body';
import { listenOnLoopback } from '../shared/listen';
import { AwsAuthError } from '../shared/sigv4';
import type { SessionStore } from '../sts/session-store';
import type { AuthorisationCheck } from './checks';
import { authenticate } from './authenticate';
import { authorise } from './authorise';
import { receiveBody } from './body';
import { answerPreflight } from './cors';
import { Exchange, slowDown, type BodyLimits } from './exchange';
import { forward, type Upstream } from './forward';
import { isPostUpload, postObject } from './post-object';
import { rebuild, type ForwardedRequest } from './rebuild';
import { parseS3Request, type ParsedS3Request } from './request';
import { OWNER_CANONICAL_ID, type PendingUpload } from './uploads';
import { startXmlReader, type XmlReader } from './xml-thread';
import { completedRequest, requesterArn, type CompletedS3Request } from './request-record';

export { MAX_GATE_BODY_BYTES } from './exchange';
export type { ForwardedRequest } from './rebuild';
export type { CompletedS3Request } from './request-record';

/**
 * The most request-body bytes the gate holds at once across all requests: past it a request is
 * refused with 503 SlowDown, as S3 refuses a client it must slow down, and the SDKs retry.
 */
export const MAX_GATE_BUFFERED_BYTES = 160 * 1024 * 1024;
/** A body must bring at least {@link MIN_BODY_BYTES_PER_WINDOW} bytes per window, else RequestTimeout. */
export const BODY_WINDOW_MS = 5000;
export const MIN_BODY_BYTES_PER_WINDOW = 8 * 1024;

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
  /** The functions' key: allowed only what {@link S3GateOptions.functionsMay} grants. */
  readonly functionKey?: LongTermKey;
  /** What the functions' execution roles may do in S3, as the stack grants it. Default: nothing. */
  readonly functionsMay?: (check: AuthorisationCheck) => boolean;
  /**
   * The origins the bucket's CORS rule allows (lambda/contract/cors.ts has the rest of the
   * rule): the sandbox passes its configured ALLOWED_ORIGINS, by default its web app's own.
   * Default: none, as a bucket with no CORS rule (a preflight is refused).
   */
  readonly allowedOrigins?: readonly string[];
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
  /**
   * Told of every request once it is answered (or its connection closed), with what the gate
   * learnt of it: the sandbox writes its access log and event notifications from this.
   */
  readonly onCompleted?: (completed: CompletedS3Request) => void;
  /** Overrides {@link MAX_GATE_BUFFERED_BYTES} (tests). */
  readonly maxBufferedBytes?: number;
  /** Overrides {@link BODY_WINDOW_MS} and {@link MIN_BODY_BYTES_PER_WINDOW} (tests). */
  readonly bodyRate?: { readonly windowMs: number; readonly minBytesPerWindow: number };
}

/** The gate server and its base URL. */
export interface S3Gate {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** What every request's stages share: the options, the emulator, the body limits, the XML reader. */
interface Gate extends S3GateOptions {
  readonly upstream: Upstream;
  readonly limits: BodyLimits;
  readonly xml: XmlReader;
}

const GATE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);

/** The parse stage: S3's methods only, then the one parse everything after works from. */
function parse(req: IncomingMessage): ParsedS3Request {
  if (!GATE_METHODS.has(req.method ?? ''))
    throw new AwsAuthError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  return parseS3Request(req.method ?? 'GET', req.url ?? '/', req.headersDistinct);
}

/** Handles one request end to end: the pipeline. */
async function handle(req: IncomingMessage, res: ServerResponse, gate: Gate): Promise<void> {
  const allowedOrigins = gate.allowedOrigins ?? [];
  const exchange = new Exchange(req, res, (gate.now ?? Date.now)(), gate.limits, allowedOrigins);
  const { onCompleted } = gate;
  if (onCompleted && req.method !== 'OPTIONS') res.once('close', () => onCompleted(completedRequest(exchange)));
  try {
    if (req.method === 'OPTIONS') return answerPreflight(req, res, allowedOrigins);
    const parsed = parse(req);
    if (isPostUpload(parsed, req.headers['content-type'])) return await postObject(exchange, parsed.bucket, gate);
    exchange.record.bucket = parsed.bucket;
    exchange.record.key = parsed.key;
    const signed = authenticate(req, parsed, gate, exchange.now);
    exchange.record.requester = requesterArn(signed.principal);
    exchange.record.authType = signed.claim.kind === 'header' ? 'AuthHeader' : 'QueryString';
    const authorised = await authorise(exchange, parsed, signed, gate, gate.xml);
    exchange.record.operation = authorised.operation.name;
    if (authorised.deletePlan) exchange.record.deletedKeys = authorised.deletePlan.keys;
    const payload = authorised.deletePlan
      ? Buffer.alloc(0)
      : await receiveBody(exchange, parsed, signed, authorised.operation, gate.xml);
    if (parsed.method === 'PUT' && !authorised.operation.copySource) exchange.record.objectSize = payload.length;
    const rebuilt = rebuild(parsed, authorised, payload, gate.multipartUploads);
    await forward(exchange, rebuilt, gate);
  } catch (error) {
    await exchange.refuse(error);
  } finally {
    // The payload was handed to the upstream request (which copies it to the socket) or dropped.
    exchange.end();
  }
}

/** Starts the gate on a loopback port in front of the emulator's socket. */
export async function startS3Gate(options: S3GateOptions): Promise<S3Gate> {
  const upstream: Upstream = {
    socketPath: options.upstreamSocket,
    agent: new Agent({ keepAlive: true, maxSockets: 128 }),
  };
  const limits: BodyLimits = {
    budget: new ByteBudget(options.maxBufferedBytes ?? MAX_GATE_BUFFERED_BYTES),
    rate: options.bodyRate ?? { windowMs: BODY_WINDOW_MS, minBytesPerWindow: MIN_BODY_BYTES_PER_WINDOW },
  };
  // XML bodies are read off the event loop, so a large one holds no other user's request.
  const xml = startXmlReader({ ownerCanonicalId: OWNER_CANONICAL_ID, busy: slowDown });
  const gate: Gate = { ...options, upstream, limits, xml };
  const server = createServer((req, res) => {
    void handle(req, res, gate);
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

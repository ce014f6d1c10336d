/**
 * One request's passage through the S3 gate (gate.ts runs the stages): its id and clock, its
 * body read under the gate's limits (size, the shared byte budget, a minimum rate), and its
 * answer when a stage refuses it, in S3's XML error shape.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, watchBodyRate, type BudgetLease, type ByteBudget } from '../shared/http-body';
import { AwsAuthError } from '../shared/sigv4';
import { escapeXml, xmlElements } from '../shared/xml';
import { corsHeaders } from './cors';

/** The largest single request body the gate buffers (S3 allows 5 GiB; use multipart above this). */
export const MAX_GATE_BODY_BYTES = 64 * 1024 * 1024;

/** The largest refused body the gate reads to its end (to answer cleanly) rather than close the connection on. */
const MAX_DRAINED_BODY_BYTES = 1024 * 1024;

/** What bounds request bodies: the shared budget and the rate a body must keep up. */
export interface BodyLimits {
  readonly budget: ByteBudget;
  readonly rate: { readonly windowMs: number; readonly minBytesPerWindow: number };
}

/** S3's answer to a client it must slow down (the SDKs retry). */
export function slowDown(): AwsAuthError {
  return new AwsAuthError(503, 'SlowDown', 'Please reduce your request rate.');
}

function requestTimeout(): AwsAuthError {
  return new AwsAuthError(
    400,
    'RequestTimeout',
    'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.',
  );
}

/** A body over {@link MAX_GATE_BODY_BYTES}. */
export function entityTooLarge(): AwsAuthError {
  return new AwsAuthError(
    400,
    'EntityTooLarge',
    `Your proposed upload exceeds the sandbox's single-request limit of ${MAX_GATE_BODY_BYTES} bytes; use a multipart upload.`,
  );
}

/** The emulator did not answer (not even after waiting for a restart). */
export function emulatorUnavailable(): AwsAuthError {
  return new AwsAuthError(503, 'ServiceUnavailable', 'The S3 emulator behind the gate did not answer.');
}

/**
 * What the gate learnt of a request by the time it was answered, for its S3 server access log
 * line and its event notifications (local/s3/request-record.ts). Stages fill it in as they go;
 * a request refused early leaves the later fields unset.
 */
export interface ExchangeRecord {
  /** The signer's ARN: a session's assumed-role ARN, or the bucket owner's. Unset: anonymous or not authenticated. */
  requester?: string | undefined;
  /** S3's operation name (operations.ts), once known. */
  operation?: string | undefined;
  bucket?: string | undefined;
  key?: string | undefined;
  /** The size of the object written (PutObject, UploadPart, POST upload). */
  objectSize?: number | undefined;
  /** DeleteObjects: the keys deleted. */
  deletedKeys?: readonly string[] | undefined;
  /** The S3 error code the gate answered, if any. */
  errorCode?: string | undefined;
  /** How the request was signed: `AuthHeader`, `QueryString` or `POST`. */
  authType?: string | undefined;
  /** The emulator's answer's headers, when the request was forwarded to it. */
  answerHeaders?: Readonly<Record<string, string | string[]>> | undefined;
  /** The ETag of an object the gate wrote itself (a POST upload). */
  eTag?: string | undefined;
  /** Body bytes written to the client so far. */
  bytesSent: number;
}

/** One request in the gate, from its arrival to its answer. */
export class Exchange {
  /** What the stages learnt, for the access log and event notifications. */
  readonly record: ExchangeRecord = { bytesSent: 0 };
  /** S3's request id: 16 upper-case hex digits. */
  readonly requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  /** The resource a refusal names (`/bucket/key`), once the request is understood that far. */
  resource = '';
  /** The CORS headers every answer to this request carries. */
  readonly cors: Record<string, string>;
  private readonly lease: BudgetLease;
  private readonly bodySignal: AbortSignal;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The request's time, read once: every check of this request uses it. */
    readonly now: number,
    limits: BodyLimits,
    /** The origins the bucket's CORS rule allows. */
    allowedOrigins: readonly string[],
  ) {
    // A refused preflight carries no CORS headers, as on S3 (an answered one sets its own).
    this.cors = req.method === 'OPTIONS' ? {} : corsHeaders(req.headers.origin, allowedOrigins);
    this.lease = limits.budget.lease();
    this.countBytesSent(res);
    this.bodySignal = watchBodyRate(req, res, { ...limits.rate, timedOut: requestTimeout });
  }

  /** Counts the body bytes the answer carries, for the access log's Bytes Sent. */
  private countBytesSent(res: ServerResponse): void {
    const record = this.record;
    const size = (chunk: unknown) =>
      typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.length : 0;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      record.bytesSent += size(chunk);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') record.bytesSent += size(chunk);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  }

  /** Reads the whole body, at most `limit` bytes, within the shared budget and at the minimum rate. */
  read(limit: number, tooLarge: () => AwsAuthError): Promise<Buffer> {
    return readBody(this.req, limit, tooLarge, { signal: this.bodySignal, lease: this.lease, overBudget: slowDown });
  }

  /** Answers S3's XML error (a connection already answering is cut instead). */
  sendError(error: AwsAuthError, resource = this.resource): void {
    const { req, res } = this;
    const hostId = randomBytes(24).toString('base64');
    this.record.errorCode = error.code;
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
      xmlElements({ Code: error.code, Message: error.message, ...error.details }) +
      (resource ? `<Resource>${escapeXml(resource)}</Resource>` : '') +
      xmlElements({ RequestId: this.requestId, HostId: hostId }) +
      '</Error>';
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(error.status, {
      'Content-Type': 'application/xml',
      'x-amz-request-id': this.requestId,
      'x-amz-id-2': hostId,
      ...this.cors,
      ...(req.method === 'HEAD' ? {} : { 'Content-Length': Buffer.byteLength(body) }),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Answers what a stage threw: S3's refusal, or a 500 for anything unexpected. */
  async refuse(error: unknown): Promise<void> {
    const { req, res } = this;
    if (!(error instanceof AwsAuthError)) {
      console.error('[sandbox s3 gate] unexpected error', error);
      this.sendError(new AwsAuthError(500, 'InternalError', 'We encountered an internal error. Please try again.'));
      return;
    }
    // A small refused body still arriving is read to its end and dropped (only as long as it
    // keeps its rate), so the client reads the answer instead of a reset. A large one is not
    // read at all: the answer goes out and the connection is closed, as S3 closes it.
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (!req.complete && !this.bodySignal.aborted && declared <= MAX_DRAINED_BODY_BYTES)
      await drained(req, this.bodySignal);
    if (!req.complete) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroySoon());
    }
    this.sendError(error);
  }

  /** The request is answered (or its payload handed to the emulator's socket): its bytes leave the budget. */
  end(): void {
    this.lease.release();
  }
}

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

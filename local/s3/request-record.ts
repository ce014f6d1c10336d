/**
 * One answered request of the S3 gate, as the sandbox's access log (access-log-writer.ts) and
 * event notifications (event-notifications.ts) see it: who asked, what, what was answered.
 */
import { SANDBOX_ACCOUNT_ID, SANDBOX_FUNCTION_ROLE_ARN } from '../names';
import type { Principal } from './authenticate';
import type { Exchange, ExchangeRecord } from './exchange';

/** A request the gate answered. */
export interface CompletedS3Request {
  readonly requestId: string;
  /** When the gate received it, ms since the epoch. */
  readonly receivedAt: number;
  /** When its answer ended. */
  readonly answeredAt: number;
  readonly remoteIp: string;
  /** See ExchangeRecord.requester. */
  readonly requester?: string;
  readonly method: string;
  /** The request line as received: `GET /bucket/key?x HTTP/1.1`. */
  readonly requestLine: string;
  /** S3's operation name (`PutObject`, `DeleteObjects`, `PostObject`, ...), once the gate knew it. */
  readonly operation?: string;
  readonly bucket?: string;
  readonly key?: string;
  /** The answer's status; 0 when the connection closed before one was sent. */
  readonly status: number;
  readonly errorCode?: string;
  /** The answer's body length (0 for HEAD). */
  readonly bytesSent: number;
  /** The object's size: written (PUT, POST upload) or answered (GET, HEAD: the whole object's). */
  readonly objectSize?: number;
  /** The answer's ETag, if it had one. */
  readonly eTag?: string;
  readonly deletedKeys?: readonly string[];
  readonly userAgent?: string;
  readonly referer?: string;
  readonly authType?: string;
  readonly hostHeader?: string;
}

/** The ARN the access log names a signer by. */
export function requesterArn(principal: Principal): string {
  if (principal.kind === 'operator') return `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:root`;
  if (principal.kind === 'functions') return SANDBOX_FUNCTION_ROLE_ARN;
  return principal.session.assumedRoleArn;
}

/** A header of the emulator's answer (headers given to writeHead are not readable from the response). */
function header(headers: ExchangeRecord['answerHeaders'], name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** The whole object's size an answer states: Content-Range's total, else Content-Length. */
function answeredObjectSize(headers: ExchangeRecord['answerHeaders']): number | undefined {
  const total = /\/(\d+)$/.exec(header(headers, 'content-range') ?? '')?.[1];
  const size = Number(total ?? header(headers, 'content-length'));
  return Number.isSafeInteger(size) ? size : undefined;
}

/** What the gate learnt of an exchange, read once its answer is over. */
export function completedRequest(exchange: Exchange, now = Date.now()): CompletedS3Request {
  const { req, res, record } = exchange;
  const status = res.headersSent ? res.statusCode : 0;
  const method = req.method ?? 'GET';
  const reads = method === 'GET' || method === 'HEAD';
  const objectSize =
    record.objectSize ??
    (reads && status < 300 && record.key !== undefined ? answeredObjectSize(record.answerHeaders) : undefined);
  const eTag = (header(record.answerHeaders, 'etag') ?? record.eTag)?.replace(/"/g, '');
  const optional = {
    requester: record.requester,
    operation: record.operation,
    bucket: record.bucket,
    key: record.key,
    errorCode: record.errorCode,
    objectSize,
    eTag,
    deletedKeys: record.deletedKeys,
    userAgent: req.headers['user-agent'],
    referer: req.headers.referer,
    authType: record.authType,
    hostHeader: req.headers.host,
  };
  return {
    requestId: exchange.requestId,
    receivedAt: exchange.now,
    answeredAt: now,
    remoteIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    method,
    requestLine: `${method} ${req.url ?? '/'} HTTP/${req.httpVersion}`,
    status,
    bytesSent: method === 'HEAD' ? 0 : record.bytesSent,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined && value !== '')),
  };
}

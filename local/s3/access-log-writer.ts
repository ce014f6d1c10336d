/**
 * The sandbox's S3 server access logs: every request the gate answers on the file bucket
 * becomes a line in S3's format (written by lambda/usage/access-log.ts, the module the stack's
 * processor reads them with), buffered and rolled every few seconds into a log object of the
 * emulated log bucket, named as S3 names them (`<prefix>YYYY-mm-DD-HH-MM-SS-<16 hex>`). S3
 * delivers its logs within hours, best effort; the sandbox within one roll, so tests can wait.
 *
 * A log object that cannot be stored (the emulator being restarted) keeps its lines for the
 * next roll: none is dropped while the sandbox runs.
 */
import { randomBytes } from 'node:crypto';
import { formatAccessLogRecord, type AccessLogRecord } from '../../lambda/usage/access-log';
import { SANDBOX_ACCOUNT_ID } from '../names';
import type { CompletedS3Request } from './request-record';

/** The sandbox's bucket owner, as access logs name it (a canonical user id: 64 hex digits). */
const BUCKET_OWNER = '0'.repeat(52) + SANDBOX_ACCOUNT_ID;

/** How often the sandbox rolls its access log by default, in ms. */
export const DEFAULT_ACCESS_LOG_ROLL_MS = 5_000;

/** S3's operation names in access logs, by the gate's operation names. */
const LOG_OPERATIONS: Readonly<Record<string, string>> = {
  GetObject: 'REST.GET.OBJECT',
  HeadObject: 'REST.HEAD.OBJECT',
  PutObject: 'REST.PUT.OBJECT',
  PostObject: 'REST.POST.OBJECT',
  CopyObject: 'REST.COPY.OBJECT',
  UploadPart: 'REST.PUT.PART',
  UploadPartCopy: 'REST.COPY.PART',
  CreateMultipartUpload: 'REST.POST.UPLOADS',
  CompleteMultipartUpload: 'REST.POST.UPLOAD',
  AbortMultipartUpload: 'REST.DELETE.UPLOAD',
  ListParts: 'REST.GET.UPLOAD',
  DeleteObject: 'REST.DELETE.OBJECT',
  DeleteObjects: 'REST.POST.MULTI_OBJECT_DELETE',
  ListObjects: 'REST.GET.BUCKET',
  ListObjectsV2: 'REST.GET.BUCKET',
  HeadBucket: 'REST.HEAD.BUCKET',
  'GET ?uploads': 'REST.GET.UPLOADS',
  GetObjectTagging: 'REST.GET.OBJECT_TAGGING',
  PutObjectTagging: 'REST.PUT.OBJECT_TAGGING',
  DeleteObjectTagging: 'REST.DELETE.OBJECT_TAGGING',
  GetObjectAcl: 'REST.GET.ACL',
  PutObjectAcl: 'REST.PUT.ACL',
};

/** The access log's operation for a request (one the gate refused before knowing it: by method and target). */
export function logOperation(request: CompletedS3Request): string {
  // S3's own acts (a lifecycle expiration) come named as the log names them.
  if (request.operation?.includes('.')) return request.operation;
  const known = request.operation === undefined ? undefined : LOG_OPERATIONS[request.operation];
  if (known) return known;
  const what =
    request.operation?.toUpperCase().replace(/[^A-Z0-9]+/g, '_') ?? (request.key === undefined ? 'BUCKET' : 'OBJECT');
  return `REST.${request.method}.${what}`;
}

/** The log lines one answered request gives: one, plus one per key of a DeleteObjects. */
export function accessLogLines(request: CompletedS3Request): string[] {
  const record: AccessLogRecord = {
    bucketOwner: BUCKET_OWNER,
    bucket: request.bucket,
    time: request.receivedAt - (request.receivedAt % 1000),
    remoteIp: request.remoteIp,
    requester: request.requester,
    requestId: request.requestId,
    operation: logOperation(request),
    key: request.key,
    requestUri: request.requestLine,
    httpStatus: request.status === 0 ? undefined : request.status,
    errorCode: request.errorCode,
    bytesSent: request.bytesSent,
    objectSize: request.objectSize,
    totalTimeMs: Math.max(0, request.answeredAt - request.receivedAt),
    userAgent: request.userAgent,
    referer: request.referer,
    signatureVersion: request.authType === undefined ? undefined : 'SigV4',
    authType: request.authType,
    hostHeader: request.hostHeader,
  };
  const lines = [formatAccessLogRecord(record)];
  if (request.status >= 200 && request.status < 300)
    for (const key of request.deletedKeys ?? [])
      lines.push(
        formatAccessLogRecord({
          ...record,
          operation: 'BATCH.DELETE.OBJECT',
          key,
          bytesSent: 0,
          requestUri: undefined,
        }),
      );
  return lines;
}

/** A log object's key, as S3 names them. */
export function logObjectKey(prefix: string, at: number): string {
  const stamp = new Date(at).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return `${prefix}${stamp}-${randomBytes(8).toString('hex').toUpperCase()}`;
}

/** Options of {@link startAccessLogWriter}. */
export interface AccessLogWriterOptions {
  /** The bucket whose requests are logged (the file bucket). */
  readonly bucket: string;
  /** The log objects' key prefix (the stack's `serverAccessLogsPrefix`). */
  readonly prefix: string;
  /** How often buffered lines are written into a new log object, in ms. */
  readonly rollMs: number;
  /** Stores a log object in the log bucket; rejects when it could not. */
  readonly store: (key: string, body: Buffer) => Promise<void>;
  /** Told of each stored log object (the sandbox then sends its ObjectCreated notification). */
  readonly stored?: (key: string, size: number) => void;
  readonly now?: () => number;
}

/** A running access-log writer. */
export interface AccessLogWriter {
  /** Buffers a request's lines, if it was a request on the logged bucket. */
  record(request: CompletedS3Request): void;
  /** Writes the buffered lines now (after any roll under way); resolves with the log object's key, if any. */
  roll(): Promise<string | undefined>;
  /** Stops the timer and writes what is buffered. */
  stop(): Promise<void>;
}

/** Starts rolling the access log every `rollMs`. */
export function startAccessLogWriter(options: AccessLogWriterOptions): AccessLogWriter {
  const now = options.now ?? Date.now;
  let buffered: string[] = [];
  let rolling: Promise<string | undefined> = Promise.resolve(undefined);
  const rollOnce = async (): Promise<string | undefined> => {
    if (buffered.length === 0) return undefined;
    const lines = buffered;
    buffered = [];
    const key = logObjectKey(options.prefix, now());
    const body = Buffer.from(`${lines.join('\n')}\n`);
    try {
      await options.store(key, body);
    } catch (error) {
      // Kept for the next roll, before anything logged since.
      buffered = [...lines, ...buffered];
      console.error(
        `[sandbox s3] could not store an access log object (${(error as Error).message}); kept for the next roll`,
      );
      return undefined;
    }
    options.stored?.(key, body.length);
    return key;
  };
  const roll = () => (rolling = rolling.then(rollOnce, rollOnce));
  const timer = setInterval(() => void roll(), options.rollMs);
  timer.unref();
  return {
    record(request) {
      if (request.bucket === options.bucket) buffered.push(...accessLogLines(request));
    },
    roll,
    async stop() {
      clearInterval(timer);
      await roll();
    },
  };
}

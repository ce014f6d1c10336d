/**
 * The sandbox's path from S3 to the usage numbers, as the stack's: the gate's answered
 * requests become S3 event notifications (s3/event-notifications.ts) and access-log lines
 * (s3/access-log-writer.ts); the log lines are rolled into log objects of the log bucket,
 * whose own ObjectCreated notifications go, like the file bucket's, through a local
 * SQS-shaped queue (sqs/queue.ts) to the functions the stack runs on them: the storage meter
 * for the file bucket, the access-log processor for the log bucket. A lifecycle expiration can
 * be run on demand (s3/lifecycle.ts).
 */
import { ACCESS_LOG_PREFIX } from '../lambda/usage/access-log';
import { SANDBOX_ACCOUNT_ID } from './names';
import { startAccessLogWriter } from './s3/access-log-writer';
import { putIntoEmulator } from './s3/emulator-put';
import { S3EventNotifier } from './s3/event-notifications';
import { runExpiration, type ExpirationRule } from './s3/lifecycle';
import type { CompletedS3Request } from './s3/request-record';
import { startLocalQueue, type LocalQueue, type SqsBatchResponse, type SqsEvent } from './sqs/queue';
import { request } from 'node:http';
import { canonicalObjectPath } from './s3/rebuild';

/** A queue's consumer: a function that takes Lambda's SQS event. */
export type SqsConsumer = (event: SqsEvent) => Promise<SqsBatchResponse | undefined | void>;

/** Options of {@link startUsagePipeline}. */
export interface UsagePipelineOptions {
  /** The emulator's socket, where log objects are written and expirations run. */
  readonly socketPath: string;
  readonly fileBucket: string;
  readonly logBucket: string;
  /** How often the access log is rolled into a log object, in ms. */
  readonly accessLogRollMs: number;
  /** The storage meter's function, fed the file bucket's notifications (without it they are only told to onNotification). */
  readonly meter?: SqsConsumer;
  /** The access-log processor's function, fed the log bucket's notifications. */
  readonly accessLogs: SqsConsumer;
  /** Told of every notification sent, with its bucket (tests, and the meter's lag measurement). */
  readonly onNotification?: (bucket: string, body: string) => void;
}

/** The running pipeline. */
export interface UsagePipeline {
  /** The gate's S3GateOptions.onCompleted. */
  requestCompleted(request: CompletedS3Request): void;
  /** Writes the buffered access-log lines into a log object now; resolves with its key, if any. */
  rollAccessLog(): Promise<string | undefined>;
  /** Runs a lifecycle expiration once; resolves with the keys it expired. */
  expire(rule: ExpirationRule): Promise<string[]>;
  /** Resolves once every notification sent so far was consumed (events still being numbered included). */
  settled(): Promise<void>;
  readonly meterQueue?: LocalQueue;
  readonly accessLogQueue: LocalQueue;
  /** Rolls the log, drains both queues (within a bound), then stops them. */
  stop(): Promise<void>;
}

/** HEAD on the emulator: the object's size and ETag now. */
function head(socketPath: string, bucket: string, key: string): Promise<{ size: number; eTag?: string } | undefined> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { socketPath, method: 'HEAD', path: canonicalObjectPath(bucket, key), headers: { host: 'localhost' } },
      (answer) => {
        answer.resume();
        const size = Number(answer.headers['content-length']);
        const eTag = answer.headers.etag?.replace(/"/g, '');
        resolve(
          answer.statusCode === 200 && Number.isSafeInteger(size) ? { size, ...(eTag ? { eTag } : {}) } : undefined,
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Starts the queues, the notifier and the access-log writer. */
export function startUsagePipeline(options: UsagePipelineOptions): UsagePipeline {
  const meterQueue = options.meter ? startLocalQueue({ name: 'tvm-usage-events', consume: options.meter }) : undefined;
  const accessLogQueue = startLocalQueue({ name: 'tvm-access-logs', consume: options.accessLogs });
  const sendTo =
    (queue: LocalQueue | undefined, bucket: string) =>
    (body: string): void => {
      options.onNotification?.(bucket, body);
      queue?.send(body);
    };
  const notifier = new S3EventNotifier({
    destinations: new Map([
      [options.fileBucket, sendTo(meterQueue, options.fileBucket)],
      [options.logBucket, sendTo(accessLogQueue, options.logBucket)],
    ]),
    head: (bucket, key) => head(options.socketPath, bucket, key),
  });
  const writer = startAccessLogWriter({
    bucket: options.fileBucket,
    prefix: ACCESS_LOG_PREFIX,
    rollMs: options.accessLogRollMs,
    store: (key, body) => putIntoEmulator(options.socketPath, options.logBucket, key, body),
    // S3's log delivery writes the object; its notification follows as for any write.
    stored: (key, size) =>
      notifier.emit({
        eventName: 'ObjectCreated:Put',
        bucket: options.logBucket,
        key,
        size,
        principalId: `AWS:${SANDBOX_ACCOUNT_ID}`,
        sourceIp: '127.0.0.1',
        requestId: 'LOGDELIVERY',
        time: Date.now(),
      }),
  });
  // Requests whose events are still being numbered (a copy's size is read first).
  const pending = new Set<Promise<void>>();
  return {
    requestCompleted(completed) {
      writer.record(completed);
      const sending = notifier.requestCompleted(completed).catch((error: unknown) => {
        console.error(`[sandbox s3] an event notification was not sent: ${(error as Error).message}`);
      });
      pending.add(sending);
      void sending.finally(() => pending.delete(sending));
    },
    rollAccessLog: () => writer.roll(),
    expire: (rule) =>
      runExpiration(rule, {
        socketPath: options.socketPath,
        bucket: options.fileBucket,
        emit: (event) => notifier.emit(event),
        logged: (completed) => writer.record(completed),
      }),
    async settled() {
      await Promise.all([...pending]);
      await Promise.all([meterQueue?.drained(), accessLogQueue.drained()]);
    },
    ...(meterQueue ? { meterQueue } : {}),
    accessLogQueue,
    async stop() {
      await Promise.all([...pending]);
      await writer.stop();
      await Promise.all([meterQueue?.stop(), accessLogQueue.stop()]);
    },
  };
}

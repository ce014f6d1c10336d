/**
 * A local stand-in for an SQS queue with a Lambda event source mapping: messages go in, and
 * batches of them are handed to a consumer as Lambda's SQS event (`{Records: [{messageId,
 * receiptHandle, body, attributes, eventSource: 'aws:sqs', ...}]}`), asynchronously, shortly
 * after they arrive. The consumer answers with `batchItemFailures` (ReportBatchItemFailures);
 * a failed message (or a whole batch whose consumer threw) comes back after a visibility
 * timeout, and after `maxReceiveCount` receives goes to a dead-letter list, as a redrive
 * policy sends it to a DLQ. The sandbox feeds the storage meter and the access-log processor
 * through these, so their handlers run exactly as the stack runs them.
 *
 * Messages live in memory: stopping the queue delivers what it holds first (within a bound);
 * a message lost to a crash of the sandbox is what the meter's reconcile corrects.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SANDBOX_ACCOUNT_ID, SANDBOX_REGION } from '../names';

/** One message as Lambda hands it over. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
  };
  readonly messageAttributes: Record<string, never>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** Lambda's SQS event. */
export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/** The consumer's answer (ReportBatchItemFailures). */
export interface SqsBatchResponse {
  readonly batchItemFailures?: readonly { readonly itemIdentifier: string }[];
}

/** Options of {@link startLocalQueue}. */
export interface LocalQueueOptions {
  /** The queue's name (in its ARN and in logs). */
  readonly name: string;
  /** Runs one batch; throws or names failures to have messages delivered again. */
  readonly consume: (event: SqsEvent) => Promise<SqsBatchResponse | undefined | void>;
  /** Most messages per batch. Default 10 (Lambda's default for SQS). */
  readonly batchSize?: number;
  /** How long a batch waits to fill, in ms. Default 20. */
  readonly batchWindowMs?: number;
  /** How long a failed message stays hidden before it is delivered again, in ms. Default 1,000. */
  readonly visibilityTimeoutMs?: number;
  /** Receives before a message goes to the dead-letter list. Default 5. */
  readonly maxReceiveCount?: number;
  /** Batches handed to the consumer at once. Default 2. */
  readonly concurrency?: number;
  /** Where a dead-lettered message is reported. Default stderr. */
  readonly log?: (message: string) => void;
}

interface Message {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  receives: number;
  firstReceivedAt?: number;
  visibleAt: number;
}

/** A running local queue. */
export interface LocalQueue {
  /** Sends one message (the body as SQS stores it). */
  send(body: string): void;
  /** Resolves once every message sent so far has been consumed or dead-lettered. */
  drained(): Promise<void>;
  /** Messages that exhausted their receives. */
  readonly deadLetters: readonly { readonly body: string; readonly receives: number }[];
  /** Messages waiting or in flight. */
  depth(): number;
  /** Stops delivering once what it holds is delivered (or after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a local queue feeding `consume`. */
export function startLocalQueue(options: LocalQueueOptions): LocalQueue {
  const batchSize = options.batchSize ?? 10;
  const windowMs = options.batchWindowMs ?? 20;
  const visibilityMs = options.visibilityTimeoutMs ?? 1_000;
  const maxReceives = options.maxReceiveCount ?? 5;
  const concurrency = options.concurrency ?? 2;
  const log = options.log ?? ((message: string) => console.error(`[sandbox sqs] ${message}`));
  const arn = `arn:aws:sqs:${SANDBOX_REGION}:${SANDBOX_ACCOUNT_ID}:${options.name}`;
  const waiting: Message[] = [];
  const deadLetters: { body: string; receives: number }[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let idle: (() => void)[] = [];

  const settleIdle = () => {
    if (waiting.length > 0 || inFlight > 0) return;
    const waiters = idle;
    idle = [];
    for (const resolve of waiters) resolve();
  };

  const schedule = (delayMs: number) => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, delayMs);
  };

  const toRecord = (message: Message): SqsRecord => ({
    messageId: message.id,
    receiptHandle: `${message.id}#${message.receives}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receives),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AROAS3SANDBOX',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: SANDBOX_REGION,
  });

  const requeue = (message: Message) => {
    if (message.receives >= maxReceives) {
      deadLetters.push({ body: message.body, receives: message.receives });
      log(`${options.name}: a message failed ${message.receives} times; moved to the dead-letter list`);
      return;
    }
    message.visibleAt = Date.now() + visibilityMs;
    waiting.push(message);
  };

  const pump = () => {
    while (!stopped && inFlight < concurrency) {
      const now = Date.now();
      const batch: Message[] = [];
      for (let index = 0; index < waiting.length && batch.length < batchSize; ) {
        const message = waiting[index]!;
        if (message.visibleAt <= now) {
          batch.push(message);
          waiting.splice(index, 1);
        } else index++;
      }
      if (batch.length === 0) break;
      inFlight++;
      for (const message of batch) {
        message.receives++;
        message.firstReceivedAt ??= now;
      }
      void options
        .consume({ Records: batch.map(toRecord) })
        .then(
          (answer) => {
            const failed = new Set((answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
            for (const message of batch) if (failed.has(message.id)) requeue(message);
          },
          (error: unknown) => {
            log(
              `${options.name}: the consumer failed (${error instanceof Error ? error.message : String(error)}); the batch comes back`,
            );
            for (const message of batch) requeue(message);
          },
        )
        .finally(() => {
          inFlight--;
          pump();
          settleIdle();
        });
    }
    if (waiting.length > 0) {
      const next = Math.min(...waiting.map((message) => message.visibleAt));
      schedule(Math.max(windowMs, next - Date.now()));
    }
  };

  return {
    send(body) {
      if (stopped) throw new Error(`the queue ${options.name} is stopped`);
      const now = Date.now();
      waiting.push({ id: randomUUID(), body, sentAt: now, receives: 0, visibleAt: now });
      schedule(windowMs);
    },
    drained() {
      return new Promise((resolve) => {
        idle.push(resolve);
        settleIdle();
      });
    },
    deadLetters,
    depth: () => waiting.length + inFlight,
    async stop(graceMs = 5_000) {
      await Promise.race([this.drained(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

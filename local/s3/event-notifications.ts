/**
 * S3 event notifications from the sandbox's S3 gate: for every successful mutation of an
 * object (PutObject, POST upload, CopyObject, CompleteMultipartUpload, DeleteObject, each key
 * of a DeleteObjects, a lifecycle expiration, a log object delivered into the log bucket) a
 * message whose body is S3's notification JSON (event message structure 2.1, one record a
 * message, as S3 sends them), with the key encoded as S3 encodes it
 * (lambda/usage/s3-events.ts) and a sequencer that grows with every event, so it grows per key
 * as S3's does. The messages go to the queue of the bucket (the meter's, the log processor's).
 *
 * The sandbox numbers events in the order the gate finishes answering the requests. Sizes of
 * copies and completed multipart uploads are read from the emulator right after (S3's event
 * carries the new object's size); should another write replace the object in between, the
 * event carries the newer size, and that write's own event (later sequencer) leaves the same
 * final state.
 */
import { randomBytes } from 'node:crypto';
import { encodeEventKey } from '../../lambda/usage/s3-events';
import { SANDBOX_ACCOUNT_ID, SANDBOX_REGION, SANDBOX_VENDING_ROLE_ID } from '../names';
import type { CompletedS3Request } from './request-record';

/** S3's `eventName`s the sandbox sends (without the `s3:` prefix). */
export type SandboxEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete'
  | 'LifecycleExpiration:Delete';

/** One event before it is numbered. */
export interface ObjectEvent {
  readonly eventName: SandboxEventName;
  readonly bucket: string;
  readonly key: string;
  /** Created objects only. */
  readonly size?: number;
  readonly eTag?: string;
  /** `AWS:<id>` of who caused it, or S3 itself for a lifecycle expiration. */
  readonly principalId: string;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly time: number;
}

const CREATED: Readonly<Record<string, SandboxEventName>> = {
  PutObject: 'ObjectCreated:Put',
  PostObject: 'ObjectCreated:Post',
  CopyObject: 'ObjectCreated:Copy',
  CompleteMultipartUpload: 'ObjectCreated:CompleteMultipartUpload',
};

/** Whose act an event was, as S3's `userIdentity.principalId` names it. */
function principalIdOf(requester: string | undefined): string {
  const session = /^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(requester ?? '')?.[1];
  return session === undefined ? `AWS:${SANDBOX_ACCOUNT_ID}` : `AWS:${SANDBOX_VENDING_ROLE_ID}:${session}`;
}

/**
 * The events an answered request causes (none unless it succeeded and changed an object).
 * `sized` says whether the event's size must be read from the emulator (copies, completions).
 */
export function eventsOf(request: CompletedS3Request): { event: ObjectEvent; sized: boolean }[] {
  if (request.status < 200 || request.status >= 300 || request.bucket === undefined) return [];
  const common = {
    bucket: request.bucket,
    principalId: principalIdOf(request.requester),
    sourceIp: request.remoteIp,
    requestId: request.requestId,
    time: request.answeredAt,
  };
  const created = request.operation === undefined ? undefined : CREATED[request.operation];
  if (created && request.key !== undefined) {
    const sized = request.operation === 'CopyObject' || request.operation === 'CompleteMultipartUpload';
    return [
      {
        event: {
          ...common,
          eventName: created,
          key: request.key,
          ...(sized ? {} : { size: request.objectSize ?? 0 }),
          ...(request.eTag !== undefined && !sized ? { eTag: request.eTag } : {}),
        },
        sized,
      },
    ];
  }
  if (request.operation === 'DeleteObject' && request.key !== undefined)
    return [{ event: { ...common, eventName: 'ObjectRemoved:Delete', key: request.key }, sized: false }];
  if (request.operation === 'DeleteObjects')
    return (request.deletedKeys ?? []).map((key) => ({
      event: { ...common, eventName: 'ObjectRemoved:Delete', key },
      sized: false,
    }));
  return [];
}

/**
 * A sequencer source: 16 upper-case hex digits, each greater than the last (the clock in ms,
 * shifted, then a counter), so they also grow across restarts of the sandbox.
 */
export function sequencerSource(now: () => number = Date.now): () => string {
  let last = 0n;
  return () => {
    const fromClock = BigInt(now()) << 12n;
    last = fromClock > last ? fromClock : last + 1n;
    return last.toString(16).toUpperCase().padStart(16, '0');
  };
}

/** The message body S3 sends for one event. */
export function notificationBody(event: ObjectEvent, sequencer: string): string {
  const created = event.eventName.startsWith('ObjectCreated:');
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: SANDBOX_REGION,
        eventTime: new Date(event.time).toISOString(),
        eventName: event.eventName,
        userIdentity: { principalId: event.principalId },
        requestParameters: { sourceIPAddress: event.sourceIp },
        responseElements: {
          'x-amz-request-id': event.requestId,
          'x-amz-id-2': randomBytes(24).toString('base64'),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'tvm-sandbox',
          bucket: {
            name: event.bucket,
            ownerIdentity: { principalId: SANDBOX_ACCOUNT_ID },
            arn: `arn:aws:s3:::${event.bucket}`,
          },
          object: {
            key: encodeEventKey(event.key),
            ...(created ? { size: event.size ?? 0 } : {}),
            ...(event.eTag !== undefined ? { eTag: event.eTag } : {}),
            sequencer,
          },
        },
      },
    ],
  });
}

/** Options of {@link S3EventNotifier}. */
export interface S3EventNotifierOptions {
  /** Where each bucket's events go (a bucket without a destination sends none). */
  readonly destinations: ReadonlyMap<string, (body: string) => void>;
  /** The size and ETag of an object now (HEAD on the emulator), for copies and completions. */
  readonly head: (bucket: string, key: string) => Promise<{ size: number; eTag?: string } | undefined>;
  readonly now?: () => number;
}

/** Numbers the sandbox's object events and sends them to their bucket's queue. */
export class S3EventNotifier {
  private readonly next: () => string;

  constructor(private readonly options: S3EventNotifierOptions) {
    this.next = sequencerSource(options.now);
  }

  /** Sends the events of an answered request; resolves once they are queued. */
  async requestCompleted(request: CompletedS3Request): Promise<void> {
    for (const { event, sized } of eventsOf(request)) {
      const send = this.options.destinations.get(event.bucket);
      if (!send) continue;
      // Numbered now, in the order the gate answered; the size may be read after.
      const sequencer = this.next();
      if (!sized) {
        send(notificationBody(event, sequencer));
        continue;
      }
      const head = await this.options.head(event.bucket, event.key).catch(() => undefined);
      // Gone already: its delete's event (a later sequencer) follows; this one counts as empty.
      send(
        notificationBody({ ...event, size: head?.size ?? 0, ...(head?.eTag ? { eTag: head.eTag } : {}) }, sequencer),
      );
    }
  }

  /** Sends one event S3 itself causes (a lifecycle expiration, a delivered log object). */
  emit(event: ObjectEvent): void {
    this.options.destinations.get(event.bucket)?.(notificationBody(event, this.next()));
  }
}

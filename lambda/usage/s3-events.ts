/**
 * S3 event notifications as the meter reads them: the SQS message body S3 sends (its
 * notification JSON), checked field by field, with each record's object key decoded. Pure.
 *
 * Object keys in notifications are form-encoded (`application/x-www-form-urlencoded`): a
 * space is `+`, a literal `+` is `%2B`, every other byte outside a few safe characters is
 * `%XX` of its UTF-8. {@link decodeEventKey} is the inverse, and {@link encodeEventKey} is
 * the encoding the sandbox's S3 gate uses, so both ends say the rule once.
 */
import { parseSequencer, type Sequencer } from './sequencer';

/** What an event does to the meter's view of its key. */
export type ObjectEventKind =
  /** A new current version (any ObjectCreated: put, POST, copy, multipart completion). */
  | 'created'
  /** The current version is no longer current: a delete marker, or a delete in an unversioned bucket. */
  | 'removed'
  /** One named version was deleted for good (a noncurrent version's expiry, or an operator's version delete). */
  | 'version-removed';

/** One S3 event on one object, checked. */
export interface S3ObjectEvent {
  /** S3's event name without the `s3:` prefix, e.g. `ObjectCreated:Put`: for logs. */
  readonly eventName: string;
  readonly kind: ObjectEventKind;
  readonly bucket: string;
  /** The object key, decoded. */
  readonly key: string;
  /** The new version's size in bytes (`created` only; 0 otherwise). */
  readonly size: number;
  /** The version the event names (the new version, the delete marker, or the deleted version), when versioned. */
  readonly versionId?: string;
  readonly sequencer: Sequencer;
  /** When S3 finished the request, epoch ms. */
  readonly eventTime: number;
}

/** A record the meter cannot use, and why (logged; the key is never logged). */
export interface RejectedRecord {
  readonly eventName: string;
  readonly reason: string;
}

/** One message body, read. */
export interface ParsedNotification {
  readonly events: readonly S3ObjectEvent[];
  readonly rejected: readonly RejectedRecord[];
  /** Records of kinds the meter does not count (tagging, ACL, restore, transitions): no change in size. */
  readonly ignored: number;
}

/** The body is not an S3 notification at all (not JSON, no `Records`): the message goes to the DLQ via retries. */
export class MalformedNotificationError extends Error {
  constructor(reason: string) {
    super(`Not an S3 event notification: ${reason}`);
    this.name = 'MalformedNotificationError';
  }
}

/** Bytes of an event key left as they are: letters, digits and `-_.*` (form encoding), and `/`, which S3 keeps. */
const SAFE = /^[A-Za-z0-9\-_.*/]$/;

/** The key as S3 writes it into a notification (the sandbox's gate uses this to emit events). */
export function encodeEventKey(key: string): string {
  let out = '';
  for (const character of key) {
    if (character === ' ') out += '+';
    else if (SAFE.test(character)) out += character;
    else
      for (const byte of new TextEncoder().encode(character))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The key a notification names: `+` is a space, then percent-decoding of UTF-8. Undefined when malformed. */
export function decodeEventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

const CREATED = 'ObjectCreated:';
const CURRENT_REMOVED = new Set(['ObjectRemoved:DeleteMarkerCreated', 'LifecycleExpiration:DeleteMarkerCreated']);
const DELETED = new Set(['ObjectRemoved:Delete', 'LifecycleExpiration:Delete']);

function kindOf(eventName: string, versionId: string | undefined): ObjectEventKind | undefined {
  if (eventName.startsWith(CREATED)) return 'created';
  if (CURRENT_REMOVED.has(eventName)) return 'removed';
  // A delete naming a version removes that version for good; without one (an unversioned
  // bucket, the sandbox) it removes the object.
  if (DELETED.has(eventName)) return versionId === undefined ? 'removed' : 'version-removed';
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One record of `Records`: an event, a rejection, or undefined for a kind the meter ignores. */
function readRecord(record: unknown): S3ObjectEvent | RejectedRecord | undefined {
  if (!isObject(record)) return { eventName: '?', reason: 'record is not an object' };
  const eventName = typeof record.eventName === 'string' ? record.eventName.replace(/^s3:/, '') : '';
  if (record.eventSource !== 'aws:s3') return { eventName, reason: 'eventSource is not aws:s3' };
  const s3 = record.s3;
  if (!isObject(s3) || !isObject(s3.bucket) || !isObject(s3.object)) return { eventName, reason: 's3 is missing' };
  const { bucket, object } = s3;
  const versionId = typeof object.versionId === 'string' && object.versionId !== '' ? object.versionId : undefined;
  const kind = kindOf(eventName, versionId);
  if (kind === undefined) return undefined;
  if (typeof bucket.name !== 'string' || bucket.name === '') return { eventName, reason: 'bucket name is missing' };
  if (typeof object.key !== 'string') return { eventName, reason: 'object key is missing' };
  const key = decodeEventKey(object.key);
  if (key === undefined || key === '') return { eventName, reason: 'object key is not form-encoded UTF-8' };
  const sequencer = parseSequencer(object.sequencer);
  if (sequencer === undefined) return { eventName, reason: 'sequencer is missing or not hexadecimal' };
  const eventTime = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
  if (!Number.isFinite(eventTime)) return { eventName, reason: 'eventTime is not a date' };
  let size = 0;
  if (kind === 'created') {
    if (typeof object.size !== 'number' || !Number.isSafeInteger(object.size) || object.size < 0)
      return { eventName, reason: 'size is not a whole number of bytes' };
    size = object.size;
  }
  return { eventName, kind, bucket: bucket.name, key, size, sequencer, eventTime, ...(versionId ? { versionId } : {}) };
}

/**
 * Reads one message body (S3's notification JSON). `s3:TestEvent` (sent when notifications
 * are configured) gives no events. Throws {@link MalformedNotificationError} when the body
 * is not a notification at all.
 */
export function parseNotification(body: string): ParsedNotification {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    throw new MalformedNotificationError('the body is not JSON');
  }
  if (isObject(document) && document.Event === 's3:TestEvent') return { events: [], rejected: [], ignored: 1 };
  if (!isObject(document) || !Array.isArray(document.Records))
    throw new MalformedNotificationError('the body has no Records array');
  const events: S3ObjectEvent[] = [];
  const rejected: RejectedRecord[] = [];
  let ignored = 0;
  for (const record of document.Records) {
    const read = readRecord(record);
    if (read === undefined) ignored += 1;
    else if ('reason' in read) rejected.push(read);
    else events.push(read);
  }
  return { events, rejected, ignored };
}

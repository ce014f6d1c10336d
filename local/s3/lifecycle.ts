/**
 * A lifecycle expiration the sandbox can run: the current objects under a prefix older than
 * an age are deleted by "S3" itself (straight on the emulator, not through the gate), each
 * with S3's `LifecycleExpiration:Delete` notification and an `S3.EXPIRE.OBJECT` access-log
 * line (requester `AmazonS3`), as a lifecycle rule's expiration does on AWS. The stack's
 * lifecycle only expires noncurrent versions, which the sandbox does not keep; this lets tests
 * and developers see the meter follow an expiry.
 */
import { request } from 'node:http';
import { children, parseXmlBody, type XmlNode } from '../shared/xml';
import { canonicalObjectPath } from './rebuild';
import type { ObjectEvent } from './event-notifications';
import type { CompletedS3Request } from './request-record';
import { uriEncode } from '../shared/sigv4';

/** A rule to run once. */
export interface ExpirationRule {
  /** Keys under this prefix (e.g. `alice/tmp/`). */
  readonly prefix: string;
  /** Objects last modified at least this long ago, in ms (0: all of them). */
  readonly olderThanMs: number;
}

/** What the expiration needs. */
export interface LifecycleOptions {
  readonly socketPath: string;
  readonly bucket: string;
  /** Sends the object's notification. */
  readonly emit: (event: ObjectEvent) => void;
  /** Writes its access-log line. */
  readonly logged: (request: CompletedS3Request) => void;
  readonly now?: () => number;
}

function send(socketPath: string, method: string, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ socketPath, method, path, headers: { host: 'localhost' } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const text = (node: XmlNode | undefined): string => (typeof node === 'string' ? node : '');

/** Every current object under `prefix`, with its last-modified time, from the emulator's listing. */
async function listObjects(socketPath: string, bucket: string, prefix: string) {
  const objects: { key: string; lastModified: number }[] = [];
  let token: string | undefined;
  do {
    const query = `list-type=2&prefix=${uriEncode(prefix)}${token ? `&continuation-token=${uriEncode(token)}` : ''}`;
    const answer = await send(socketPath, 'GET', `${canonicalObjectPath(bucket)}?${query}`);
    if (answer.status !== 200) throw new Error(`the emulator answered ${answer.status} to a listing`);
    const { content } = parseXmlBody(answer.body, { maxBytes: 16 * 1024 * 1024, maxDepth: 8, maxElements: 20_000 });
    for (const entry of children(content, 'Contents'))
      objects.push({
        key: text(children(entry, 'Key')[0]),
        lastModified: Date.parse(text(children(entry, 'LastModified')[0])),
      });
    token =
      text(children(content, 'IsTruncated')[0]) === 'true'
        ? text(children(content, 'NextContinuationToken')[0])
        : undefined;
  } while (token);
  return objects;
}

/** Runs one expiration; resolves with the keys it expired. */
export async function runExpiration(rule: ExpirationRule, options: LifecycleOptions): Promise<string[]> {
  const now = options.now ?? Date.now;
  const expired: string[] = [];
  for (const object of await listObjects(options.socketPath, options.bucket, rule.prefix)) {
    if (!(now() - object.lastModified >= rule.olderThanMs)) continue;
    const started = now();
    const answer = await send(options.socketPath, 'DELETE', canonicalObjectPath(options.bucket, object.key));
    if (answer.status !== 204 && answer.status !== 200) continue;
    expired.push(object.key);
    const requestId = `LIFECYCLE${expired.length.toString(16).toUpperCase().padStart(7, '0')}`;
    options.emit({
      eventName: 'LifecycleExpiration:Delete',
      bucket: options.bucket,
      key: object.key,
      principalId: 's3.amazonaws.com',
      sourceIp: 's3.amazonaws.com',
      requestId,
      time: now(),
    });
    options.logged({
      requestId,
      receivedAt: started,
      answeredAt: now(),
      remoteIp: '-',
      requester: 'AmazonS3',
      method: 'DELETE',
      requestLine: '-',
      operation: 'S3.EXPIRE.OBJECT',
      bucket: options.bucket,
      key: object.key,
      status: 0,
      bytesSent: 0,
    });
  }
  return expired;
}

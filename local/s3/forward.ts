/**
 * The S3 gate's forward stage: carries out what rebuild.ts made of an authorised request. It
 * sends the emulator the rebuilt request over its Unix socket and streams the answer back, or
 * answers itself where the emulator cannot (DeleteObjects key by key, object ACLs,
 * ListMultipartUploads). While the emulator is being restarted, requests wait for it.
 */
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { AwsAuthError } from '../shared/sigv4';
import { escapeXml } from '../shared/xml';
import { emulatorUnavailable, type Exchange } from './exchange';
import { canonicalObjectPath, type ForwardedRequest, type Rebuilt } from './rebuild';
import { listMultipartUploadsXml, OWNER_CANONICAL_ID } from './uploads';

/** Where and how the gate reaches the emulator. */
export interface Upstream {
  readonly socketPath: string;
  readonly agent: Agent;
}

/** What the forward stage needs besides the request. */
export interface ForwardTo {
  readonly upstream: Upstream;
  /** Told of every request sent on (see S3GateOptions). */
  readonly onForward?: (forwarded: ForwardedRequest) => void;
}

/**
 * While the emulator's process is being started again (emulator/supervisor.ts supervises it),
 * its socket refuses connections or is absent: nothing was delivered, so any request may be
 * sent again. The gate waits up to this long for it before answering 503.
 */
const UPSTREAM_RESTART_WAIT_MS = 10_000;

/** Carries out the rebuilt request and answers the client. */
export async function forward(exchange: Exchange, rebuilt: Rebuilt, to: ForwardTo): Promise<void> {
  switch (rebuilt.to) {
    case 'emulator':
      to.onForward?.(rebuilt.forwarded);
      sendToEmulator(exchange, rebuilt.method, rebuilt.target, rebuilt.headers, rebuilt.payload, to.upstream);
      return;
    case 'delete-each':
      to.onForward?.(rebuilt.forwarded);
      await deleteEach(exchange, rebuilt.bucket, rebuilt.keys, rebuilt.quiet, to.upstream);
      return;
    case 'list-uploads': {
      const { bucket, prefix, keyMarker, uploadIdMarker, maxUploads } = rebuilt;
      const xml = listMultipartUploadsXml(
        await rebuilt.uploads(bucket),
        { bucket, prefix, keyMarker, uploadIdMarker, maxUploads },
        OWNER_CANONICAL_ID,
      );
      exchange.res.writeHead(200, {
        'x-amz-request-id': exchange.requestId,
        'Content-Type': 'application/xml',
        'Content-Length': String(Buffer.byteLength(xml)),
        ...exchange.cors,
      });
      exchange.res.end(xml);
      return;
    }
    case 'acl':
      await answerAcl(exchange, rebuilt.answer, rebuilt.bucket, rebuilt.key, to.upstream);
      return;
  }
}

/**
 * Whether an upstream error means the request never reached a live emulator: its socket is
 * absent or refuses connections (it is being restarted), or a kept-alive connection was
 * found closed on reuse (it was idle, or its process died). Not for POST on a reused
 * connection: creating a multipart upload twice would leave a stray upload.
 */
export function notDelivered(
  error: NodeJS.ErrnoException,
  outgoing: ClientRequest,
  method: string | undefined,
): boolean {
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') return true;
  return outgoing.reusedSocket && method !== 'POST' && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
}

/** Sends the emulator the rebuilt request and streams its answer back. */
function sendToEmulator(
  exchange: Exchange,
  method: string,
  target: string,
  headers: Record<string, string>,
  payload: Buffer,
  upstream: Upstream,
): void {
  const { res, requestId } = exchange;
  const started = Date.now();
  const send = () => {
    const outgoing = httpRequest(
      { socketPath: upstream.socketPath, method, path: target, headers, agent: upstream.agent },
      (answer) => {
        const responseHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (
            value !== undefined &&
            name !== 'connection' &&
            name !== 'keep-alive' &&
            !name.startsWith('access-control-')
          )
            responseHeaders[name] = value;
        }
        responseHeaders['x-amz-request-id'] = requestId;
        exchange.record.answerHeaders = responseHeaders;
        res.writeHead(answer.statusCode ?? 502, { ...responseHeaders, ...exchange.cors });
        answer.pipe(res);
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (
        !res.headersSent &&
        notDelivered(error, outgoing, method) &&
        Date.now() - started < UPSTREAM_RESTART_WAIT_MS
      ) {
        setTimeout(send, outgoing.reusedSocket ? 0 : 100);
        return;
      }
      exchange.sendError(emulatorUnavailable(), '');
    });
    outgoing.end(payload);
  };
  send();
}

/** One bodiless request (DELETE, HEAD) for an object to the emulator; resolves with its status. */
function objectRequest(
  method: 'DELETE' | 'HEAD',
  bucket: string,
  key: string,
  upstream: Upstream,
  started = Date.now(),
): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        socketPath: upstream.socketPath,
        method,
        path: canonicalObjectPath(bucket, key),
        headers: { host: 'localhost' },
        agent: upstream.agent,
      },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 502));
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (notDelivered(error, outgoing, method) && Date.now() - started < UPSTREAM_RESTART_WAIT_MS) {
        setTimeout(
          () => objectRequest(method, bucket, key, upstream, started).then(resolve, reject),
          outgoing.reusedSocket ? 0 : 100,
        );
        return;
      }
      reject(error);
    });
    outgoing.end();
  });
}

/** DeleteObjects, once every key is authorised: deleted one by one, answered with S3's DeleteResult. */
async function deleteEach(
  exchange: Exchange,
  bucket: string,
  keys: readonly string[],
  quiet: boolean,
  upstream: Upstream,
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
  exchange.res.writeHead(200, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amz-request-id': exchange.requestId,
    ...exchange.cors,
  });
  exchange.res.end(body);
}

/**
 * ACL requests on an object, answered as a bucket with Object Ownership "bucket owner
 * enforced" answers them: reading shows full control for the bucket owner; writing an
 * owner-only ACL (checked in operations.ts) changes nothing. Both need the object to exist.
 */
async function answerAcl(
  exchange: Exchange,
  answer: 'acl-unchanged' | 'owner-acl',
  bucket: string,
  key: string,
  upstream: Upstream,
): Promise<void> {
  const status = await objectRequest('HEAD', bucket, key, upstream).catch(() => 503);
  if (status === 404) throw new AwsAuthError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
  if (status !== 200) throw emulatorUnavailable();
  const owner = `<Owner><ID>${OWNER_CANONICAL_ID}</ID></Owner>`;
  const body =
    answer === 'acl-unchanged'
      ? ''
      : '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `${owner}<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER_CANONICAL_ID}</ID></Grantee>` +
        '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>';
  exchange.res.writeHead(200, {
    'x-amz-request-id': exchange.requestId,
    'Content-Length': String(Buffer.byteLength(body)),
    ...(body ? { 'Content-Type': 'application/xml' } : {}),
    ...exchange.cors,
  });
  exchange.res.end(exchange.req.method === 'HEAD' ? undefined : body);
}

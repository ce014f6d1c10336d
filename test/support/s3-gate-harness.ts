/**
 * The S3 gate in front of the real emulator, without the rest of the sandbox: sessions are
 * made directly in the session store (as the local STS would make them), and requests are
 * written byte for byte on a socket, so a test controls every character of the
 * request-target, and signed with SigV4 as a client would sign them.
 */
import { s3rverUploadRecords } from '../../local/s3/uploads';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  bucketArn,
  renderSessionPolicy,
  renderVendingRolePolicy,
  serialiseSessionPolicy,
} from '../../lambda/credentials/policy';
import { parseUsername } from '../../lambda/accounts/username';
import { SANDBOX_BUCKET, SANDBOX_VENDING_ROLE_ARN, SANDBOX_VENDING_ROLE_ID, assumedRoleArn } from '../../local/names';
import { startS3Emulator, type S3Emulator } from '../../local/s3/emulator/supervisor';
import { startS3Gate, type ForwardedRequest, type S3Gate } from '../../local/s3/gate';
import {
  newSecretAccessKey,
  newSessionToken,
  newTemporaryAccessKeyId,
  SessionStore,
  type StsSession,
} from '../../local/sts/session-store';
import {
  canonicalRequest,
  credentialScope,
  parseQuery,
  sha256Hex,
  signingKey,
  signString,
  type SignatureClaim,
} from '../../local/shared/sigv4';
import { formatAmzDate } from '../../local/shared/sigv4-claim';

/** An HTTP answer read off the socket. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** One request, exactly as it goes on the wire. */
export interface RawRequest {
  readonly method: string;
  /** The request-target, sent as is. */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Headers added after signing (left out of SignedHeaders), as a tampering client adds them. */
  readonly unsignedHeaders?: Readonly<Record<string, string>>;
}

/** A running gate over an emulator whose storage is under `root/s3`. */
export interface GateHarness {
  readonly gate: S3Gate;
  readonly emulator: S3Emulator;
  readonly port: number;
  /** Every request the gate forwarded since the last {@link GateHarness.takeForwarded}. */
  takeForwarded(): ForwardedRequest[];
  /** A session for `username` with the TVM's own session policy. */
  sessionFor(username: string): StsSession;
  /** Sends a request signed by `session` (SigV4, header form). */
  sendSigned(session: StsSession, request: RawRequest): Promise<RawAnswer>;
  /** Writes an object straight into the emulator (not through the gate). */
  seed(key: string, body: string): Promise<void>;
  close(): Promise<void>;
}

/** Sends one request on a fresh connection and reads the whole answer. */
export function sendRaw(port: number, request: RawRequest): Promise<RawAnswer> {
  const body = request.body ?? Buffer.alloc(0);
  const headerLines = Object.entries({
    host: `127.0.0.1:${port}`,
    ...request.headers,
    'content-length': String(body.length),
    connection: 'close',
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all
        .subarray(0, split === -1 ? all.length : split)
        .toString('latin1')
        .split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let payload: Buffer = split === -1 ? Buffer.alloc(0) : all.subarray(split + 4);
      if (headers['transfer-encoding'] === 'chunked') payload = dechunk(payload);
      resolve({ status, headers, body: payload });
    });
    socket.write(
      Buffer.concat([
        Buffer.from(`${request.method} ${request.target} HTTP/1.1\r\n${headerLines}\r\n`, 'latin1'),
        body,
      ]),
    );
  });
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n', offset);
    if (end === -1) break;
    const size = Number.parseInt(data.toString('latin1', offset, end), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(end + 2, end + 2 + size));
    offset = end + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The SigV4 Authorization of a request, computed as a client computes it. */
function sign(session: StsSession, port: number, request: RawRequest, body: Buffer): Record<string, string> {
  const amzDate = formatAmzDate(Date.now());
  const headers: Record<string, string> = {
    ...request.headers,
    host: `127.0.0.1:${port}`,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': sha256Hex(body),
    'x-amz-security-token': session.sessionToken,
  };
  const signedHeaders = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .sort();
  const claim: SignatureClaim = {
    kind: 'header',
    accessKeyId: session.accessKeyId,
    scopeDate: amzDate.slice(0, 8),
    region: 'us-east-1',
    service: 's3',
    amzDate,
    signedHeaders,
    signature: '',
  };
  const queryStart = request.target.indexOf('?');
  const rawPath = queryStart === -1 ? request.target : request.target.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : request.target.slice(queryStart + 1);
  let signature = '0'.repeat(64);
  try {
    const wire = {
      method: request.method,
      rawPath,
      rawQuery,
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), [value]])),
    };
    const canonical = canonicalRequest(wire, parseQuery(rawQuery), claim, sha256Hex(body));
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope(claim), sha256Hex(canonical)].join('\n');
    signature = signString(signingKey(session.secretAccessKey, claim.scopeDate, 'us-east-1', 's3'), stringToSign);
  } catch {
    // A target no client could sign (a broken escape): sent with a signature that cannot match.
  }
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${session.accessKeyId}/${credentialScope(claim)}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
  };
}

/** Starts the emulator (objects under `root/s3`) and a gate in front of it. */
export async function startGateHarness(root: string): Promise<GateHarness> {
  mkdirSync(join(root, 's3'), { recursive: true });
  const emulator = await startS3Emulator(join(root, 's3'));
  const sessions = new SessionStore(undefined);
  let forwarded: ForwardedRequest[] = [];
  const gate = await startS3Gate({
    sessions,
    vendingRolePolicy: renderVendingRolePolicy(bucketArn(SANDBOX_BUCKET)),
    upstreamSocket: emulator.socketPath,
    ...s3rverUploadRecords(emulator.directory),
    onForward: (request) => forwarded.push(request),
  });
  const port = Number(new URL(gate.url).port);
  return {
    gate,
    emulator,
    port,
    takeForwarded: () => {
      const taken = forwarded;
      forwarded = [];
      return taken;
    },
    sessionFor: (username) => {
      const now = Date.now();
      const session: StsSession = {
        accessKeyId: newTemporaryAccessKeyId(),
        secretAccessKey: newSecretAccessKey(),
        sessionToken: newSessionToken(),
        issuedAt: now,
        expiresAt: now + 3600_000,
        roleArn: SANDBOX_VENDING_ROLE_ARN,
        roleSessionName: username,
        assumedRoleArn: assumedRoleArn(username),
        assumedRoleId: `${SANDBOX_VENDING_ROLE_ID}:${username}`,
        sourceIdentity: username,
        sessionPolicy: serialiseSessionPolicy(renderSessionPolicy(bucketArn(SANDBOX_BUCKET), parseUsername(username))),
        tags: { username },
      };
      sessions.add(session);
      return session;
    },
    sendSigned: (session, request) => {
      const body = request.body ?? Buffer.alloc(0);
      return sendRaw(port, {
        ...request,
        headers: { ...sign(session, port, request, body), ...request.unsignedHeaders },
        body,
      });
    },
    seed: (key, body) =>
      new Promise((resolve, reject) => {
        const path = `/${SANDBOX_BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`;
        const put = request(
          {
            socketPath: emulator.socketPath,
            method: 'PUT',
            path,
            headers: { host: 'localhost', 'content-length': String(Buffer.byteLength(body)) },
          },
          (answer) => {
            answer.resume();
            answer.on('end', () =>
              answer.statusCode === 200
                ? resolve()
                : reject(new Error(`seeding ${key}: the emulator answered ${answer.statusCode}`)),
            );
          },
        );
        put.on('error', reject);
        put.end(body);
      }),
    close: async () => {
      await gate.close();
      await emulator.close();
    },
  };
}

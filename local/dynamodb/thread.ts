/**
 * dynalite in a worker thread. It does LevelDB reads and request validation for every call,
 * about a quarter of the CPU of a /token request in a profile; on its own thread that work
 * uses the second core instead of queueing on the handlers' event loop. It listens on
 * 127.0.0.1 only and answers only requests SigV4-signed with a key it trusts (the functions',
 * the operator's): a user's vended credentials get AccessDeniedException, as their session
 * policy denies dynamodb:* on AWS, and so does the functions' key for an action or a table
 * their roles are not granted (table-grant.ts). Stopping it closes the LevelDB before the
 * thread ends.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LongTermKey } from '../secrets';
import type { TableGrant } from './table-grant';

/** A dynalite server running on its own thread. */
export interface DynamoDbThread {
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and the LevelDB, then ends the thread. */
  stop(): Promise<void>;
}

// Plain CommonJS that installs tsx's loader for the authentication module, so the thread starts
// the same under tsx, jest and node.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.tsxApi).register();
const { Readable } = require('node:stream');
const { authenticateLongTermKey, ServiceAuthError } = require(workerData.authModule);
const { tableGrantRefusal } = require(workerData.grantModule);
const dynalite = require(workerData.dynalitePath);
const server = dynalite({ path: workerData.path, createTableMs: 0 });
// dynalite checks no signature: every request is authenticated first, then replayed to it.
const [serve] = server.listeners('request');
server.removeAllListeners('request');
const ERRORS = {
  missing: 'MissingAuthenticationTokenException',
  malformed: 'IncompleteSignatureException',
  'temporary-key': 'AccessDeniedException',
  'unknown-key': 'UnrecognizedClientException',
  signature: 'InvalidSignatureException',
};
server.on('request', (req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= 16 * 1024 * 1024) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > 16 * 1024 * 1024) {
      res.writeHead(413, { 'Content-Length': '0' });
      res.end();
      return;
    }
    const body = Buffer.concat(chunks);
    const refuse = (type, message) => {
      const answer = JSON.stringify({ __type: 'com.amazon.coral.service#' + type, message });
      res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(answer) });
      res.end(answer);
    };
    let key;
    try {
      key = authenticateLongTermKey(req, body, 'dynamodb', workerData.keys, Date.now());
    } catch (error) {
      if (!(error instanceof ServiceAuthError)) throw error;
      refuse(ERRORS[error.reason], error.message);
      return;
    }
    // The functions' key may do what their roles may (table-grant.ts); the operator's, anything.
    const refusal = key.grant ? tableGrantRefusal(req.headers['x-amz-target'], body, key.grant) : undefined;
    if (refusal) {
      refuse('AccessDeniedException', refusal);
      return;
    }
    const replay = Readable.from([body]);
    Object.assign(replay, { headers: req.headers, method: req.method, url: req.url, socket: req.socket });
    serve(replay, res);
  });
});
server.once('error', (error) => parentPort.postMessage({ type: 'error', code: error.code, message: error.message }));
// A LevelDB failure (e.g. the folder's lock taken by another process) must not crash the sandbox's main thread.
process.on('uncaughtException', (error) => console.error('[sandbox dynamodb] ' + error.message));
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  server.close((error) => {
    parentPort.postMessage({ type: 'stopped', message: error ? error.message : undefined });
    parentPort.close();
  });
  server.closeAllConnections();
});
`;

type WorkerMessage =
  | { type: 'listening'; port: number }
  | { type: 'error'; code?: string; message: string }
  | { type: 'stopped'; message?: string };

/** A key DynamoDB trusts, and what it may do there (everything when no grant is given). */
export interface TrustedKey extends LongTermKey {
  readonly grant?: TableGrant;
}

/** Starts dynalite on `port` (0 = any free port) with its LevelDB at `path`, answering requests signed with `keys` only, each within its grant. */
export function startDynamoDbThread(path: string, port: number, keys: readonly TrustedKey[]): Promise<DynamoDbThread> {
  const workerData = {
    dynalitePath: require.resolve('dynalite'),
    tsxApi: require.resolve('tsx/cjs/api'),
    authModule: join(__dirname, '../shared/service-auth.ts'),
    grantModule: join(__dirname, 'table-grant.ts'),
    path,
    port,
    keys: keys.map(({ accessKeyId, secretAccessKey, grant }) => ({
      accessKeyId,
      secretAccessKey,
      ...(grant ? { grant } : {}),
    })),
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  return new Promise((resolve, reject) => {
    const onStartFailure = (error: Error) => reject(error);
    worker.once('error', onStartFailure);
    worker.once('message', (message: WorkerMessage) => {
      worker.off('error', onStartFailure);
      worker.on('error', (error) => console.error(`[sandbox dynamodb] ${error.message}`));
      if (message.type !== 'listening') {
        void worker.terminate();
        reject(
          Object.assign(new Error(`dynalite could not start: ${message.message ?? 'unknown error'}`), {
            code: message.type === 'error' ? message.code : undefined,
          }),
        );
        return;
      }
      resolve({
        endpoint: `http://127.0.0.1:${message.port}`,
        port: message.port,
        stop: () =>
          new Promise<void>((done, fail) => {
            worker.once('message', (reply: WorkerMessage) => {
              if (reply.type === 'stopped' && reply.message)
                fail(new Error(`dynalite did not close cleanly: ${reply.message}`));
            });
            worker.once('exit', () => done());
            worker.postMessage('stop');
          }),
      });
    });
  });
}

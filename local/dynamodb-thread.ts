/**
 * dynalite in a worker thread. It does LevelDB reads and request validation for every call,
 * about a quarter of the CPU of a /token request in a profile; on its own thread that work
 * uses the second core instead of queueing on the handlers' event loop. It still listens on
 * 127.0.0.1 only, and stopping it closes the LevelDB before the thread ends.
 */
import { Worker } from 'node:worker_threads';

/** A dynalite server running on its own thread. */
export interface DynamoDbThread {
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and the LevelDB, then ends the thread. */
  stop(): Promise<void>;
}

// Plain CommonJS so the thread needs no TypeScript loader (under tsx, jest or node alike).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalitePath);
const server = dynalite({ path: workerData.path, createTableMs: 0 });
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

/** Starts dynalite on `port` (0 = any free port) with its LevelDB at `path`. */
export function startDynamoDbThread(path: string, port: number): Promise<DynamoDbThread> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dynalitePath: require.resolve('dynalite'), path, port } });
  return new Promise((resolve, reject) => {
    const onStartFailure = (error: Error) => reject(error);
    worker.once('error', onStartFailure);
    worker.once('message', (message: WorkerMessage) => {
      worker.off('error', onStartFailure);
      worker.on('error', (error) => console.error(`[sandbox dynamodb] ${error.message}`));
      if (message.type !== 'listening') {
        void worker.terminate();
        reject(Object.assign(new Error(`dynalite could not start: ${message.message ?? 'unknown error'}`), { code: message.type === 'error' ? message.code : undefined }));
        return;
      }
      resolve({
        endpoint: `http://127.0.0.1:${message.port}`,
        port: message.port,
        stop: () =>
          new Promise<void>((done, fail) => {
            worker.once('message', (reply: WorkerMessage) => {
              if (reply.type === 'stopped' && reply.message) fail(new Error(`dynalite did not close cleanly: ${reply.message}`));
            });
            worker.once('exit', () => done());
            worker.postMessage('stop');
          }),
      });
    });
  });
}

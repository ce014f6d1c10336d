/**
 * The gate's XML request bodies, read on a worker thread. fast-xml-parser is linear, but the
 * largest valid body (a CompleteMultipartUpload of 10,000 parts, about 1.3 MB) still takes
 * around a second on a loaded machine; on the gate's event loop that second would hold every
 * other user's request. Small bodies (most tagging and ACL bodies) are read in place, where a
 * read costs a few milliseconds and a thread hop would cost more. One thread, started on first
 * use, reads the rest in turn; past a few bodies waiting, a body is refused (the gate's 503
 * SlowDown) rather than queued, so a user sending large bodies back to back slows only himself.
 * If the thread dies, the bodies it held are refused the same way and the next body starts a
 * new one.
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AwsAuthError } from '../shared/sigv4';
import { XML_BODY_READERS, type XmlBodyKind, type XmlBodyResults } from './xml-bodies';

/** Bodies up to this size are read on the caller's thread (a few milliseconds at most). */
export const XML_INLINE_MAX_BYTES = 16 * 1024;
/** Bodies at the thread at once (being read or waiting) before the next is refused. */
export const XML_THREAD_MAX_QUEUED = 4;

/** Reads XML bodies without holding the caller's event loop. */
export interface XmlReader {
  /** What {@link XML_BODY_READERS} gives for this body; rejects with S3's error (or `busy()`'s). */
  read<K extends XmlBodyKind>(kind: K, body: Buffer): Promise<XmlBodyResults[K]>;
  /** Ends the thread; bodies still being read are refused. */
  stop(): Promise<void>;
}

/** Options of {@link startXmlReader}. */
export interface XmlReaderOptions {
  /** The bucket owner's canonical id (ACL bodies may grant only to it). */
  readonly ownerCanonicalId: string;
  /** The error for a body refused because the thread is full or failed (the gate's SlowDown). */
  readonly busy: () => Error;
  /** Overrides {@link XML_INLINE_MAX_BYTES} (tests). */
  readonly inlineMaxBytes?: number;
}

// Plain CommonJS that installs tsx's loader, so the thread starts the same under tsx, jest and node.
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.tsxApi).register();
const { XML_BODY_READERS } = require(workerData.bodiesModule);
parentPort.on('message', ({ id, kind, body }) => {
  try {
    const value = XML_BODY_READERS[kind](Buffer.from(body.buffer, body.byteOffset, body.byteLength), workerData.owner);
    parentPort.postMessage({ id, value });
  } catch (error) {
    // S3's errors carry their answer; anything else is the reader's bug, refused as busy.
    const s3 = error && typeof error.status === 'number' && typeof error.code === 'string';
    parentPort.postMessage({ id, error: s3 ? { status: error.status, code: error.code, message: error.message, details: error.details } : undefined, failure: s3 ? undefined : String(error) });
  }
});
`;

interface Answer {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: { status: number; code: string; message: string; details: Record<string, string> };
  readonly failure?: string;
}

interface Waiting {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** A reader of XML bodies; its thread starts on the first body too large to read in place. */
export function startXmlReader(options: XmlReaderOptions): XmlReader {
  const inlineMaxBytes = options.inlineMaxBytes ?? XML_INLINE_MAX_BYTES;
  const waiting = new Map<number, Waiting>();
  let worker: Worker | undefined;
  let nextId = 1;

  const failAll = () => {
    for (const { reject } of waiting.values()) reject(options.busy());
    waiting.clear();
  };
  const thread = (): Worker => {
    if (worker) return worker;
    const started = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        tsxApi: require.resolve('tsx/cjs/api'),
        bodiesModule: resolve(__dirname, 'xml-bodies.ts'),
        owner: options.ownerCanonicalId,
      },
    });
    // Idle, it keeps no process alive; while it holds a body, the caller waits on it anyway.
    started.unref();
    started.on('message', (answer: Answer) => {
      const found = waiting.get(answer.id);
      if (!found) return;
      waiting.delete(answer.id);
      if (answer.error)
        found.reject(
          new AwsAuthError(answer.error.status, answer.error.code, answer.error.message, answer.error.details),
        );
      else if (answer.failure !== undefined) {
        console.error(`[sandbox s3 gate] the XML reader failed: ${answer.failure}`);
        found.reject(options.busy());
      } else found.resolve(answer.value);
    });
    started.on('error', (error) => console.error(`[sandbox s3 gate] the XML thread crashed: ${error.message}`));
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      failAll();
    });
    worker = started;
    return started;
  };

  return {
    read<K extends XmlBodyKind>(kind: K, body: Buffer): Promise<XmlBodyResults[K]> {
      if (body.length <= inlineMaxBytes) {
        try {
          return Promise.resolve(XML_BODY_READERS[kind](body, options.ownerCanonicalId));
        } catch (error) {
          return Promise.reject(error as Error);
        }
      }
      if (waiting.size >= XML_THREAD_MAX_QUEUED) return Promise.reject(options.busy());
      const id = nextId++;
      return new Promise<XmlBodyResults[K]>((resolveRead, rejectRead) => {
        waiting.set(id, { resolve: resolveRead as (value: unknown) => void, reject: rejectRead });
        // A copy of exactly the body's bytes (a Buffer may be a view on a larger pool), handed over.
        const bytes = new Uint8Array(body);
        thread().postMessage({ id, kind, body: bytes }, [bytes.buffer]);
      });
    },
    async stop() {
      const running = worker;
      worker = undefined;
      failAll();
      if (running) await running.terminate();
    },
  };
}

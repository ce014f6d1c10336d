/**
 * The S3 emulator's own process (started by supervisor.ts with `--openssl-legacy-provider`
 * and tsx's loader): @20minutes/s3rver on a Unix socket, over {@link SafeStore}, with the
 * operations s3rver gets wrong or lacks answered here first (operations.ts).
 *
 * Why a child process: s3rver builds ListObjectsV2 continuation tokens with DES, which Node's
 * OpenSSL 3 offers only from its legacy provider (a process-wide switch). Only this process
 * turns it on; the tokens are opaque bookmarks, not protection.
 */
import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SafeStore } from './store';
import { answerOwnOperation } from './operations';

interface ChildConfig {
  readonly directory: string;
  readonly bucket: string;
  /** More buckets to create (the sandbox's log bucket). */
  readonly otherBuckets?: readonly string[];
  readonly socketPath: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const send = (message: { type: string; message?: string }) => process.send?.(message);

/* eslint-disable @typescript-eslint/no-require-imports -- s3rver and he are CommonJS without types */
// s3rver escapes XML text with he.escape and then its XML builder escapes it again, so a key
// with & < > ' or a backtick would be listed wrong (&amp;#x27; for '). One escape is enough.
const he = require(require.resolve('he', { paths: [dirname(require.resolve('@20minutes/s3rver'))] })) as {
  escape: (text: string) => string;
};
he.escape = (text) => text;
const S3rver = require('@20minutes/s3rver') as new (
  options: Record<string, unknown>,
) => {
  store: unknown;
  context: { store: unknown };
  configureBuckets(): Promise<void>;
  callback(): (req: unknown, res: unknown) => void;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const s3rver = new S3rver({
  silent: true,
  directory: config.directory,
  vhostBuckets: false,
  configureBuckets: [config.bucket, ...(config.otherBuckets ?? [])].map((name) => ({ name, configs: [] })),
});
const store = new SafeStore(config.directory);
s3rver.store = s3rver.context.store = store;

s3rver.configureBuckets().then(
  () => {
    const s3rverHandler = s3rver.callback();
    const server = createServer((req, res) => {
      answerOwnOperation(store, req, res).then(
        (answered) => {
          if (!answered) s3rverHandler(req, res);
        },
        (error: unknown) => {
          console.error('[sandbox s3] unexpected error', error);
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/xml' });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
          );
        },
      );
    });
    // A socket left by a process that died: this one takes its place.
    rmSync(config.socketPath, { force: true });
    server.listen(config.socketPath, () => send({ type: 'listening' }));
    process.on('message', (message) => {
      if (message !== 'stop') return;
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  },
  (error: Error) => {
    send({ type: 'error', message: error.message });
    process.exit(1);
  },
);
// The sandbox is gone (even killed): the emulator goes with it.
process.on('disconnect', () => process.exit(0));
// Ctrl-C (or a SIGTERM to the process group) reaches this process together with the sandbox;
// dying of it would race the sandbox's own stop and look like a crash to the supervisor, which
// would start it again. The sandbox stops it with 'stop', or by disconnecting when it dies.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

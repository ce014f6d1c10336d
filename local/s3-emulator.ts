/**
 * The S3 emulator behind the gate: @20minutes/s3rver (the maintained fork of s3rver, Koa 3,
 * with UploadPartCopy), in a child process of its own, serving HTTP on a Unix socket inside a
 * fresh owner-only (0700) folder. It listens on no TCP port, so nothing on the machine but
 * this process (the gate, the operator's path through the gate) can reach it.
 *
 * Why a child process: the emulator builds ListObjectsV2 continuation tokens with DES, which
 * Node's OpenSSL 3 offers only from its legacy provider (`--openssl-legacy-provider`, a
 * process-wide switch). Only the emulator's process turns it on; the tokens are opaque
 * bookmarks, not protection. The child also fixes the emulator's double escaping of XML text.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_BUCKET } from './names';

// Plain CommonJS, run with `node -e`, so the child needs no TypeScript loader.
const CHILD_SOURCE = `
const http = require('node:http');
const config = JSON.parse(process.argv[1]);
// The emulator escapes XML text with he.escape and then its XML builder escapes it again, so a
// key with & < > ' or a backtick would be listed wrong (&amp;#x27; for '). One escape is enough.
const he = require(require.resolve('he', { paths: [require('node:path').dirname(config.modulePath)] }));
he.escape = (text) => text;
const S3rver = require(config.modulePath);
const s3rver = new S3rver({ silent: true, directory: config.directory, vhostBuckets: false, configureBuckets: [{ name: config.bucket, configs: [] }] });
s3rver.configureBuckets().then(() => {
  const server = http.createServer(s3rver.callback());
  server.listen(config.socketPath, () => process.send({ type: 'listening' }));
  process.on('message', (message) => {
    if (message !== 'stop') return;
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}, (error) => {
  process.send({ type: 'error', message: error.message });
  process.exit(1);
});
// The sandbox is gone (even killed): the emulator goes with it.
process.on('disconnect', () => process.exit(0));
`;

/** A running emulator, reachable at `socketPath` only. */
export interface S3Emulator {
  /** The Unix socket, inside an owner-only folder. */
  readonly socketPath: string;
  /** Where objects are stored. */
  readonly directory: string;
  close(): Promise<void>;
}

/** Starts the emulator with the sandbox's bucket, objects under `directory`. */
export async function startS3Emulator(directory: string): Promise<S3Emulator> {
  // mkdtemp creates the folder 0700: no other user can reach a socket inside it.
  const socketFolder = mkdtempSync(join(tmpdir(), 'tvm-s3-'));
  const socketPath = join(socketFolder, 's3.sock');
  const config = { modulePath: require.resolve('@20minutes/s3rver'), directory, bucket: SANDBOX_BUCKET, socketPath };
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SOURCE, JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`The S3 emulator exited on start (code ${code}).`));
      child.once('error', reject);
      child.once('exit', onExit);
      child.once('message', (message: { type: string; message?: string }) => {
        child.off('exit', onExit);
        child.off('error', reject);
        if (message.type === 'listening') resolve();
        else reject(new Error(`The S3 emulator could not start: ${message.message ?? 'unknown error'}`));
      });
    });
  } catch (error) {
    child.kill();
    rmSync(socketFolder, { recursive: true, force: true });
    throw error;
  }
  child.on('error', (error) => console.error(`[sandbox s3] ${error.message}`));
  return {
    socketPath,
    directory,
    close: async () => {
      if (child.connected) child.send('stop');
      else child.kill();
      await exited;
      rmSync(socketFolder, { recursive: true, force: true });
    },
  };
}

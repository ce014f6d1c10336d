/**
 * The S3 emulator behind the gate: @20minutes/s3rver (the maintained fork of s3rver, Koa 3,
 * with UploadPartCopy) over a store made safe for concurrent requests, in a child process of
 * its own (child.ts), serving HTTP on a Unix socket inside a fresh owner-only
 * (0700) folder. It listens on no TCP port, so nothing on the machine but this process (the
 * gate, the operator's path through the gate) can reach it.
 *
 * Supervised: if the child dies (it should not: nothing a request carries crashes it, but a
 * bug or the kernel may kill it), it is started again on the same socket and the event is
 * logged. Objects live on disk and every write is committed by renames, so a death loses no
 * acknowledged write; the gate waits for the new child rather than failing requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_BUCKET } from '../../names';

/** A running emulator, reachable at `socketPath` only. */
export interface S3Emulator {
  /** The Unix socket, inside an owner-only folder. */
  readonly socketPath: string;
  /** Where objects are stored. */
  readonly directory: string;
  /** The running child's process id (tests kill it to prove the supervision). */
  readonly pid: () => number | undefined;
  /** How many times the child was started again after dying. */
  readonly restarts: () => number;
  close(): Promise<void>;
}

/** Restarts within this window count towards {@link MAX_QUICK_RESTARTS}. */
const RESTART_WINDOW_MS = 60_000;
/** A child that dies this often within a minute is left dead (and said so) rather than restarted forever. */
const MAX_QUICK_RESTARTS = 10;

/** Starts one child and resolves once it listens. */
async function startChild(config: {
  directory: string;
  bucket: string;
  otherBuckets?: readonly string[];
  socketPath: string;
}): Promise<ChildProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--require',
      require.resolve('tsx/cjs'),
      join(__dirname, 'child.ts'),
      JSON.stringify(config),
    ],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { PATH: process.env.PATH ?? '' } },
  );
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
    child.kill('SIGKILL');
    throw error;
  }
  child.on('error', (error) => console.error(`[sandbox s3] ${error.message}`));
  return child;
}

/** Starts the emulator with the sandbox's bucket (and `otherBuckets`, e.g. the log bucket), objects under `directory`. */
export async function startS3Emulator(directory: string, otherBuckets: readonly string[] = []): Promise<S3Emulator> {
  // mkdtemp creates the folder 0700: no other user can reach a socket inside it.
  const socketFolder = mkdtempSync(join(tmpdir(), 'tvm-s3-'));
  const socketPath = join(socketFolder, 's3.sock');
  const config = { directory, bucket: SANDBOX_BUCKET, otherBuckets, socketPath };
  let child: ChildProcess;
  try {
    child = await startChild(config);
  } catch (error) {
    rmSync(socketFolder, { recursive: true, force: true });
    throw error;
  }
  let closing = false;
  let restarts = 0;
  const recentDeaths: number[] = [];
  let exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A restart under way when the sandbox closes: close waits for it, then stops that child.
  let restarting: Promise<void> = Promise.resolve();

  const supervise = (running: ChildProcess) => {
    running.once('exit', (code, signal) => {
      if (closing) return;
      const now = Date.now();
      recentDeaths.push(now);
      while (recentDeaths.length > 0 && (recentDeaths[0] ?? now) < now - RESTART_WINDOW_MS) recentDeaths.shift();
      if (recentDeaths.length > MAX_QUICK_RESTARTS) {
        console.error(
          `[sandbox s3] the S3 emulator died ${recentDeaths.length} times in a minute (last: code ${code}, signal ${signal}); not restarting it. S3 answers 503 until the sandbox restarts.`,
        );
        return;
      }
      console.error(
        `[sandbox s3] the S3 emulator (pid ${running.pid}) died (code ${code}, signal ${signal}); starting it again. Stored objects are kept.`,
      );
      const restart = (attempt: number): Promise<void> =>
        startChild(config).then(
          async (started) => {
            if (closing) {
              const stopped = new Promise<void>((resolve) => started.once('exit', () => resolve()));
              started.kill();
              await stopped;
              return;
            }
            child = started;
            restarts += 1;
            exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
            supervise(started);
            console.error(`[sandbox s3] the S3 emulator is back (pid ${started.pid}).`);
          },
          async (error: Error) => {
            if (closing) return;
            console.error(`[sandbox s3] restarting the S3 emulator failed: ${error.message}`);
            if (attempt < 5) {
              await new Promise((wait) => setTimeout(wait, 200 * 2 ** attempt));
              await restart(attempt + 1);
            }
          },
        );
      restarting = restart(0);
    });
  };
  supervise(child);

  return {
    socketPath,
    directory,
    pid: () => child.pid,
    restarts: () => restarts,
    close: async () => {
      closing = true;
      await restarting;
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send('stop');
        else child.kill();
        await exited;
      }
      rmSync(socketFolder, { recursive: true, force: true });
    },
  };
}

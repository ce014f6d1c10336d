/**
 * s3rver, the S3 emulator behind the gate, started the one way the sandbox and its benchmark
 * need: loopback only, path-style, with the file bucket, storing objects under `directory`.
 */
import type { AddressInfo } from 'node:net';
import { SANDBOX_BUCKET } from './names';

// s3rver ships no types; this is the part of its API the sandbox uses.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  vhostBuckets: boolean;
  configureBuckets: { name: string; configs: string[] }[];
}) => S3rverInstance;

/** A running s3rver on a free loopback port. */
export interface S3Emulator {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 (any free port) with the sandbox's bucket, objects under `directory`. */
export async function startS3Emulator(directory: string): Promise<S3Emulator> {
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: SANDBOX_BUCKET, configs: [] }],
  });
  const { port } = await s3rver.run();
  return { port, close: () => s3rver.close() };
}

/**
 * Writes an object straight into the emulator, as S3 itself writes into a bucket (the sandbox's
 * access-log delivery): over the emulator's Unix socket, past the gate, which only users'
 * and the operator's requests go through.
 */
import { request } from 'node:http';
import { canonicalObjectPath } from './rebuild';

/** How long a write waits for an emulator being restarted. */
const RETRY_FOR_MS = 10_000;

/** Puts `body` at `bucket/key` in the emulator listening on `socketPath`; rejects on any answer but 200. */
export function putIntoEmulator(socketPath: string, bucket: string, key: string, body: Buffer): Promise<void> {
  const started = Date.now();
  const attempt = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const outgoing = request(
        {
          socketPath,
          method: 'PUT',
          path: canonicalObjectPath(bucket, key),
          headers: { host: 'localhost', 'content-length': String(body.length), 'content-type': 'text/plain' },
        },
        (answer) => {
          answer.resume();
          answer.on('end', () =>
            answer.statusCode === 200 ? resolve() : reject(new Error(`the emulator answered ${answer.statusCode}`)),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    }).catch(async (error: unknown) => {
      if (Date.now() - started > RETRY_FOR_MS) throw error;
      await new Promise((wait) => setTimeout(wait, 200));
      return attempt();
    });
  return attempt();
}

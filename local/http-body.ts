import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body up to `limit` bytes. Past the limit it stops collecting, drains the
 * rest (so the server can still answer) and rejects with the error `tooLarge` makes, in the
 * calling service's own shape.
 */
export function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

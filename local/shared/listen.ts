/** Listening on loopback only: every sandbox service (API, S3 gate, STS, IAM) binds 127.0.0.1. */
import type { Server } from 'node:http';

/** Listens on 127.0.0.1 only and resolves with the bound port; rejects on EADDRINUSE and the like. */
export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

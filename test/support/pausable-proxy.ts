/**
 * A TCP proxy on loopback that a test can take down and bring back, as a phone loses and
 * regains its network: `down()` closes the listening socket (new connections are refused)
 * and resets every open connection; `up()` listens again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';

export interface PausableProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the proxy. `rewriteHost`: put the target's own host in every request's Host header
 * line, as an HTTP reverse proxy does (the sandbox API answers only its own Host names);
 * leave it off for SigV4-signed traffic, whose signature covers the Host the client sent.
 */
export async function startPausableProxy(
  target: string,
  options: { rewriteHost?: boolean } = {},
): Promise<PausableProxy> {
  const { hostname, port: targetPort, host: targetHost } = new URL(target);
  const sockets = new Set<Socket>();
  let accepted = 0;
  let server: Server | undefined;
  let port = 0;

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = createServer((client) => {
        accepted++;
        const upstream = createConnection({ host: hostname, port: Number(targetPort) });
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        const toUpstream = options.rewriteHost
          ? new Transform({
              transform(chunk: Buffer, _encoding, done) {
                // Header lines only ever start a line; the API's JSON bodies hold no line breaks.
                done(
                  null,
                  Buffer.from(
                    chunk.toString('latin1').replace(/^host: [^\r\n]*\r$/gim, `host: ${targetHost}\r`),
                    'latin1',
                  ),
                );
              },
            })
          : undefined;
        (toUpstream ? client.pipe(toUpstream) : client).pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        const address = next.address();
        port = typeof address === 'object' && address ? address.port : port;
        server = next;
        resolve();
      });
    });

  const down = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    // Not resetAndDestroy (a TCP RST): on Node 24 a socket reset with a write still pending
    // leaves a request libuv never completes, and the test process then spins at exit.
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    down,
    up: listen,
    stop: down,
  };
}

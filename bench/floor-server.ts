/**
 * Serves the floor handlers over HTTP on 127.0.0.1:FLOOR_PORT, `/floor` (floor-handler.ts) and
 * `/floor-write` (floor-writing-handler.ts, the same and one PutItem), on function
 * threads as the sandbox serves its routes (local/function-threads.ts, the same number of
 * threads), with the environment in FLOOR_ENVIRONMENT (JSON): the sandbox's own backends.
 * Run as a child process by bench/run.ts; prints "floor ready" once it listens.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { startFunctionThreads } from '../local/function-threads';

async function main(): Promise<void> {
  const environment = JSON.parse(process.env.FLOOR_ENVIRONMENT ?? '{}') as Record<string, string>;
  const functions = await startFunctionThreads({
    functions: [
      { name: 'floor', file: join(__dirname, 'floor-handler.ts') },
      { name: 'floor-write', file: join(__dirname, 'floor-writing-handler.ts') },
    ],
    environment,
    threads: Number(process.env.FLOOR_THREADS ?? 2),
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const requestId = randomUUID();
      const event = { httpMethod: request.method, path: request.url, headers: request.headers, body: null, requestContext: { requestId } };
      functions.invoke(request.url === '/floor-write' ? 'floor-write' : 'floor', event as never, requestId).then(
        (result) => response.writeHead(result.statusCode, { 'content-type': 'application/json' }).end(result.body),
        () => response.writeHead(502).end(),
      );
    });
  });
  server.listen(Number(process.env.FLOOR_PORT), '127.0.0.1', () => console.log('floor ready'));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void functions.stop().then(() => process.exit(0));
  });
}

void main();

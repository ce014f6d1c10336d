/**
 * Serves, over HTTP on 127.0.0.1:FLOOR_PORT, the floor handlers, `/floor` (floor-handler.ts)
 * and `/floor-write` (floor-writing-handler.ts, the same and one PutItem), and `/token`, the
 * TVM's own token handler, on function threads as the sandbox serves its routes
 * (local/api-gateway/function-threads.ts, the same number of threads), with the environment in
 * FLOOR_ENVIRONMENT (JSON): the sandbox's own backends. All three get the same front: the
 * sandbox's proxy event (buildProxyEvent), and none of its routing, validation or CORS. So
 * `/token` here is the handler's own cost, next to the floors', without the API adapter.
 * Run as a child process by bench/token-floor.ts; prints "floor ready" once it listens.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ROUTES, type RouteDefinition } from '../lambda/contract/routes';
import { buildProxyEvent } from '../local/api-gateway/proxy-event';
import { startFunctionThreads } from '../local/api-gateway/function-threads';

const TOKEN_ROUTE = ROUTES.find((route) => route.name === 'token') as RouteDefinition;

async function main(): Promise<void> {
  const environment = JSON.parse(process.env.FLOOR_ENVIRONMENT ?? '{}') as Record<string, string>;
  const functions = await startFunctionThreads({
    functions: [
      { name: 'floor', file: join(__dirname, 'floor-handler.ts') },
      { name: 'floor-write', file: join(__dirname, 'floor-writing-handler.ts') },
      { name: 'token', file: join(__dirname, '..', TOKEN_ROUTE.entry) },
    ],
    environment,
    threads: Number(process.env.FLOOR_THREADS ?? 2),
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const requestId = randomUUID();
      const event = buildProxyEvent(request, TOKEN_ROUTE, null, requestId);
      const name = request.url === '/token' ? 'token' : request.url === '/floor-write' ? 'floor-write' : 'floor';
      functions.invoke(name, event, requestId).then(
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

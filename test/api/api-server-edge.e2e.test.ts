/**
 * The sandbox API's edge (local/api-gateway/api-server.ts), over real HTTP with one stand-in route: it
 * answers only its own Host names (so a web page that rebinds a name to 127.0.0.1 cannot
 * drive it), its CORS grants only its own origins by default, and a request body that stalls
 * or trickles is refused within seconds with its connection closed.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { createApiServer, type LoadedRoute } from '../../local/api-gateway/api-server';
import type { RouteDefinition } from '../../lambda/contract/routes';

let server: Server;
let port: number;
const invoked: APIGatewayProxyEvent[] = [];

const route = { name: 'echo', method: 'POST', path: '/echo', entry: 'unused' } as unknown as RouteDefinition;
const routes: LoadedRoute[] = [
  {
    route,
    invoke: async (event) => {
      invoked.push(event);
      return { statusCode: 200, body: JSON.stringify({ got: event.body }) };
    },
  },
];

beforeAll(async () => {
  server = createApiServer({ routes, bodyRate: { windowMs: 300, minBytesPerWindow: 64 } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One raw request on its own connection; resolves with the status line, the headers and the body, and when the server closed it. */
function raw(
  head: string,
  body = '',
  keepOpenMs = 0,
): Promise<{ status: number; text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        text,
        closedAfterMs: Date.now() - started,
      });
    });
    socket.write(head + body);
    if (keepOpenMs === 0) socket.end();
    else setTimeout(() => socket.destroy(), keepOpenMs).unref();
    socket.setTimeout(20_000, () => reject(new Error('no answer')));
  });
}

const post = (host: string, extra = '') =>
  `POST /echo HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n${extra}\r\n`;

describe('Host names', () => {
  test.each(['evil.example', 'evil.example:{port}', 'attacker.test:80', '127.0.0.2', '[::1]', ''])(
    'Host %j is refused with a 4xx in the TVM error shape, and no function runs',
    async (host) => {
      const before = invoked.length;
      const answer = await raw(post(host.replace('{port}', String(port))), '{}');
      expect(answer.status).toBe(421);
      expect(JSON.parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4))).toEqual({
        error: { code: 'invalid_request', message: expect.stringContaining('127.0.0.1') },
      });
      expect(invoked.length).toBe(before);
    },
  );

  test('the loopback address and localhost, with the port, are served', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      const answer = await raw(post(host), '{}');
      expect(answer.status).toBe(200);
    }
  });

  test('the right name on another port is refused', async () => {
    expect((await raw(post(`127.0.0.1:${port + 1}`), '{}')).status).toBe(421);
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`http://127.0.0.1:${port}/echo`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
    });

  test("the sandbox's own origins are granted by default", async () => {
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const answer = await preflight(origin);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  test('any other origin is granted nothing, and * is never sent', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, 'null']) {
      const answer = await preflight(origin);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('request bodies', () => {
  test('a stalled body is refused 408 within seconds and its connection closed', async () => {
    const answer = await raw(
      `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
      '{"a":',
      30_000,
    );
    expect(answer.status).toBe(408);
    expect(answer.closedAfterMs).toBeLessThan(5_000);
  });

  test('a trickling body (a few bytes a window) is refused the same way', async () => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.write(
      `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
    );
    const drip = setInterval(() => socket.write('x'), 50);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    clearInterval(drip);
    expect(Buffer.concat(chunks).toString('utf8')).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a body that arrives at once is served', async () => {
    const answer = await raw(post(`127.0.0.1:${port}`), '{}');
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('{"got":"{}"}');
  });
});

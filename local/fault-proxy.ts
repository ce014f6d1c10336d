/**
 * A fault-injecting HTTP proxy between the handlers and a local AWS stand-in (dynalite or the
 * local STS). It forwards, or answers the way the real service does when it is down, slow or
 * throttling, so tests can prove the TVM answers 503 and recovers. Loopback only.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does with one request:
 * - `pass`: forward it;
 * - `fail`: the service's 500 error;
 * - `throttle`: the service's throttling error (DynamoDB ProvisionedThroughputExceeded, STS Throttling);
 * - `down`: drop the connection without answering, as a stopped service would;
 * - `slow`: forward it after `delayMs`.
 */
export type FaultMode = 'pass' | 'fail' | 'throttle' | 'down' | 'slow';

/** Decides per request, from the operation (`PutItem`, `AssumeRole`) and the raw body. */
export type FaultRule = (operation: string, body: string) => FaultMode;

/** Which service's error shapes the proxy speaks. */
export type FaultProtocol = 'dynamodb' | 'sts';

/** A running fault proxy. Set `rule` (or `mode`) at any time; the next request follows it. */
export interface FaultProxy {
  readonly endpoint: string;
  rule: FaultRule;
  /** Delay of the `slow` mode, in ms. Default 5,000 (beyond the handlers' 2 s request timeout). */
  delayMs: number;
  /** Operations the proxy did not forward (or delayed), in order. */
  readonly refused: string[];
  /** Shorthand: every request gets `mode`. */
  setMode(mode: FaultMode): void;
  stop(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function operationOf(protocol: FaultProtocol, request: IncomingMessage, body: string): string {
  if (protocol === 'dynamodb')
    return (
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? ''
    );
  return new URLSearchParams(body).get('Action') ?? '';
}

const ERRORS: Record<
  FaultProtocol,
  Record<'fail' | 'throttle', { status: number; contentType: string; body: string }>
> = {
  dynamodb: {
    fail: {
      status: 500,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({
        __type: 'com.amazon.coral.service#InternalServerError',
        message: 'Internal server error',
      }),
    },
    throttle: {
      status: 400,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'Rate exceeded',
      }),
    },
  },
  sts: {
    fail: {
      status: 500,
      contentType: 'text/xml',
      body: '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>Internal failure</Message></Error></ErrorResponse>',
    },
    throttle: {
      status: 400,
      contentType: 'text/xml',
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>',
    },
  },
};

/** Starts a fault proxy on a free loopback port forwarding to `target`. */
export async function startFaultProxy(target: string, protocol: FaultProtocol = 'dynamodb'): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const operation = operationOf(protocol, request, body.toString('utf8'));
    const mode = proxy.rule(operation, body.toString('utf8'));
    if (mode !== 'pass') proxy.refused.push(operation);
    if (mode === 'down') {
      request.socket.destroy();
      return;
    }
    if (mode === 'fail' || mode === 'throttle') {
      const error = ERRORS[protocol][mode];
      response.writeHead(error.status, { 'Content-Type': error.contentType });
      response.end(error.body);
      return;
    }
    const forward = () => {
      const outgoing = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
        },
      );
      outgoing.on('error', () => {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      });
      outgoing.end(body);
    };
    if (mode === 'slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!request.socket.destroyed) forward();
      }, proxy.delayMs);
      timers.add(timer);
      return;
    }
    forward();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rule: () => 'pass',
    delayMs: 5_000,
    refused: [],
    setMode(mode) {
      proxy.rule = () => mode;
    },
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one DynamoDB request. */
export type FaultDecision = 'pass' | 'fail' | 'throttle';

/** Decides per request, from the operation (X-Amz-Target, e.g. `PutItem`) and the JSON body. */
export type FaultRule = (operation: string, body: Record<string, unknown>) => FaultDecision;

/**
 * An HTTP proxy in front of dynalite that fails chosen DynamoDB operations the way DynamoDB
 * does (500 InternalServerError, or 400 ProvisionedThroughputExceededException), so tests can
 * break one write in the middle of a flow against the real DynamoDB API.
 */
export interface FaultProxy {
  readonly endpoint: string;
  rule: FaultRule;
  /** Operations the proxy refused, in order. */
  readonly refused: string[];
  stop(): Promise<void>;
}

const passAll: FaultRule = () => 'pass';

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Starts a fault proxy on a free loopback port forwarding to `target` (e.g. dynalite). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = {
    endpoint: '',
    rule: passAll,
    refused: [],
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const decision = proxy.rule(operation, body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {});
    if (decision !== 'pass') {
      proxy.refused.push(operation);
      const [status, type, message] =
        decision === 'throttle'
          ? [400, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 'Rate exceeded']
          : [500, 'com.amazon.coral.service#InternalServerError', 'Internal server error'];
      response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: type, message }));
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    forward.on('error', () => {
      response.writeHead(502);
      response.end();
    });
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(proxy, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}

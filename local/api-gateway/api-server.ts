/**
 * The sandbox's API Gateway: an HTTP server that serves the routes of lambda/contract/routes.ts by
 * building API Gateway proxy events and calling the same handler modules the stack deploys.
 * What API Gateway itself does in the stack (route matching, each method's throttle, the body
 * model check, CORS preflight, a 502 for a crashed function) is done here; everything else is
 * the handler's.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { API_CORS, gatewayResponseAllowOrigin } from '../../lambda/contract/cors';
import { ERROR } from '../../lambda/contract/error-codes';
import { THROTTLED_MESSAGE, type RouteDefinition, type ThrottleLimits } from '../../lambda/contract/routes';
import { bodyModelProblem } from './body-validator';
import { readBody as readLimitedBody, watchBodyRate } from '../shared/http-body';
import { buildProxyEvent, matchRoutePath, requestTarget, writeProxyResult } from './proxy-event';
import { RouteThrottles } from './throttle';

/** Serves a non-API request (e.g. a web app at `GET /`); resolves false when it has nothing. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * A route and how to invoke its function with a proxy event. The function gets its Lambda
 * context where it runs (a function thread), so only the request id crosses.
 */
export interface LoadedRoute {
  readonly route: RouteDefinition;
  readonly invoke: (event: APIGatewayProxyEvent, requestId: string) => Promise<APIGatewayProxyResult>;
  /** The route's throttle, as the stack sets it on the method (lib/throttles.ts); none = unthrottled. */
  readonly throttle?: ThrottleLimits;
}

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  readonly routes: readonly LoadedRoute[];
  readonly staticHandler?: StaticHandler;
  /** Print one line per request (method, path, status, ms); never bodies or headers. */
  readonly log?: boolean;
  /**
   * Browser origins CORS grants (the preflight answer; the handlers answer the rest from
   * their ALLOWED_ORIGINS). By default the sandbox's own: http://127.0.0.1:<port> and
   * http://localhost:<port>, where its web app is served.
   */
  readonly allowedOrigins?: readonly string[];
  /** Overrides how fast a request body must arrive (tests); see {@link API_BODY_RATE}. */
  readonly bodyRate?: { readonly windowMs: number; readonly minBytesPerWindow: number };
  /**
   * Whether the functions are loaded. Until it says true every request, on any path, answers
   * 503 with Retry-After in the TVM's error shape, so nothing that connects early ever meets
   * a 404 for a real route. Default: always ready.
   */
  readonly isReady?: () => boolean;
}

/** Seconds a client is asked to wait while the sandbox is still starting. */
const STARTING_RETRY_AFTER_SECONDS = 1;

/** API Gateway's payload limit is 10 MB; the handlers refuse far less. */
const MAX_API_BODY_BYTES = 1024 * 1024;

/** A body must bring this many bytes per window, or the request is refused (408) and its connection closed. */
export const API_BODY_RATE = { windowMs: 5000, minBytesPerWindow: 1024 };

/** The sandbox's own origins on a port: what its web app is served from. */
export function ownOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/**
 * Whether a Host header names this server: its loopback address or `localhost`, with its
 * port. Anything else (a name rebound to 127.0.0.1 by a web page, say) is refused, so only
 * pages of the sandbox's own origins can drive its API.
 */
export function isOwnHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const given = host.toLowerCase();
  return ['127.0.0.1', 'localhost'].some((name) => given === `${name}:${port}` || (port === 80 && given === name));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function apiError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** Why a body was not read: too large (413) or too slow (408). */
class BodyRefused extends Error {
  constructor(readonly status: 408 | 413) {
    super(
      status === 413
        ? `The body must be at most ${MAX_API_BODY_BYTES} bytes.`
        : 'The request body did not arrive in time.',
    );
  }
}

/**
 * The answer API Gateway's CORS method (a mock integration the stack configures from
 * lambda/contract/cors.ts) gives every resource: the same methods for all, and the request's
 * origin when it is one of the allowed (the deployed answer then names the first allowed
 * origin instead, which a browser refuses just the same; here it is left out).
 */
function preflightHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  const allowOrigin = allowed.includes('*')
    ? '*'
    : origin !== undefined && allowed.includes(origin)
      ? origin
      : undefined;
  return {
    'Access-Control-Allow-Headers': API_CORS.allowHeaders.join(','),
    ...(allowOrigin !== undefined ? { 'Access-Control-Allow-Origin': allowOrigin } : {}),
    ...(allowed.includes('*') ? {} : { Vary: 'Origin' }),
    'Access-Control-Allow-Methods': API_CORS.allowMethods.join(','),
    'Access-Control-Max-Age': String(API_CORS.maxAgeSeconds),
    'Access-Control-Expose-Headers': API_CORS.exposeHeaders.join(','),
  };
}

/** Creates (does not start) the API server. */
export function createApiServer(options: ApiServerOptions): Server {
  const throttles = new RouteThrottles();
  const server = createServer((req, res) => {
    const started = Date.now();
    const requestId = randomUUID();
    const { path } = requestTarget(req.url);
    const port = req.socket.localPort ?? 0;
    const allowedOrigins = options.allowedOrigins ?? ownOrigins(port);
    // What API Gateway answers itself (its gateway responses) carries the stack's static CORS header.
    const gatewayOrigin = gatewayResponseAllowOrigin(allowedOrigins);
    const gatewayCors: Record<string, string> =
      gatewayOrigin !== undefined ? { 'Access-Control-Allow-Origin': gatewayOrigin } : {};
    if (options.log) {
      res.on('finish', () =>
        console.log(`[sandbox api] ${req.method} ${path} ${res.statusCode} ${Date.now() - started}ms`),
      );
    }
    const bodySignal = watchBodyRate(req, res, {
      ...(options.bodyRate ?? API_BODY_RATE),
      timedOut: () => new BodyRefused(408),
    });
    void (async () => {
      try {
        if (!isOwnHost(req.headers.host, port)) {
          // Before anything else: a page on another name (DNS rebinding) must not reach any route.
          apiError(
            res,
            421,
            ERROR.invalid_request,
            `This sandbox answers only for ${ownOrigins(port).join(' and ')}; the Host ${JSON.stringify(req.headers.host ?? '')} is not one of them.`,
            {
              Connection: 'close',
            },
          );
          return;
        }
        if (options.isReady && !options.isReady()) {
          apiError(res, 503, ERROR.service_unavailable, 'The sandbox is still starting; try again in a moment.', {
            ...gatewayCors,
            'Retry-After': String(STARTING_RETRY_AFTER_SECONDS),
          });
          return;
        }
        const atPath = options.routes.filter(({ route }) => matchRoutePath(route.path, path) !== undefined);
        const match = atPath.find(({ route }) => route.method === req.method);
        if (!match) {
          if (req.method === 'OPTIONS' && atPath[0]) {
            res.writeHead(204, preflightHeaders(req.headers.origin, allowedOrigins));
            res.end();
            return;
          }
          if (
            (req.method === 'GET' || req.method === 'HEAD') &&
            options.staticHandler &&
            (await options.staticHandler(req, res))
          )
            return;
          if (atPath.length > 0) {
            apiError(
              res,
              405,
              ERROR.invalid_request,
              `${path} accepts ${atPath.map(({ route }) => route.method).join(', ')}.`,
              {
                ...gatewayCors,
                Allow: atPath.map(({ route }) => route.method).join(', '),
              },
            );
          } else {
            apiError(res, 404, ERROR.not_found, `No route for ${req.method} ${path}.`, gatewayCors);
          }
          return;
        }
        const { route, invoke, throttle } = match;
        // API Gateway throttles a method before it reads or validates anything; its THROTTLED
        // response (lib/tvm-api.ts) has the same status, code and message.
        const decision = throttle ? throttles.take(route.name, throttle) : { admitted: true as const };
        if (!decision.admitted) {
          apiError(res, 429, ERROR.rate_limited, THROTTLED_MESSAGE, {
            ...gatewayCors,
            'Cache-Control': 'no-store',
            'Retry-After': String(decision.retryAfterSeconds),
          });
          return;
        }
        let raw: Buffer;
        try {
          raw = await readLimitedBody(req, MAX_API_BODY_BYTES, () => new BodyRefused(413), { signal: bodySignal });
        } catch (error) {
          if (!(error instanceof BodyRefused)) throw error;
          apiError(res, error.status, ERROR.invalid_request, error.message, { ...gatewayCors, Connection: 'close' });
          return;
        }
        const body = raw.length > 0 ? raw.toString('utf8') : null;
        // API Gateway's request validator checks JSON bodies against the route's model first.
        const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase();
        if (route.body && contentType === 'application/json') {
          const problem = bodyModelProblem(route.body, body);
          if (problem !== undefined) {
            apiError(res, 400, ERROR.invalid_request, `Invalid request body: ${problem}.`, gatewayCors);
            return;
          }
        }
        let result: APIGatewayProxyResult;
        try {
          result = await invoke(buildProxyEvent(req, route, body, requestId), requestId);
        } catch (error) {
          // A function that throws is a 502 from API Gateway, with no detail for the client.
          console.error(
            `[sandbox api] ${route.name} handler threw:`,
            error instanceof Error ? error.message : 'unknown error',
          );
          sendJson(res, 502, { message: 'Internal server error' }, gatewayCors);
          return;
        }
        writeProxyResult(res, result);
      } catch (error) {
        console.error('[sandbox api] unexpected error:', error instanceof Error ? error.message : 'unknown error');
        if (!res.headersSent)
          sendJson(res, 500, {
            error: { code: ERROR.internal_error, message: 'The sandbox failed to serve the request.' },
          });
        else res.destroy();
      }
    })();
  });
  // Headers must arrive within seconds too (Node's default allows a minute); generous enough
  // that a busy moment of this process is not taken for a slow client.
  server.headersTimeout = 20_000;
  return server;
}

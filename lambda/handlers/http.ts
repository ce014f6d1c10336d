import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { Static } from '@sinclair/typebox';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { BodySchema } from '../contract/bodies';
import { routeNamed, type RouteName, type RouteNamed } from '../contract/routes';
import { API_CORS } from '../contract/cors';
import { MAX_BODY_BYTES } from '../contract/limits';
import { checkBody } from '../platform/body-check';
import { parseBearerToken } from '../sessions/requests';
import { requestOrigin, type RequestOrigin } from '../platform/audit';
import { BackendUnavailableError, TvmError, ValidationError, toErrorResponse } from '../platform/errors';
import { getRuntime } from './runtime';

/** What an endpoint's own code returns: a status, an optional JSON body and optional headers. */
export interface EndpointResult {
  readonly status: number;
  readonly body?: unknown;
  /** Headers beside the JSON type and `Cache-Control: no-store` (a redirect's `Location`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An API Gateway proxy event whose body the JSON parser may have replaced with the parsed value. */
export type ParsedEvent = Omit<APIGatewayProxyEvent, 'body'> & { body: unknown };

/**
 * What the route's middleware hands the endpoint, chosen from its route entry: the checked,
 * typed body for a route with a body declaration, the bearer token for a `bearer` route
 * (undefined when the header is missing or malformed: the domain answers 401 for it as for a
 * wrong token, so probing learns nothing).
 */
export type RouteInput<R> = (R extends { readonly body: infer B extends BodySchema }
  ? { readonly body: Static<B> }
  : unknown) &
  (R extends { readonly auth: 'bearer' } ? { readonly token: string | undefined } : unknown);

/** The event as the route's middleware leaves it: with the route's input beside it. */
type RouteEvent = ParsedEvent & { routeInput?: { body?: unknown; token?: string | undefined } };

/** A Lambda handler for one API route. */
export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

type Request = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

/** Refuses bodies over MAX_BODY_BYTES before anything parses them. */
const bodySizeLimit = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: async (request) => {
    const { body, isBase64Encoded } = request.event;
    if (typeof body !== 'string') return;
    const bytes = isBase64Encoded ? Buffer.from(body, 'base64').length : Buffer.byteLength(body, 'utf8');
    if (bytes > MAX_BODY_BYTES) throw new ValidationError(`The body must be at most ${MAX_BODY_BYTES} bytes.`);
  },
});

/** Checks the parsed body against the route's one declaration (lambda/contract/bodies.ts): a 400 naming the field otherwise. */
const bodyCheck = (schema: BodySchema): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: async (request) => {
    const event = request.event as unknown as RouteEvent;
    event.routeInput = { ...event.routeInput, body: checkBody(schema, event.body) };
  },
});

/** Bearer authentication's first step: the session token from `Authorization: Bearer <token>`, for the domain to check. */
const bearerToken = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: async (request) => {
    const event = request.event as unknown as RouteEvent;
    event.routeInput = { ...event.routeInput, token: parseBearerToken(authorizationHeader(event)) };
  },
});

/**
 * Drops headers that other middlewares blanked (security headers sets `Server` and
 * `X-Powered-By` to undefined to remove them), so no adapter ever sees an undefined value.
 */
const dropBlankHeaders = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => {
  const clean = async (request: Request) => {
    const headers = request.response?.headers;
    if (!headers) return;
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || value === '') delete headers[name];
    }
  };
  return { after: clean, onError: clean };
};

/** The JSON body parser's own 4xx errors, restated as our 400s with a clear reason. */
function fromMiddyError(error: Error & { statusCode?: number }): Error {
  if (error instanceof TvmError || typeof error.statusCode !== 'number' || error.statusCode >= 500) return error;
  if (error.message === 'Unsupported Media Type') return new ValidationError('Content-Type must be application/json.');
  if (error.message.startsWith('Invalid or malformed JSON')) return new ValidationError('The body is not valid JSON.');
  return new ValidationError('The request is not valid.');
}

/**
 * Turns whatever was thrown into an exposed HTTP error carrying our JSON error body, for
 * middy's error handler to send. Logs it once, without anything secret.
 */
const errorMapping = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request: Request) => {
    const { logger } = getRuntime();
    const error = fromMiddyError(request.error as Error & { statusCode?: number });
    const response = toErrorResponse(error);
    if (error instanceof BackendUnavailableError) {
      logger.error('Backend unavailable', { backend: error.backend, cause: describeCause(error.cause) });
    } else if (response.status >= 500) {
      logger.error('Unexpected error', { errorName: error.name, errorMessage: error.message });
    } else {
      logger.info('Request refused', { status: response.status, code: response.body.error.code });
    }
    request.error = Object.assign(new Error(JSON.stringify(response.body)), {
      statusCode: response.status,
      expose: true,
      headers: { ...response.headers, 'Cache-Control': 'no-store' },
    });
  },
});

/** An AWS error's name and message, for logs only: they never reach a client. */
function describeCause(cause: unknown): Record<string, string> | undefined {
  return cause instanceof Error ? { name: cause.name, message: cause.message } : undefined;
}

/**
 * Wraps the endpoint of the route named `name` in the shared middleware chain: Lambda context
 * in logs, header normalisation, security headers, CORS, the error handler, the body limit,
 * then what the route entry asks for: JSON parsing and the check against the body's
 * declaration (`body`), the bearer token (`auth: 'bearer'`). The endpoint gets them as its
 * second argument.
 */
export function httpEndpoint<N extends RouteName>(
  name: N,
  endpoint: (event: ParsedEvent, input: RouteInput<RouteNamed<N>>) => Promise<EndpointResult>,
): ApiHandler {
  const { config, logger } = getRuntime();
  const route: { readonly auth: string; readonly body?: BodySchema } = routeNamed(name);
  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    // Used first so its after/onError run last, once every header is set.
    .use(dropBlankHeaders())
    .use(httpHeaderNormalizer())
    .use(httpSecurityHeaders())
    .use(
      httpCors({
        origins: [...config.allowedOrigins],
        headers: API_CORS.allowHeaders.join(','),
        methods: API_CORS.allowMethods.join(','),
        exposeHeaders: API_CORS.exposeHeaders.join(','),
        maxAge: API_CORS.maxAgeSeconds,
      }),
    )
    .use(httpErrorHandler({ logger: false }))
    .use(errorMapping())
    .use(bodySizeLimit());
  if (route.body) chain.use(httpJsonBodyParser()).use(bodyCheck(route.body));
  if (route.auth === 'bearer') chain.use(bearerToken());
  return chain.handler(async (event) => {
    const routeEvent = event as unknown as RouteEvent;
    const result = await endpoint(routeEvent, (routeEvent.routeInput ?? {}) as RouteInput<RouteNamed<N>>);
    return {
      statusCode: result.status,
      // Credentials and session tokens must never sit in a cache.
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...result.headers },
      body: result.body === undefined ? '' : JSON.stringify(result.body),
    };
  }) as unknown as ApiHandler;
}

/** The Authorization header, after middy lower-cased header names. */
function authorizationHeader(event: ParsedEvent): string | undefined {
  return event.headers?.authorization ?? undefined;
}

/** Where the request came from, for the audit trail: API Gateway's source IP and the user agent. */
export function originOf(event: ParsedEvent): RequestOrigin {
  return requestOrigin(
    event.requestContext?.identity?.sourceIp ?? undefined,
    event.headers?.['user-agent'] ?? undefined,
  );
}

/**
 * The API's public base URL as the caller reached it (no trailing `/`), for URLs the API hands
 * out (a share link's): API Gateway's domain name, and the part of the path before the route
 * (the stage on an execute-api domain, a custom domain's base path). API Gateway sets
 * `X-Forwarded-Proto` itself; only the sandbox answers over plain http.
 */
export function apiBaseUrl(event: ParsedEvent): string {
  const context = event.requestContext;
  const host = context?.domainName ?? event.headers?.host ?? 'localhost';
  const fullPath = context?.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  const scheme = event.headers?.['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  return `${scheme}://${host}${prefix}`;
}

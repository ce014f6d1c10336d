/**
 * API Gateway's Lambda proxy integration, as the sandbox's API (api-server.ts) performs it: the
 * event API Gateway builds from a request (REST API, proxy integration) and the function's
 * result written back as the HTTP answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RouteDefinition } from '../../lambda/contract/routes';
import { SANDBOX_ACCOUNT_ID } from '../names';

function multiValue(pairs: [string, string][]): Record<string, string[]> {
  // No prototype: a header or parameter named `constructor` or `__proto__` is just a name (found by the API fuzz).
  const result: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of pairs) (result[name] ??= []).push(value);
  return result;
}

/**
 * Matches a request path against a route template such as `/sessions/{id}`, as API Gateway
 * does: a `{name}` stands for exactly one non-empty path segment. Returns the decoded path
 * parameters, or undefined when the path does not match.
 */
export function matchRoutePath(template: string, path: string): Record<string, string> | undefined {
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, part] of templateParts.entries()) {
    const actual = pathParts[index] ?? '';
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name === undefined) {
      if (part !== actual) return undefined;
      continue;
    }
    if (actual === '') return undefined;
    try {
      parameters[name] = decodeURIComponent(actual);
    } catch {
      return undefined;
    }
  }
  return parameters;
}

/**
 * The path and query of a request target, split without URL parsing: `new URL('//x', base)`
 * reads `//x` as a host and throws, and a request must never be able to crash the server.
 */
export function requestTarget(rawUrl: string | undefined): { path: string; query: URLSearchParams } {
  const raw = rawUrl ?? '/';
  const mark = raw.indexOf('?');
  return {
    path: mark === -1 ? raw : raw.slice(0, mark),
    query: new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1)),
  };
}

/** Builds the API Gateway (REST, proxy integration) event API Gateway would send. */
export function buildProxyEvent(
  req: IncomingMessage,
  route: RouteDefinition,
  body: string | null,
  requestId: string,
): APIGatewayProxyEvent {
  const target = requestTarget(req.url);
  const url = { pathname: target.path, searchParams: target.query };
  const headerPairs: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headerPairs.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  // API Gateway sets X-Forwarded-Proto itself, whatever the client sent; the sandbox speaks http.
  const forwarded = headerPairs.filter(([name]) => name.toLowerCase() !== 'x-forwarded-proto');
  headerPairs.splice(0, headerPairs.length, ...forwarded, ['X-Forwarded-Proto', 'http']);
  const queryPairs = [...url.searchParams.entries()];
  const multiValueHeaders = multiValue(headerPairs);
  const multiValueQuery = multiValue(queryPairs);
  const last = (record: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(record).map(([name, values]) => [name, values[values.length - 1] as string]));
  const now = Date.now();
  const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers: last(multiValueHeaders),
    multiValueHeaders,
    queryStringParameters: queryPairs.length > 0 ? last(multiValueQuery) : null,
    multiValueQueryStringParameters: queryPairs.length > 0 ? multiValueQuery : null,
    pathParameters: (() => {
      const parameters = matchRoutePath(route.path, url.pathname);
      return parameters && Object.keys(parameters).length > 0 ? parameters : null;
    })(),
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: SANDBOX_ACCOUNT_ID,
      apiId: 'sandbox',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      // The sandbox serves the API at its root (no stage in the URL), under the Host it was reached by.
      path: url.pathname,
      stage: 'local',
      domainName: req.headers.host ?? 'localhost',
      requestId,
      requestTimeEpoch: now,
      resourceId: route.name,
      resourcePath: route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

/** Writes a function's proxy result as the HTTP answer. */
export function writeProxyResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  headers['Content-Length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

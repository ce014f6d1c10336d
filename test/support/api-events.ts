import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/** A Lambda context good enough for the handlers (Powertools reads the request id from it). */
export function lambdaContext(requestId = 'test-request'): Context {
  return {
    awsRequestId: requestId,
    functionName: 'tvm-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:tvm-test',
    memoryLimitInMB: '1769',
    logGroupName: '/aws/lambda/tvm-test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An API Gateway proxy event for a JSON POST; pass a string body to send it unchanged. */
export function jsonPost(path: string, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path,
    resource: path,
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    isBase64Encoded: false,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** A bodiless POST with a bearer token, as /token and /logout take. */
export function bearerPost(path: string, token: string | undefined): APIGatewayProxyEvent {
  const event = jsonPost(path, null, token === undefined ? {} : { Authorization: `Bearer ${token}` });
  return { ...event, body: null, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } };
}

/** The parsed JSON body of a handler's response. */
export function bodyOf<T = Record<string, unknown>>(result: APIGatewayProxyResult): T {
  return JSON.parse(result.body) as T;
}

/** An API handler as the handler modules export it. */
export type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

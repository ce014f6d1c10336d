/**
 * One warm "function instance" of the sandbox, run on a worker thread by function-threads.ts.
 * It loads every function's handler module once, with the functions' environment (the
 * thread's own copy of process.env), then answers invocations until the thread is ended.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { SANDBOX_ACCOUNT_ID, SANDBOX_REGION } from '../names';

/** A function an instance serves: the route name and the handler module's absolute path. */
export interface FunctionModule {
  readonly name: string;
  readonly file: string;
}

/** What the sandbox's thread sends. */
export interface InvokeMessage {
  readonly id: number;
  readonly name: string;
  readonly event: APIGatewayProxyEvent;
  readonly requestId: string;
}

/** What an instance sends back. */
export type InstanceMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'load-failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly result: APIGatewayProxyResult }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** What the instance is given when its thread starts. */
export interface InstanceData {
  readonly functions: readonly FunctionModule[];
}

/** The functions' timeout in the stack; reported by context.getRemainingTimeInMillis. */
const FUNCTION_TIMEOUT_MS = 29_000;

/** A Lambda context for one invocation of the function serving route `routeName`. */
function buildLambdaContext(routeName: string, requestId: string): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  const functionName = `tvm-sandbox-${routeName}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${SANDBOX_REGION}:${SANDBOX_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'sandbox',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

function loadHandlers(functions: readonly FunctionModule[]): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  for (const { name, file } of functions) {
    let module: { handler?: unknown; default?: { handler?: unknown } };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the thread loads TypeScript through tsx's require hook
      module = require(file) as typeof module;
    } catch (error) {
      throw new Error(
        `Could not load the ${name} handler (${file}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const handler = module.handler ?? module.default?.handler;
    if (typeof handler !== 'function') throw new Error(`${file} does not export a handler function.`);
    handlers.set(name, handler as Handler);
  }
  return handlers;
}

function serve(port: NonNullable<typeof parentPort>, data: InstanceData): void {
  const send = (message: InstanceMessage) => port.postMessage(message);
  let handlers: Map<string, Handler>;
  try {
    handlers = loadHandlers(data.functions);
  } catch (error) {
    send({ type: 'load-failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on('message', (message: InvokeMessage) => {
    const handler = handlers.get(message.name);
    if (!handler) {
      send({ type: 'error', id: message.id, message: `no function named ${message.name}` });
      return;
    }
    // A handler that throws synchronously is a failed invocation too, not a dead thread.
    Promise.resolve()
      .then(() => handler(message.event, buildLambdaContext(message.name, message.requestId)))
      .then(
        (result) => send({ type: 'result', id: message.id, result }),
        // Only the message crosses: API Gateway shows a client nothing of a function's error.
        (error: unknown) =>
          send({ type: 'error', id: message.id, message: error instanceof Error ? error.message : 'unknown error' }),
      );
  });
  send({ type: 'ready' });
}

if (parentPort) serve(parentPort, workerData as InstanceData);

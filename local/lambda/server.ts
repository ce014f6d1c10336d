/**
 * The part of Lambda the TVM's functions use: an asynchronous Invoke (`InvocationType: Event`)
 * of the cut-off worker, which a function sends after it recorded a share cut-off
 * (lambda/adapters/share-cut-off.ts). Only the functions' key may call it, with a valid SigV4
 * signature, and only on the worker's function name (or its ARN).
 *
 * AWS answers 202 at once and runs the worker soon after; here the worker's run (the deletion
 * sweep, which first puts pending share cut-offs on the vending role) completes before the
 * 202, so when `DELETE /shares/{id}` answers, the cut-off is already in force ("in the sandbox at
 * once", docs/operating.md). A failing run is logged; the answer is still 202, as on AWS, and
 * the sweep's timer retries.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SANDBOX_ACCOUNT_ID, SANDBOX_REGION } from '../names';
import type { LongTermKey } from '../secrets';
import { readBody } from '../shared/http-body';
import { listenOnLoopback } from '../shared/listen';
import { authenticateLongTermKey, ServiceAuthError } from '../shared/service-auth';

/** Lambda's limit on an asynchronous invocation's payload. */
const MAX_EVENT_PAYLOAD_BYTES = 256 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

class LambdaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link createLambdaHandler}. */
export interface LambdaServerOptions {
  /** The functions' long-term key: the only caller. */
  readonly functionKey: LongTermKey;
  /** The one function that may be invoked: the cut-off worker. */
  readonly workerFunctionName: string;
  /** Runs the worker once (the sandbox's sweep); awaited before the 202. */
  readonly runWorker: () => Promise<unknown>;
  /** The clock, injectable for tests. */
  readonly now?: () => number;
  /** Where a failed run is reported. Default: stderr. */
  readonly log?: (message: string) => void;
}

/** The worker's ARN in the sandbox's account and region. */
export function sandboxFunctionArn(name: string): string {
  return `arn:aws:lambda:${SANDBOX_REGION}:${SANDBOX_ACCOUNT_ID}:function:${name}`;
}

function authenticate(req: IncomingMessage, body: Buffer, functionKey: LongTermKey, now: number): void {
  try {
    authenticateLongTermKey(req, body, 'lambda', [functionKey], now);
  } catch (error) {
    if (!(error instanceof ServiceAuthError)) throw error;
    const [status, type] = (
      {
        missing: [403, 'MissingAuthenticationTokenException'],
        malformed: [403, 'IncompleteSignatureException'],
        // A user's vended credentials: their session policy allows no Lambda action.
        'temporary-key': [403, 'AccessDeniedException'],
        'unknown-key': [403, 'UnrecognizedClientException'],
        signature: [403, 'InvalidSignatureException'],
      } as const
    )[error.reason];
    throw new LambdaError(status, type, error.message);
  }
}

/** The function name an Invoke path names (a name or an ARN, URL-encoded); refuses every other path. */
function invokedName(url: string): string {
  const path = url.split('?')[0] ?? '';
  const match = INVOKE_PATH.exec(path);
  if (!match) throw new LambdaError(404, 'UnknownOperationException', 'Unknown operation.');
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    throw new LambdaError(400, 'InvalidParameterValueException', 'The function name is malformed.');
  }
}

/** The Invoke request handler. Exported for tests; {@link startLambda} wraps it in a server. */
export function createLambdaHandler(options: LambdaServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message: string) => console.error(`[sandbox lambda] ${message}`));
  const workerArn = sandboxFunctionArn(options.workerFunctionName);
  return (req, res) => {
    const requestId = randomUUID();
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'x-amzn-RequestId': requestId,
        'Content-Length': Buffer.byteLength(body),
        ...headers,
      });
      res.end(body);
    };
    void (async () => {
      try {
        const body = await readBody(
          req,
          MAX_EVENT_PAYLOAD_BYTES,
          () =>
            new LambdaError(
              413,
              'RequestTooLargeException',
              `Request must be smaller than ${MAX_EVENT_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
            ),
        );
        authenticate(req, body, options.functionKey, now());
        if (req.method !== 'POST') throw new LambdaError(404, 'UnknownOperationException', 'Unknown operation.');
        const name = invokedName(req.url ?? '/');
        if (name !== options.workerFunctionName && name !== workerArn) {
          // The functions' role may invoke the worker alone: anything else is AWS's refusal.
          throw new LambdaError(
            403,
            'AccessDeniedException',
            `User is not authorized to perform: lambda:InvokeFunction on resource: ${name}`,
          );
        }
        const invocationType = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
        if (invocationType !== 'Event') {
          throw new LambdaError(
            400,
            'InvalidParameterValueException',
            'The sandbox runs the cut-off worker asynchronously only (InvocationType Event).',
          );
        }
        try {
          await options.runWorker();
        } catch (error) {
          log(`the worker's run failed (${error instanceof Error ? error.message : String(error)}); its timer retries`);
        }
        send(202, '');
      } catch (error) {
        const lambdaError =
          error instanceof LambdaError
            ? error
            : new LambdaError(500, 'ServiceException', 'The service encountered an internal error.');
        if (!(error instanceof LambdaError)) log(`unexpected error: ${String(error)}`);
        if (!res.headersSent)
          send(lambdaError.status, JSON.stringify({ Type: 'User', message: lambdaError.message }), {
            'x-amzn-ErrorType': lambdaError.type,
          });
      }
    })();
  };
}

/** Starts the local Lambda endpoint on a loopback port (0 = any free port). */
export async function startLambda(
  options: LambdaServerOptions & { port?: number },
): Promise<{ server: Server; url: string }> {
  const server = createServer(createLambdaHandler(options));
  const port = await listenOnLoopback(server, options.port ?? 0);
  return { server, url: `http://127.0.0.1:${port}` };
}

/**
 * The sandbox's Lambda: the route handlers run on worker threads, each a warm "function
 * instance" (function-instance.ts), never on the thread that serves the API, STS and the S3
 * gate. In a profile of `/token`, the handlers' AWS SDK calls were about 60 % of that
 * thread's CPU; on their own threads they use the other core, and a login's bcrypt no longer
 * stalls S3 requests. It is also closer to Lambda: each instance has its own copy of the
 * functions' environment, so the sandbox's own process.env is never touched.
 *
 * Each invocation goes to the instance with the fewest in flight. An instance whose thread
 * dies fails its in-flight invocations (the API answers 502, as API Gateway does for a
 * crashed function) and is replaced.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FunctionModule, InstanceData, InstanceMessage, InvokeMessage } from './function-instance';

export type { FunctionModule } from './function-instance';

/** Options of {@link startFunctionThreads}. */
export interface FunctionThreadsOptions {
  /** The functions every instance loads (the sandbox: one per route of lambda/contract/routes.ts). */
  readonly functions: readonly FunctionModule[];
  /** The functions' environment: each thread's process.env is exactly this. */
  readonly environment: Readonly<Record<string, string>>;
  /** How many instances (threads) to run. */
  readonly threads: number;
}

/** Running function instances. */
export interface FunctionThreads {
  /** Runs the named function on the least busy instance; rejects if the function throws or its thread dies. */
  invoke(name: string, event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult>;
  /** The same for a function that is not a route (an SQS consumer): any event, any result. */
  invokeEvent(name: string, event: unknown, requestId: string): Promise<unknown>;
  /** Ends every thread; invocations still in flight are rejected. */
  stop(): Promise<void>;
}

// Plain CommonJS, so the thread starts the same under tsx, jest and node: it installs tsx's
// require hook for TypeScript, then runs the instance.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
require(workerData.tsxApi).register();
require(workerData.instanceModule);
`;

interface Pending {
  readonly resolve: (result: APIGatewayProxyResult) => void;
  readonly reject: (error: Error) => void;
}

interface Instance {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

function spawnInstance(options: FunctionThreadsOptions): Worker {
  const data: InstanceData & { tsxApi: string; instanceModule: string } = {
    functions: options.functions,
    tsxApi: require.resolve('tsx/cjs/api'),
    instanceModule: resolve(__dirname, 'function-instance.ts'),
  };
  return new Worker(BOOTSTRAP, { eval: true, workerData: data, env: { ...options.environment } });
}

/** Waits for a new instance to load its handlers; rejects with the loader's message if it cannot. */
function whenReady(worker: Worker): Promise<void> {
  return new Promise((ready, fail) => {
    const onError = (error: Error) => fail(error);
    const onExit = (code: number) => fail(new Error(`the function thread exited (${code}) while loading`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (message: InstanceMessage) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (message.type === 'ready') ready();
      else
        fail(
          new Error(
            message.type === 'load-failed' ? message.message : `unexpected message ${message.type} while loading`,
          ),
        );
    });
  });
}

/** Starts `threads` function instances and resolves once every one has loaded its handlers. */
export async function startFunctionThreads(options: FunctionThreadsOptions): Promise<FunctionThreads> {
  if (!Number.isInteger(options.threads) || options.threads < 1)
    throw new Error(`threads must be a whole number from 1, got ${options.threads}.`);
  const instances: Instance[] = [];
  let nextId = 1;
  let stopping = false;

  const adopt = (worker: Worker): Instance => {
    const instance: Instance = { worker, pending: new Map() };
    worker.on('message', (message: InstanceMessage) => {
      if (message.type !== 'result' && message.type !== 'error') return;
      const waiting = instance.pending.get(message.id);
      if (!waiting) return;
      instance.pending.delete(message.id);
      if (message.type === 'result') waiting.resolve(message.result);
      else waiting.reject(new Error(message.message));
    });
    const fail = (reason: string) => {
      for (const waiting of instance.pending.values()) waiting.reject(new Error(reason));
      instance.pending.clear();
    };
    worker.on('error', (error) => {
      console.error(`[sandbox functions] a function thread crashed: ${error.message}`);
      fail('the function thread crashed');
    });
    worker.on('exit', () => {
      fail('the function thread ended');
      const index = instances.indexOf(instance);
      if (index !== -1) instances.splice(index, 1);
      if (stopping) return;
      // Like Lambda after a crash: a fresh instance takes the next invocations.
      const replacement = spawnInstance(options);
      whenReady(replacement).then(
        () => (stopping ? void replacement.terminate() : instances.push(adopt(replacement))),
        (error: unknown) =>
          console.error(
            `[sandbox functions] could not replace a function thread: ${error instanceof Error ? error.message : String(error)}`,
          ),
      );
    });
    return instance;
  };

  const started = Array.from({ length: options.threads }, () => spawnInstance(options));
  const loads = await Promise.allSettled(started.map(whenReady));
  const failure = loads.find((load): load is PromiseRejectedResult => load.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((worker) => worker.terminate()));
    throw failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason));
  }
  instances.push(...started.map(adopt));

  const threads: FunctionThreads = {
    invokeEvent: (name, event, requestId) =>
      threads.invoke(name, event as APIGatewayProxyEvent, requestId) as Promise<unknown>,
    invoke(name, event, requestId) {
      const instance = instances.reduce<Instance | undefined>(
        (least, candidate) => (!least || candidate.pending.size < least.pending.size ? candidate : least),
        undefined,
      );
      if (stopping || !instance)
        return Promise.reject(new Error(stopping ? 'the sandbox is stopping' : 'no function thread is running'));
      const id = nextId++;
      return new Promise((resolveResult, reject) => {
        instance.pending.set(id, { resolve: resolveResult, reject });
        const message: InvokeMessage = { id, name, event, requestId };
        instance.worker.postMessage(message);
      });
    },
    async stop() {
      stopping = true;
      await Promise.all(instances.map((instance) => instance.worker.terminate()));
    },
  };
  return threads;
}

/**
 * The sandbox's function instances (local/api-gateway/function-threads.ts): the handlers run on worker
 * threads with exactly the functions' environment, spread over the instances, and fail the
 * way API Gateway and Lambda fail: a throwing function fails one invocation, a crashed
 * instance fails what it had in flight and is replaced, a module that cannot load stops
 * the start. Since each sandbox's handlers have their own environment, one process can run
 * sandboxes with different settings.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { startFunctionThreads, type FunctionThreads } from '../../local/api-gateway/function-threads';
import { startSandbox, type Sandbox } from '../../local/sandbox';

const FIXTURES = join(__dirname, '..', 'support', 'functions');
const FUNCTIONS = [
  { name: 'echo', file: join(FIXTURES, 'echo.ts') },
  { name: 'failing', file: join(FIXTURES, 'failing.ts') },
];

function event(path: string, query: Record<string, string> | null = null): APIGatewayProxyEvent {
  return { httpMethod: 'GET', path, queryStringParameters: query } as unknown as APIGatewayProxyEvent;
}

interface EchoBody {
  threadId: number;
  fixtureValue: string | null;
  path: string;
  functionName: string;
  awsRequestId: string;
  remainingMs: number;
}

async function echo(
  functions: FunctionThreads,
  query: Record<string, string> | null = null,
  requestId = 'request-1',
): Promise<EchoBody> {
  const result = await functions.invoke('echo', event('/echo', query), requestId);
  expect(result.statusCode).toBe(200);
  return JSON.parse(result.body) as EchoBody;
}

let functions: FunctionThreads | undefined;

afterEach(async () => {
  await functions?.stop();
  functions = undefined;
});

test("functions run off the calling thread with exactly the environment given, and the caller's process.env is untouched", async () => {
  const before = { ...process.env };
  functions = await startFunctionThreads({
    functions: FUNCTIONS,
    environment: { FIXTURE_VALUE: 'from the sandbox' },
    threads: 1,
  });
  const answer = await echo(functions, null, 'request-42');
  expect(answer.threadId).not.toBe(threadId);
  expect(answer.fixtureValue).toBe('from the sandbox');
  expect(answer.path).toBe('/echo');
  // The Lambda context is built on the instance's thread, as Lambda gives it.
  expect(answer.functionName).toBe('tvm-sandbox-echo');
  expect(answer.awsRequestId).toBe('request-42');
  expect(answer.remainingMs).toBeGreaterThan(20_000);
  expect(process.env.FIXTURE_VALUE).toBeUndefined();
  expect(process.env).toEqual(before);
});

test('concurrent invocations spread over the instances (least busy first)', async () => {
  functions = await startFunctionThreads({ functions: FUNCTIONS, environment: {}, threads: 2 });
  const running = functions;
  const answers = await Promise.all(
    Array.from({ length: 6 }, (_, index) => echo(running, { waitMs: '50' }, `request-${index}`)),
  );
  const threads = new Set(answers.map((answer) => answer.threadId));
  expect(threads.size).toBe(2);
});

test('a function that throws fails that invocation with its message only, and the instance keeps serving', async () => {
  functions = await startFunctionThreads({ functions: FUNCTIONS, environment: {}, threads: 1 });
  await expect(functions.invoke('failing', event('/throw'), 'request-1')).rejects.toThrow('the function failed');
  const answer = await echo(functions);
  expect(answer.path).toBe('/echo');
});

test('a crashed instance fails what it had in flight and is replaced by a fresh one', async () => {
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    functions = await startFunctionThreads({ functions: FUNCTIONS, environment: {}, threads: 1 });
    const first = await echo(functions);
    await expect(functions.invoke('failing', event('/crash'), 'request-2')).rejects.toThrow(
      'the function thread crashed',
    );
    // The replacement loads in the background; invocations succeed again once it is up.
    let answer: EchoBody | undefined;
    for (let attempt = 0; attempt < 100 && !answer; attempt++) {
      try {
        answer = await echo(functions);
      } catch {
        await new Promise((wait) => setTimeout(wait, 100));
      }
    }
    expect(answer?.threadId).toBeDefined();
    expect(answer?.threadId).not.toBe(first.threadId);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('a stray callback failed'));
  } finally {
    errors.mockRestore();
  }
});

test('a handler module that cannot load stops the start, naming the function and the reason', async () => {
  await expect(
    startFunctionThreads({
      functions: [...FUNCTIONS, { name: 'unloadable', file: join(FIXTURES, 'unloadable.ts') }],
      environment: {},
      threads: 2,
    }),
  ).rejects.toThrow(/Could not load the unloadable handler .*TABLE_NAME is not set/);
});

test('after stop, invocations are refused rather than left hanging', async () => {
  const stopped = await startFunctionThreads({ functions: FUNCTIONS, environment: {}, threads: 1 });
  await stopped.stop();
  await expect(stopped.invoke('echo', event('/echo'), 'request-1')).rejects.toThrow('the sandbox is stopping');
});

test('an unknown function name fails the invocation', async () => {
  functions = await startFunctionThreads({ functions: FUNCTIONS, environment: {}, threads: 1 });
  await expect(functions.invoke('nope', event('/nope'), 'request-1')).rejects.toThrow('no function named nope');
});

test('two sandboxes in one process each serve with their own settings, and neither touches process.env', async () => {
  const before = { ...process.env };
  const folder = mkdtempSync(join(tmpdir(), 'tvm-two-sandboxes-'));
  const started: Sandbox[] = [];
  try {
    started.push(
      await startSandbox({ port: 0, s3Port: 0, dataDir: join(folder, 'a'), bcryptCost: 10, functionThreads: 1 }),
    );
    started.push(
      await startSandbox({ port: 0, s3Port: 0, dataDir: join(folder, 'b'), bcryptCost: 11, functionThreads: 1 }),
    );
    for (const sandbox of started) {
      const response = await fetch(`${sandbox.apiUrl}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'correct horse battery staple' }),
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { storage: { endpoint?: string } };
      expect(body.storage.endpoint).toBe(sandbox.s3Url);
      expect(sandbox.functionEnvironment.BCRYPT_COST).toBe(sandbox === started[0] ? '10' : '11');
    }
    expect(process.env).toEqual(before);
  } finally {
    for (const sandbox of started) await sandbox.stop();
    rmSync(folder, { recursive: true, force: true });
  }
});

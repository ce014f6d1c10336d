/**
 * The sandbox's Lambda Invoke endpoint (local/lambda/server.ts), driven by the AWS SDK's own
 * LambdaClient as the functions drive it: only the functions' key, correctly signed, may invoke,
 * and only the cut-off worker, asynchronously; the worker's run has finished when the 202
 * arrives (so a revoked share is cut off when the route answers), and a failing run still
 * answers 202, as AWS does for an accepted event.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { sandboxFunctionArn, startLambda } from '../../local/lambda/server';
import { SANDBOX_CUT_OFF_WORKER_FUNCTION, SANDBOX_REGION } from '../../local/names';

const functionKey = { accessKeyId: 'AKIASANDBOXFUNCTION', secretAccessKey: randomBytes(30).toString('base64') };
let server: Server;
let url: string;
let runs = 0;
let runMs = 0;
let failRun = false;
const logged: string[] = [];

beforeAll(async () => {
  ({ server, url } = await startLambda({
    functionKey,
    workerFunctionName: SANDBOX_CUT_OFF_WORKER_FUNCTION,
    runWorker: async () => {
      await new Promise((resolve) => setTimeout(resolve, runMs));
      if (failRun) throw new Error('IAM is down');
      runs += 1;
    },
    log: (message) => void logged.push(message),
  }));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  runs = 0;
  runMs = 0;
  failRun = false;
  logged.length = 0;
});

function client(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = functionKey) {
  return new LambdaClient({ endpoint: url, region: SANDBOX_REGION, credentials, maxAttempts: 1 });
}

const invoke = (FunctionName: string, InvocationType: 'Event' | 'RequestResponse' = 'Event') =>
  new InvokeCommand({ FunctionName, InvocationType, Payload: new TextEncoder().encode('{"reason":"share-cut-off"}') });

async function refusal(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    return {
      name: (error as Error).name,
      status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
    };
  }
  throw new Error('expected a refusal');
}

describe('the local Lambda Invoke endpoint', () => {
  it('runs the worker to completion before it answers 202, by name or by ARN', async () => {
    runMs = 300;
    const started = Date.now();
    const answer = await client().send(invoke(SANDBOX_CUT_OFF_WORKER_FUNCTION));
    expect(answer.StatusCode).toBe(202);
    expect(runs).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await client().send(invoke(sandboxFunctionArn(SANDBOX_CUT_OFF_WORKER_FUNCTION)))).StatusCode).toBe(202);
    expect(runs).toBe(2);
  });

  it("answers 202 when the worker's run fails, and logs it (its timer retries)", async () => {
    failRun = true;
    expect((await client().send(invoke(SANDBOX_CUT_OFF_WORKER_FUNCTION))).StatusCode).toBe(202);
    expect(logged).toEqual([expect.stringContaining('IAM is down')]);
  });

  it('refuses any other function, and a synchronous invocation, running nothing', async () => {
    expect(await refusal(client().send(invoke('tvm-login')))).toEqual({ name: 'AccessDeniedException', status: 403 });
    expect(await refusal(client().send(invoke(SANDBOX_CUT_OFF_WORKER_FUNCTION, 'RequestResponse')))).toEqual({
      name: 'InvalidParameterValueException',
      status: 400,
    });
    expect(runs).toBe(0);
  });

  it("refuses a stranger's key, a wrong secret, and a user's vended (temporary) credentials, running nothing", async () => {
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
    expect(await refusal(client(stranger).send(invoke(SANDBOX_CUT_OFF_WORKER_FUNCTION)))).toEqual({
      name: 'UnrecognizedClientException',
      status: 403,
    });
    const wrongSecret = { accessKeyId: functionKey.accessKeyId, secretAccessKey: 'y'.repeat(40) };
    expect(await refusal(client(wrongSecret).send(invoke(SANDBOX_CUT_OFF_WORKER_FUNCTION)))).toEqual({
      name: 'InvalidSignatureException',
      status: 403,
    });
    const vended = { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'z'.repeat(40), sessionToken: 'token' };
    expect(await refusal(client(vended).send(invoke(SANDBOX_CUT_OFF_WORKER_FUNCTION)))).toEqual({
      name: 'AccessDeniedException',
      status: 403,
    });
    expect(runs).toBe(0);
  });

  it('refuses an unsigned request and any other operation', async () => {
    const unsigned = await fetch(`${url}/2015-03-31/functions/${SANDBOX_CUT_OFF_WORKER_FUNCTION}/invocations`, {
      method: 'POST',
      headers: { 'X-Amz-Invocation-Type': 'Event' },
      body: '{}',
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const listing = await fetch(`${url}/2015-03-31/functions/`);
    expect(listing.status).toBe(403);
    expect(runs).toBe(0);
  });
});

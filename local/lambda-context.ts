/** The Lambda context the sandbox gives each invocation, on whichever thread runs it. */
import type { Context } from 'aws-lambda';
import { SANDBOX_ACCOUNT_ID, SANDBOX_REGION } from './names';

/** The functions' timeout in the stack; reported by context.getRemainingTimeInMillis. */
const FUNCTION_TIMEOUT_MS = 29_000;

/** A Lambda context for one invocation of the function serving route `routeName`. */
export function buildLambdaContext(routeName: string, requestId: string): Context {
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

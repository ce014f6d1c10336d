import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';

/**
 * Timeouts well inside the function's timeout, so a slow backend becomes a 503 while the
 * function can still answer. Endpoints come from the SDK's own environment settings
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_LAMBDA), which is how the local sandbox plugs in.
 */
// throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes and
// keeps waiting, so a hung backend would hold the function until Lambda kills it.
const REQUEST_HANDLER = { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true } as const;
/** One retry: the SDK's backoff for throttling, without spending the whole timeout on it. */
const MAX_ATTEMPTS = 2;

/** The DynamoDB client, built once per function instance. */
export function createDynamoDbClient(region: string): DynamoDBClient {
  return new DynamoDBClient({ region, maxAttempts: MAX_ATTEMPTS, requestHandler: REQUEST_HANDLER });
}

/** The STS client, built once per function instance. */
export function createStsClient(region: string): STSClient {
  return new STSClient({ region, maxAttempts: MAX_ATTEMPTS, requestHandler: REQUEST_HANDLER });
}

/**
 * The Lambda client of the functions that ask the cut-off worker to run (an asynchronous
 * Invoke), built once per function instance. The sandbox's Invoke endpoint runs the worker
 * before it answers: its timeout allows for that run, within the function's own.
 */
export function createLambdaClient(region: string): LambdaClient {
  return new LambdaClient({
    region,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { ...REQUEST_HANDLER, requestTimeout: 6_000 },
  });
}

/** A test function: answers with its thread, its environment's FIXTURE_VALUE and the context it was given. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { threadId } from 'node:worker_threads';

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const waitMs = Number(event.queryStringParameters?.waitMs ?? 0);
  if (waitMs > 0) await new Promise((done) => setTimeout(done, waitMs));
  return {
    statusCode: 200,
    body: JSON.stringify({
      threadId,
      fixtureValue: process.env.FIXTURE_VALUE ?? null,
      path: event.path,
      functionName: context.functionName,
      awsRequestId: context.awsRequestId,
      remainingMs: context.getRemainingTimeInMillis(),
    }),
  };
}

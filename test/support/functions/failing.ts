/** A test function that fails: `throw` rejects the invocation, `crash` kills its thread from a timer. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.path === '/crash') {
    // Outside the invocation's promise, as a stray callback would: the whole instance dies.
    setImmediate(() => {
      throw new Error('a stray callback failed');
    });
    return new Promise(() => undefined);
  }
  throw new Error('the function failed: db password hunter2');
}

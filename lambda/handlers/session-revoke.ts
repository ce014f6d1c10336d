import { parseOptionalStepUp } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/**
 * `DELETE /sessions/{id}`: revokes one of the caller's own sessions and answers 204. Another
 * session than the caller's needs a step-up body (docs/mfa.md#step-up): a second factor on an account with one, else `{currentPassword}`.
 */
export const handler = httpEndpoint('sessionRevoke', async (event, { token }) => {
  const proof = parseOptionalStepUp(typeof event.body === 'string' ? event.body : undefined);
  await sessions.revokeSession(token, event.pathParameters?.id, proof, originOf(event));
  return { status: 204 };
});

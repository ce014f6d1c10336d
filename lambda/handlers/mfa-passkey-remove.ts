import { parsePasskeyId, parseStepUpText } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `DELETE /mfa/passkeys/{id}` (a step-up body): removes the passkey; 204. */
export const handler = httpEndpoint('passkeyRemove', async (event, { token }) => {
  const id = parsePasskeyId(event.pathParameters?.id);
  const proof = parseStepUpText(typeof event.body === 'string' ? event.body : undefined);
  await mfa.removePasskey(token, id, proof, originOf(event));
  return { status: 204 };
});

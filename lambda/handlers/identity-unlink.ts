import { JoseIdTokenVerifier } from '../adapters/oidc-verifier';
import { parseIdentityStepUpText } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

// The step-up of an account without a password may be an ID token of another linked identity.
const oidc = getRuntime().oidc(new JoseIdTokenVerifier());

/**
 * `DELETE /identities/{id}` (bearer, a step-up body): unlinks one of the caller's identities;
 * 204. Refused (400) when it would leave the account with no way to sign in.
 */
export const handler = httpEndpoint('identityUnlink', async (event, { token }) => {
  const proof = parseIdentityStepUpText(typeof event.body === 'string' ? event.body : undefined);
  await oidc.unlink(token, event.pathParameters?.id, proof, originOf(event));
  return { status: 204 };
});

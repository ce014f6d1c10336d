import { JoseIdTokenVerifier } from '../adapters/oidc-verifier';
import { parsePasswordChange } from '../accounts/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const runtime = getRuntime();
// An account without a password sets its first one with a fresh ID token of a linked identity.
const mfa = runtime.mfa.withIdentityProof(runtime.oidc(new JoseIdTokenVerifier()));

/**
 * `POST /password`: changes the password (the current one, and on an account with a second
 * factor also that factor), revokes every session and answers 200 with a new session for the
 * caller (`{session}`); the old token stops working. An account without a password (created by
 * a provider sign-in) sets its first one without `currentPassword`, with its second factor or a
 * fresh ID token of a linked identity (docs/identities.md).
 */
export const handler = httpEndpoint('password', async (event, { token, body }) => {
  const { request, factor } = parsePasswordChange(body);
  return { status: 200, body: await mfa.changePassword(token, request, factor, originOf(event)) };
});

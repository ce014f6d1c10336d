import { JoseIdTokenVerifier } from '../adapters/oidc-verifier';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const oidc = getRuntime().oidc(new JoseIdTokenVerifier());

/**
 * `POST /identities` (bearer, step-up): links another provider identity to the caller's account
 * (201 with the identity). The ID token needs a fresh nonce like a sign-in.
 */
export const handler = httpEndpoint('identityLink', async (event, { token, body }) => ({
  status: 201,
  body: await oidc.link(token, body, originOf(event)),
}));

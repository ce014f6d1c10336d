import { JoseIdTokenVerifier } from '../adapters/oidc-verifier';
import { parseIdentityLink } from '../identities/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { config, oidc: build } = getRuntime();
const oidc = build(new JoseIdTokenVerifier());

/**
 * `POST /identities` (bearer, step-up): links another provider identity to the caller's account
 * (201 with the identity). The ID token needs a fresh nonce like a sign-in.
 */
export const handler = httpEndpoint('identityLink', async (event, { token, body }) => ({
  status: 201,
  body: await oidc.link(token, parseIdentityLink(body, config.oidcProviders), originOf(event)),
}));

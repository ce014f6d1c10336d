import { JoseIdTokenVerifier } from '../adapters/oidc-verifier';
import { parseOidcLogin } from '../identities/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { config, logger, oidc: build } = getRuntime();
// Key sets and discovery documents are cached for the life of this instance.
const oidc = build(new JoseIdTokenVerifier());

/**
 * `POST /login/oidc`: signs in with a provider's ID token. 200 with the `POST /login` body (or
 * its second-factor challenge) for a linked identity; 201 with the `POST /register` body for a
 * new account named `username`; 400 `username_required` for an unknown identity without one.
 */
export const handler = httpEndpoint('loginOidc', async (event, { body }) => {
  const request = parseOidcLogin(body, config.oidcProviders);
  logger.appendKeys({ provider: request.provider.name });
  return oidc.login(request, originOf(event));
});

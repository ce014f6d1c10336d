import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

// No verifier: listing verifies no token, so this function does not load jose.
const oidc = getRuntime().oidc();

/** `GET /identities`: the identities linked to the caller's account (200 `{identities}`). */
export const handler = httpEndpoint('identitiesList', async (_event, { token }) => ({
  status: 200,
  body: await oidc.list(token),
}));

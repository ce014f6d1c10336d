import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

// No verifier: issuing a nonce fetches nothing, so this function does not load jose.
const oidc = getRuntime().oidc();

/** `POST /login/oidc/nonce`: a single-use nonce for the provider's sign-in (200 `{nonce, expiresAt}`). */
export const handler = httpEndpoint('oidcNonce', async () => ({ status: 200, body: await oidc.issueNonce() }));

import { parseTotpRemove } from '../core/mfa/requests';
import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `DELETE /mfa/totp` (a step-up with a factor: `{code}`, `{recoveryCode}` or `{challenge, passkey}`): removes the authenticator app; 204. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const proof = parseTotpRemove(event.body);
  await mfa.removeTotp(token, proof, originOf(event));
  return { status: 204 };
});

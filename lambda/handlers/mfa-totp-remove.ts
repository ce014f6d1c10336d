import { parseTotpRemove } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `DELETE /mfa/totp` (a step-up with a factor: `{code}`, `{recoveryCode}` or `{challenge, passkey}`): removes the authenticator app; 204. */
export const handler = httpEndpoint('totpRemove', async (event, { token, body }) => {
  const proof = parseTotpRemove(body);
  await mfa.removeTotp(token, proof, originOf(event));
  return { status: 204 };
});

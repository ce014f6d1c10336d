import { requirePasskeys } from '../second-factor/passkeys';
import { parsePasskeyOptions } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa, config } = getRuntime();

/** `POST /mfa/passkeys/options` (a step-up body): WebAuthn options for `navigator.credentials.create`. */
export const handler = httpEndpoint('passkeyOptions', async (event, { token, body }) => {
  requirePasskeys(config);
  const proof = parsePasskeyOptions(body);
  return { status: 200, body: await mfa.passkeyOptions(token, proof, originOf(event)) };
});

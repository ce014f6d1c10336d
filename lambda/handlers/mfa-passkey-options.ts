import { parsePasskeyOptions } from '../core/mfa/requests';
import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/passkeys/options` (a step-up body): WebAuthn options for `navigator.credentials.create`. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const proof = parsePasskeyOptions(event.body);
  return { status: 200, body: await mfa.passkeyOptions(token, proof, originOf(event)) };
});

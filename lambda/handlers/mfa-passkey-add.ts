import { parsePasskeyAdd } from '../core/mfa/requests';
import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/passkeys` (`{credential, name?}`): adds the passkey; 201 `{id, name, recoveryCodes}`. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const { credential, name } = parsePasskeyAdd(event.body);
  return { status: 201, body: await mfa.addPasskey(token, credential, name, originOf(event)) };
});

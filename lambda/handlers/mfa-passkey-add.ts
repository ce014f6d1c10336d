import { requirePasskeys } from '../second-factor/passkeys';
import { parsePasskeyAdd } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa, config } = getRuntime();

/** `POST /mfa/passkeys` (`{credential, name?}`): adds the passkey; 201 `{id, name, recoveryCodes}`. */
export const handler = httpEndpoint('passkeyAdd', async (event, { token, body }) => {
  requirePasskeys(config);
  const { credential, name } = parsePasskeyAdd(body);
  return { status: 201, body: await mfa.addPasskey(token, credential, name, originOf(event)) };
});

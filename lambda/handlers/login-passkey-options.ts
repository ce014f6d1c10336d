import { requirePasskeys } from '../second-factor/passkeys';
import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { mfaLogin, config } = getRuntime();

/** `POST /login/passkey/options`: a passwordless sign-in's `{challenge, passkeyOptions}`. */
export const handler = httpEndpoint('passkeyLoginOptions', async () => {
  requirePasskeys(config);
  return { status: 200, body: await mfaLogin.passkeyLoginOptions() };
});

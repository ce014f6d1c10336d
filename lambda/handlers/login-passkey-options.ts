import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { mfaLogin } = getRuntime();

/** `POST /login/passkey/options`: a passwordless sign-in's `{challenge, passkeyOptions}`. */
export const handler = httpEndpoint('passkeyLoginOptions', async () => ({
  status: 200,
  body: await mfaLogin.passkeyLoginOptions(),
}));

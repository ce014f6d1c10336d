import { httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `GET /mfa`: the caller's second factors (`{totp, recoveryCodesLeft, passkeys}`), never a secret. */
export const handler = httpEndpoint('mfaStatus', async (_event, { token }) => {
  return { status: 200, body: await mfa.factors(token) };
});

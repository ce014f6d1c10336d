import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `GET /mfa`: the caller's second factors (`{totp, recoveryCodesLeft, passkeys}`), never a secret. */
export const handler = httpEndpoint({ jsonBody: false }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  return { status: 200, body: await mfa.factors(token) };
});

import { parseTotpStart } from '../core/mfa/requests';
import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/totp` (`{currentPassword}`): a pending TOTP secret, `{secret, otpauthUri}`. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const currentPassword = parseTotpStart(event.body);
  return { status: 200, body: await mfa.startTotp(token, currentPassword, originOf(event)) };
});

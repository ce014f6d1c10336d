import { parseTotpConfirm } from '../core/mfa/requests';
import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/totp/confirm` (`{code}`): confirms the pending TOTP and answers `{recoveryCodes}` once. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const code = parseTotpConfirm(event.body);
  return { status: 200, body: await mfa.confirmTotp(token, code, originOf(event)) };
});

import { parseTotpConfirm } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/totp/confirm` (`{code}`): confirms the pending TOTP and answers `{recoveryCodes}` once. */
export const handler = httpEndpoint('totpConfirm', async (event, { token, body }) => {
  const code = parseTotpConfirm(body);
  return { status: 200, body: await mfa.confirmTotp(token, code, originOf(event)) };
});

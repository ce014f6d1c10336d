import { parseTotpStart } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/totp` (a step-up body, docs/mfa.md#step-up): a pending TOTP secret, `{secret, otpauthUri}`. */
export const handler = httpEndpoint('totpStart', async (event, { token, body }) => {
  const proof = parseTotpStart(body);
  return { status: 200, body: await mfa.startTotp(token, proof, originOf(event)) };
});

import { parseTotpStart } from '../core/mfa/requests';
import { parseBearerToken } from '../core/requests';
import { authorizationHeader, httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { mfa } = getRuntime();

/** `POST /mfa/totp` (a step-up body, docs/mfa.md#step-up): a pending TOTP secret, `{secret, otpauthUri}`. */
export const handler = httpEndpoint({ jsonBody: true }, async (event) => {
  const token = parseBearerToken(authorizationHeader(event));
  const proof = parseTotpStart(event.body);
  return { status: 200, body: await mfa.startTotp(token, proof, originOf(event)) };
});

import { createAccountDeletion, propagationFromEnvironment } from '../adapters/account-deletion-wiring';
import { JoseIdTokenVerifier } from '../adapters/oidc-verifier';
import { parseStepUp } from '../second-factor/requests';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { config, dynamo, stores, sessions, stepUp: passwordStepUp, logger, oidc } = getRuntime();
// An account without a password (created by a provider sign-in) confirms with a fresh ID token of a linked identity.
const stepUp = passwordStepUp.withIdentityProof(oidc(new JoseIdTokenVerifier()));
// The request side only: the cut-off on the vending role and the purge are the worker's.
const deletion = createAccountDeletion({
  config,
  dynamo,
  stores,
  requests: {
    authenticate: (token) => sessions.authenticate(token),
    stepUp: (live, proof, origin, purpose) => stepUp.stepUp(live, proof, origin, purpose),
  },
  propagationMs: propagationFromEnvironment(process.env),
  log: (message) => logger.info(message),
});

/**
 * `DELETE /account` (a step-up body, docs/mfa.md#step-up): deletes the caller's own account.
 * At once the account refuses logins and every session, and nothing more is vended; the
 * deletion worker then cuts off its credentials, deletes its files and holds its name.
 * 202 `{deletion: {status: 'pending', completesAfter}}`.
 */
export const handler = httpEndpoint('accountDelete', async (event, { token, body }) => {
  const { proof } = parseStepUp(body);
  return { status: 202, body: { deletion: await deletion.request(token, proof, originOf(event)) } };
});

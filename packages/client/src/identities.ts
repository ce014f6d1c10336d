/**
 * Outside identities (OpenID Connect: Google, Apple, Microsoft, Auth0, Okta, any issuer the
 * operator configured) linked to the signed-in account. Signing in with one is
 * `TvmClient.createOidcNonce` then `TvmClient.loginWithIdToken`; this module lists, links and
 * unlinks them. The contract is the server's docs/api.md and docs/identities.md.
 *
 * ```ts
 * const identities = new TvmIdentities(client);
 * const { identities: linked } = await identities.list();
 * await identities.link({ provider: 'google', idToken }, { currentPassword });
 * await identities.unlink(linked[0].id, { code: '123456' });
 * ```
 */
import { UnexpectedResponseError } from './errors';
import { stepUpBody, type StepUp } from './mfa';
import type { IdentityList, IdentitySummary, OidcNonce, RequestPlan } from './types';

/** An ID token from a configured provider, as the provider's sign-in returned it. */
export interface IdTokenSignIn {
  /** The provider's name in the TVM's `oidcProviders` setting (`google`, `dev`, ...). */
  readonly provider: string;
  /** The ID token (a JWT) whose `nonce` claim is one from `createOidcNonce()`. */
  readonly idToken: string;
}

/** What `TvmClient.loginWithIdToken` takes. */
export interface IdTokenLogin extends IdTokenSignIn {
  /** Only for an identity's first sign-in: the username of the new account it creates. */
  readonly username?: string;
  /** Overrides the client's `device` label for this session. */
  readonly device?: string;
  /** Only for an identity's first sign-in where the TVM's `registration` setting is `invite`: a single-use invite code. */
  readonly invite?: string;
}

/**
 * Proof for changing the linked identities: what any step-up takes ({@link StepUp}), or, on an
 * account without a password, a fresh ID token of an identity already linked to it (with a
 * nonce from `createOidcNonce()`).
 */
export type IdentityStepUp = StepUp | IdTokenSignIn;

/** The request body fields of an {@link IdentityStepUp}. */
export function identityStepUpBody(stepUp: IdentityStepUp): Record<string, string> {
  if ('idToken' in stepUp) return { provider: stepUp.provider, idToken: stepUp.idToken };
  return stepUpBody(stepUp);
}

function malformed(what: string): UnexpectedResponseError {
  return new UnexpectedResponseError(`The token vending machine sent a malformed ${what}.`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

const isIso = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

/** Reads `POST /login/oidc/nonce`'s answer. */
export function parseOidcNonce(body: unknown): OidcNonce {
  if (!isRecord(body) || typeof body['nonce'] !== 'string' || body['nonce'] === '' || !isIso(body['expiresAt']))
    throw malformed('sign-in nonce');
  return { nonce: body['nonce'], expiresAt: body['expiresAt'] };
}

/** Reads one linked identity as the API sends it, keeping only the documented fields. */
export function parseIdentitySummary(body: unknown): IdentitySummary {
  if (!isRecord(body)) throw malformed('identity');
  const { id, provider, linkedAt } = body;
  if (typeof id !== 'string' || typeof provider !== 'string' || !isIso(linkedAt)) throw malformed('identity');
  return { id, provider, linkedAt };
}

/** Reads `GET /identities`' answer. */
export function parseIdentityList(body: unknown): IdentityList {
  if (!isRecord(body) || !Array.isArray(body['identities'])) throw malformed('identity list');
  return { identities: body['identities'].map(parseIdentitySummary) };
}

/**
 * What {@link TvmIdentities} needs of its client: its transport with the session's bearer token
 * (a `TvmClient`, named by shape so this module and the client's do not import each other).
 */
export interface IdentitiesClientSide {
  call(plan: Omit<RequestPlan, 'bearer'> & { readonly bearer?: boolean }): Promise<unknown>;
}

/**
 * The signed-in account's linked identities, on a `TvmClient`'s transport and session. Errors
 * are the client's: InvalidCredentialsError (a wrong step-up, or an ID token the TVM refused:
 * one answer for every check), SecondFactorRequiredError (the password alone on an account with
 * a second factor), InvalidRequestError (an unknown provider: field `provider`; unlinking the
 * last way to sign in), UsernameTakenError-like 409s as the API documents, NotFoundError (an id
 * that is not one of yours), LoginRequiredError without a session.
 */
export class TvmIdentities {
  constructor(private readonly client: IdentitiesClientSide) {}

  /** The identities linked to this account, oldest first. Retried on transient failures. */
  async list(): Promise<IdentityList> {
    return parseIdentityList(await this.client.call({ method: 'GET', path: '/identities', bearer: true, retry: true }));
  }

  /**
   * Links another identity to this account: `identity` is a fresh ID token of it (its nonce
   * from `createOidcNonce()`), `stepUp` proves the account as any sensitive change does (on an
   * account without a password, a fresh ID token of an identity already linked, with its own
   * nonce, sent as `stepUpProvider` and `stepUpIdToken`). Never
   * retried (a wrong password or code counts against the account, and the nonce works once).
   * @returns the new link.
   */
  async link(identity: IdTokenSignIn, stepUp?: IdentityStepUp): Promise<IdentitySummary> {
    // The body's provider and idToken are the new identity's; an ID token as proof travels beside them.
    const proof =
      stepUp === undefined
        ? {}
        : 'idToken' in stepUp
          ? { stepUpProvider: stepUp.provider, stepUpIdToken: stepUp.idToken }
          : stepUpBody(stepUp);
    const body = { provider: identity.provider, idToken: identity.idToken, ...proof };
    return parseIdentitySummary(await this.client.call({ path: '/identities', body, bearer: true, retry: false }));
  }

  /**
   * Unlinks an identity after a step-up. The TVM refuses (InvalidRequestError) when this would
   * leave the account with no way to sign in (no password, no passkey, no other identity).
   * Never retried.
   */
  async unlink(id: string, stepUp: IdentityStepUp): Promise<void> {
    await this.client.call({
      method: 'DELETE',
      path: `/identities/${encodeURIComponent(id)}`,
      body: identityStepUpBody(stepUp),
      bearer: true,
      retry: false,
    });
  }
}

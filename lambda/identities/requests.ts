/**
 * Sign-in with a provider's part of a request. The body's shape is declared in
 * lambda/contract/bodies.ts and checked by checkBody; what is left here is the provider's
 * name against the configured list, the username's rules and the step-up. The token itself
 * is checked by the verifier (its pre-checks run before any network).
 */
import { parseDeviceLabel, parseDeviceToken } from '../accounts/requests';
import { parseUsername, type Username } from '../accounts/username';
import type { IdentityLinkBody, OidcLoginBody } from '../contract/bodies';
import { ValidationError } from '../platform/errors';
import { parseStepUp, type StepUpProof } from '../second-factor/requests';
import { isIdentityId } from './identity-id';
import { parseInviteCode } from '../signup/invite-code';
import type { OidcProvider } from './ports';

/** A validated `POST /login/oidc` body. */
export interface OidcLoginRequest {
  readonly provider: OidcProvider;
  readonly idToken: string;
  /** Only to create the account on an identity's first sign-in. */
  readonly username?: Username;
  readonly device?: string;
  readonly deviceToken?: string;
  /** Only to create the account where the `registration` setting is `invite`. */
  readonly invite?: string;
}

/** A validated `POST /identities` body. */
export interface IdentityLinkRequest {
  readonly provider: OidcProvider;
  readonly idToken: string;
  readonly proof: StepUpProof;
}

/** The configured provider of that name; an unknown name is a 400 (the provider list is public configuration). */
export function findProvider(providers: readonly OidcProvider[], name: string): OidcProvider {
  const provider = providers.find((candidate) => candidate.name === name);
  if (!provider) throw new ValidationError('provider is not one this service accepts.', 'provider');
  return provider;
}

/** `POST /login/oidc`: `{provider, idToken, username?, device?, deviceToken?, invite?}`. */
export function parseOidcLogin(body: OidcLoginBody, providers: readonly OidcProvider[]): OidcLoginRequest {
  const provider = findProvider(providers, body.provider);
  const username = body.username === undefined ? undefined : parseUsername(body.username);
  const device = parseDeviceLabel(body.device);
  const deviceToken = parseDeviceToken(body.deviceToken);
  const invite = parseInviteCode(body.invite);
  return {
    provider,
    idToken: body.idToken,
    ...(invite !== undefined ? { invite } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(device !== undefined ? { device } : {}),
    ...(deviceToken !== undefined ? { deviceToken } : {}),
  };
}

/**
 * `POST /identities`: the identity to link, and a step-up: the current password, a second
 * factor, or (an account without a password) `stepUpProvider` + `stepUpIdToken` of a linked identity.
 */
export function parseIdentityLink(body: IdentityLinkBody, providers: readonly OidcProvider[]): IdentityLinkRequest {
  const provider = findProvider(providers, body.provider);
  const { stepUpProvider, stepUpIdToken, provider: _name, idToken, ...stepUp } = body;
  const { proof } = parseStepUp({
    ...stepUp,
    ...(stepUpProvider !== undefined ? { provider: stepUpProvider } : {}),
    ...(stepUpIdToken !== undefined ? { idToken: stepUpIdToken } : {}),
  });
  return { provider, idToken, proof };
}

/** An identity id from a path (`DELETE /identities/{id}`). */
export function parseIdentityId(raw: unknown): string {
  if (!isIdentityId(raw)) throw new ValidationError('The identity id is not valid.', 'id');
  return raw;
}

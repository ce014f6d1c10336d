/**
 * The second factor's part of a request: a TOTP code, a step-up proof (the password or a
 * factor), a second-factor login and the passkey bodies. The body's shape is declared in
 * lambda/contract/bodies.ts and checked by checkBody; what is left here is normalisation (a
 * code's separators) and the rules between fields (one second factor, not two). Each throws
 * ValidationError naming the field.
 */
import type { MfaLoginBody, PasskeyAddBody, PasskeyLoginBody, TotpConfirmBody } from '../contract/bodies';
import { IdentityStepUpBody, StepUpBody } from '../contract/bodies';
import { CHALLENGE_TOKEN_CHARACTERS, PASSKEY_NAME_MAX_CHARACTERS, TOTP_DIGITS } from '../contract/limits';
import { checkBody } from '../platform/body-check';
import { ValidationError } from '../platform/errors';
import { parseLabel } from '../platform/text';
import { parseLoginPassword, type Password } from '../accounts/password';
import type { SecondFactorProof } from './ports';

const CHALLENGE_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${CHALLENGE_TOKEN_CHARACTERS}}$`);
const TOTP_PATTERN = new RegExp(`^\\d{${TOTP_DIGITS}}$`);

/** A six-digit code; spaces typed between the groups are dropped. */
export function parseTotpCode(raw: string, field = 'code'): string {
  const code = raw.replace(/\s/g, '');
  if (!TOTP_PATTERN.test(code))
    throw new ValidationError(`${field} must be the ${TOTP_DIGITS}-digit code from your authenticator app.`, field);
  return code;
}

/** The second factor fields a body may carry. */
export interface FactorFields {
  readonly code?: string;
  readonly recoveryCode?: string;
  readonly passkey?: string;
  readonly challenge?: string;
}

/** `code` or `recoveryCode`, or neither when `optional`. Both at once is a 400. */
export function proofFrom(body: Pick<FactorFields, 'code' | 'recoveryCode'>, optional: boolean): SecondFactorProof {
  if (body.code !== undefined && body.recoveryCode !== undefined)
    throw new ValidationError('Give either code or recoveryCode, not both.', 'recoveryCode');
  if (body.code !== undefined) return { code: parseTotpCode(body.code) };
  // Its length is the body's declaration; the code itself is checked against the stored hashes.
  if (body.recoveryCode !== undefined) return { recoveryCode: body.recoveryCode };
  if (optional) return {};
  throw new ValidationError('code (from your authenticator app) or recoveryCode is required.', 'code');
}

/**
 * A passkey as step-up: an answer to a challenge from `POST /login/passkey/options` (any
 * passkey of this site, user verification required); it must be one of the caller's passkeys.
 */
export interface PasskeyStepUp {
  /** The challenge token `POST /login/passkey/options` answered. */
  readonly challenge: string;
  /** The browser's WebAuthn answer, parsed. */
  readonly response: Record<string, unknown>;
}

/**
 * Step-up proof: the current password (accounts without a second factor), or a fresh second
 * factor: a code, a recovery code or a passkey (accounts with one; MfaService.stepUp).
 */
export type StepUpProof =
  | { readonly currentPassword: Password }
  | SecondFactorProof
  | { readonly passkeyAssertion: PasskeyStepUp }
  | { readonly identityToken: IdentityTokenStepUp };

/**
 * An ID token as step-up, for an account without a password (lambda/identities/): a fresh
 * token (its own nonce) of an identity linked to the account. Its shape is checked by the verifier.
 */
export interface IdentityTokenStepUp {
  readonly provider: string;
  readonly idToken: string;
}

/** The second factor of a step-up (`code`, `recoveryCode`, or `passkey` with `challenge`), if it has one. */
export function factorProofFrom(body: FactorFields): StepUpProof | undefined {
  if (body.passkey !== undefined || body.challenge !== undefined) {
    if (body.code !== undefined || body.recoveryCode !== undefined)
      throw new ValidationError('Give one second factor.', 'passkey');
    if (body.passkey === undefined)
      throw new ValidationError('passkey (the WebAuthn answer to challenge) is required with challenge.', 'passkey');
    return {
      passkeyAssertion: {
        challenge: parseChallengeToken(body.challenge),
        response: parsePasskeyResponse(body.passkey, 'passkey'),
      },
    };
  }
  if (body.code === undefined && body.recoveryCode === undefined) return undefined;
  return proofFrom(body, false);
}

/** A step-up body: exactly one of `currentPassword`, `code`, `recoveryCode` or `passkey`+`challenge`. */
export function parseStepUp(body: StepUpBody | IdentityStepUpBody): { proof: StepUpProof } {
  const factor = factorProofFrom(body);
  const { provider, idToken } = body as IdentityStepUpBody;
  if (provider !== undefined || idToken !== undefined) {
    if (provider === undefined || idToken === undefined)
      throw new ValidationError('Give provider and idToken together.', provider === undefined ? 'provider' : 'idToken');
    if (factor !== undefined || body.currentPassword !== undefined)
      throw new ValidationError('Give one proof: the current password, a second factor or an ID token.', 'idToken');
    return { proof: { identityToken: { provider, idToken } } };
  }
  if (body.currentPassword !== undefined) {
    if (factor !== undefined)
      throw new ValidationError('Give the current password or a second factor, not both.', 'currentPassword');
    return { proof: { currentPassword: parseLoginPassword(body.currentPassword, 'currentPassword') } };
  }
  if (factor === undefined) {
    throw new ValidationError(
      'Confirm it is you: give currentPassword, or with a second factor code, recoveryCode or passkey.',
      'currentPassword',
    );
  }
  return { proof: factor };
}

/** `POST /mfa/totp`: a step-up body (the password, or a factor the account already has). */
export function parseTotpStart(body: StepUpBody): StepUpProof {
  return parseStepUp(body).proof;
}

/** `POST /mfa/totp/confirm`: `{code}`. */
export function parseTotpConfirm(body: TotpConfirmBody): string {
  return parseTotpCode(body.code);
}

/** `DELETE /mfa/totp`: a step-up body; the account has a factor, so a code, a recovery code or a passkey. */
export function parseTotpRemove(body: StepUpBody): StepUpProof {
  return parseStepUp(body).proof;
}

/** A validated `POST /login/mfa` body. */
export interface MfaLoginRequest {
  readonly challenge: string;
  readonly proof: SecondFactorProof;
  /** A WebAuthn authentication response, for a passkey answer. */
  readonly passkey?: unknown;
}

/** `POST /login/mfa`: `{challenge, code}`, `{challenge, recoveryCode}` or `{challenge, passkey}`. */
export function parseMfaLogin(body: MfaLoginBody): MfaLoginRequest {
  const challenge = parseChallengeToken(body.challenge);
  if (body.passkey !== undefined) {
    if (body.code !== undefined || body.recoveryCode !== undefined)
      throw new ValidationError('Give one second factor.', 'passkey');
    return { challenge, proof: {}, passkey: parsePasskeyResponse(body.passkey, 'passkey') };
  }
  return { challenge, proof: proofFrom(body, false) };
}

/** A challenge token from a body; its shape only (a wrong one is a 401 later). */
function parseChallengeToken(raw: string | undefined): string {
  if (raw === undefined) throw new ValidationError('challenge is required.', 'challenge');
  if (!CHALLENGE_PATTERN.test(raw)) throw new ValidationError('challenge is not a sign-in challenge.', 'challenge');
  return raw;
}

/** An optional step-up body of a route without a body model (`DELETE /sessions/{id}`): raw JSON text or nothing. */
export function parseOptionalStepUp(rawBody: string | null | undefined): StepUpProof | undefined {
  if (rawBody === null || rawBody === undefined || rawBody.trim() === '') return undefined;
  return parseStepUpText(rawBody);
}

/** A required step-up body as raw JSON text (routes without a body model), checked against its declaration. */
export function parseStepUpText(rawBody: string | undefined): StepUpProof {
  if (rawBody === undefined || rawBody.trim() === '') return parseStepUp({}).proof;
  let body: unknown;
  try {
    body = JSON.parse(rawBody) as unknown;
  } catch {
    throw new ValidationError('The body is not valid JSON.');
  }
  return parseStepUp(checkBody(StepUpBody, body)).proof;
}

/** A WebAuthn response sent as JSON text (the route models hold strings only): the parsed object. */
function parsePasskeyResponse(raw: string, field: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    throw new ValidationError(`${field} is not valid JSON.`, field);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ValidationError(`${field} must be a JSON object.`, field);
  return parsed as Record<string, unknown>;
}

/** `POST /mfa/passkeys/options`: a step-up body. */
export function parsePasskeyOptions(body: StepUpBody): StepUpProof {
  return parseStepUp(body).proof;
}

/** `POST /mfa/passkeys`: `{credential, name?}`; the name is "Passkey" when none is given. */
export function parsePasskeyAdd(body: PasskeyAddBody): { credential: Record<string, unknown>; name: string } {
  const credential = parsePasskeyResponse(body.credential, 'credential');
  return {
    credential,
    name: body.name === undefined ? 'Passkey' : parseLabel(body.name, 'name', PASSKEY_NAME_MAX_CHARACTERS),
  };
}

/** A passkey id from a path (`DELETE /mfa/passkeys/{id}`): base64url. */
export function parsePasskeyId(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{1,1024}$/.test(raw))
    throw new ValidationError('The passkey id is not valid.', 'id');
  return raw;
}

/** `POST /login/passkey`: `{challenge, credential}`. */
export function parsePasskeyLogin(body: PasskeyLoginBody): { challenge: string; credential: Record<string, unknown> } {
  return {
    challenge: parseChallengeToken(body.challenge),
    credential: parsePasskeyResponse(body.credential, 'credential'),
  };
}

/** A required step-up body as raw JSON text that may also be an ID token (`DELETE /identities/{id}`). */
export function parseIdentityStepUpText(rawBody: string | undefined): StepUpProof {
  if (rawBody === undefined || rawBody.trim() === '') return parseStepUp({}).proof;
  let body: unknown;
  try {
    body = JSON.parse(rawBody) as unknown;
  } catch {
    throw new ValidationError('The body is not valid JSON.');
  }
  return parseStepUp(checkBody(IdentityStepUpBody, body)).proof;
}

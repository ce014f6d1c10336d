/** Validation of the second-factor request bodies. Each throws ValidationError naming the field. */
import { ValidationError } from '../../platform/errors';
import {
  PASSKEY_NAME_MAX_CHARACTERS,
  PASSKEY_RESPONSE_MAX_CHARACTERS,
  CHALLENGE_TOKEN_CHARACTERS, RECOVERY_CODE_CHARACTERS, RECOVERY_CODE_INPUT_MAX_CHARACTERS, TOTP_CODE_INPUT_MAX_CHARACTERS, TOTP_DIGITS } from '../limits';
import { parseChangePasswordRequest, parseLoginPassword, type ChangePasswordRequest } from '../requests';
import { checkWellFormed } from '../../accounts/password';
import type { Password } from '../../accounts/password';
import type { SecondFactorProof } from '../../second-factor/ports';

const CHALLENGE_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${CHALLENGE_TOKEN_CHARACTERS}}$`);

function asRecord(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('The body must be a JSON object.');
  const record = body as Record<string, unknown>;
  const extra = Object.keys(record).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new ValidationError(`Unexpected field "${extra}"; allowed: ${allowed.join(', ')}.`, extra);
  return record;
}

/** A six-digit code; spaces typed between the groups are dropped. */
export function parseTotpCode(raw: unknown, field = 'code'): string {
  if (typeof raw !== 'string') throw new ValidationError(`${field} must be a string.`, field);
  if (raw.length > TOTP_CODE_INPUT_MAX_CHARACTERS) throw new ValidationError(`${field} must be the ${TOTP_DIGITS}-digit code from your authenticator app.`, field);
  const code = raw.replace(/\s/g, '');
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) {
    throw new ValidationError(`${field} must be the ${TOTP_DIGITS}-digit code from your authenticator app.`, field);
  }
  return code;
}

function parseRecoveryCode(raw: unknown): string {
  if (typeof raw !== 'string' || [...raw].length < RECOVERY_CODE_CHARACTERS || [...raw].length > RECOVERY_CODE_INPUT_MAX_CHARACTERS) {
    throw new ValidationError('recoveryCode must be one of your recovery codes.', 'recoveryCode');
  }
  return raw;
}

/**
 * `code` or `recoveryCode` from a record whose other fields were checked, or neither when
 * `optional`. Both at once is a 400.
 */
export function proofFrom(record: Record<string, unknown>, optional: boolean): SecondFactorProof {
  const hasCode = record.code !== undefined;
  const hasRecovery = record.recoveryCode !== undefined;
  if (hasCode && hasRecovery) throw new ValidationError('Give either code or recoveryCode, not both.', 'recoveryCode');
  if (hasCode) return { code: parseTotpCode(record.code) };
  if (hasRecovery) return { recoveryCode: parseRecoveryCode(record.recoveryCode) };
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
export type StepUpProof = { readonly currentPassword: Password } | SecondFactorProof | { readonly passkeyAssertion: PasskeyStepUp };

/** The fields a step-up body may carry. */
export const STEP_UP_FIELDS = ['currentPassword', 'code', 'recoveryCode', 'passkey', 'challenge'] as const;

/** The second factor of a step-up record (`code`, `recoveryCode`, or `passkey` with `challenge`), if it has one. */
function factorProofFrom(record: Record<string, unknown>): StepUpProof | undefined {
  if (record.passkey !== undefined || record.challenge !== undefined) {
    if (record.code !== undefined || record.recoveryCode !== undefined) throw new ValidationError('Give one second factor.', 'passkey');
    if (record.passkey === undefined) throw new ValidationError('passkey (the WebAuthn answer to challenge) is required with challenge.', 'passkey');
    return { passkeyAssertion: { challenge: parseChallengeToken(record.challenge), response: parsePasskeyResponse(record.passkey, 'passkey') } };
  }
  if (record.code === undefined && record.recoveryCode === undefined) return undefined;
  return proofFrom(record, false);
}

/**
 * A step-up body: exactly one of `currentPassword`, `code`, `recoveryCode` or
 * `passkey`+`challenge` (plus `extra` fields the caller reads).
 */
export function parseStepUp(body: unknown, extra: readonly string[] = []): { proof: StepUpProof; record: Record<string, unknown> } {
  const record = asRecord(body ?? {}, [...STEP_UP_FIELDS, ...extra]);
  const factor = factorProofFrom(record);
  if (record.currentPassword !== undefined) {
    if (factor !== undefined) throw new ValidationError('Give the current password or a second factor, not both.', 'currentPassword');
    return { proof: { currentPassword: parseLoginPassword(record.currentPassword, 'currentPassword') }, record };
  }
  if (factor === undefined) {
    throw new ValidationError('Confirm it is you: give currentPassword, or with a second factor code, recoveryCode or passkey.', 'currentPassword');
  }
  return { proof: factor, record };
}

/**
 * `POST /password`: `{currentPassword, newPassword}` and, on an account with a second factor,
 * one of `code`, `recoveryCode` or `passkey`+`challenge`.
 */
export function parsePasswordChange(body: unknown): { request: ChangePasswordRequest; factor: StepUpProof | undefined } {
  const record = asRecord(body, ['currentPassword', 'newPassword', 'code', 'recoveryCode', 'passkey', 'challenge']);
  const { code: _code, recoveryCode: _recoveryCode, passkey: _passkey, challenge: _challenge, ...passwords } = record;
  return { request: parseChangePasswordRequest(passwords), factor: factorProofFrom(record) };
}

/** `POST /mfa/totp`: a step-up body (the password, or a factor the account already has). */
export function parseTotpStart(body: unknown): StepUpProof {
  return parseStepUp(body).proof;
}

/** `POST /mfa/totp/confirm`: `{code}`. */
export function parseTotpConfirm(body: unknown): string {
  const record = asRecord(body, ['code']);
  if (record.code === undefined) throw new ValidationError('code is required.', 'code');
  return parseTotpCode(record.code);
}

/** `DELETE /mfa/totp`: a step-up body; the account has a factor, so a code, a recovery code or a passkey. */
export function parseTotpRemove(body: unknown): StepUpProof {
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
export function parseMfaLogin(body: unknown): MfaLoginRequest {
  const record = asRecord(body, ['challenge', 'code', 'recoveryCode', 'passkey']);
  const challenge = parseChallengeToken(record.challenge);
  if (record.passkey !== undefined) {
    if (record.code !== undefined || record.recoveryCode !== undefined) throw new ValidationError('Give one second factor.', 'passkey');
    return { challenge, proof: {}, passkey: parsePasskeyResponse(record.passkey, 'passkey') };
  }
  return { challenge, proof: proofFrom(record, false) };
}

/** A challenge token from a body; its shape only (a wrong one is a 401 later). */
export function parseChallengeToken(raw: unknown): string {
  if (raw === undefined) throw new ValidationError('challenge is required.', 'challenge');
  if (typeof raw !== 'string' || !CHALLENGE_PATTERN.test(raw)) throw new ValidationError('challenge is not a sign-in challenge.', 'challenge');
  return raw;
}

/** The second factor a reset body may carry next to the reset code. */
export function parseResetSecondFactor(record: Record<string, unknown>): SecondFactorProof {
  return proofFrom(record, true);
}

/** An optional step-up body of a route without a body model (`DELETE /sessions/{id}`): raw JSON text or nothing. */
export function parseOptionalStepUp(rawBody: string | null | undefined): StepUpProof | undefined {
  if (rawBody === null || rawBody === undefined || rawBody.trim() === '') return undefined;
  return parseStepUpText(rawBody);
}

/** A required step-up body as raw JSON text (routes without a body model). */
export function parseStepUpText(rawBody: string | undefined): StepUpProof {
  if (rawBody === undefined || rawBody.trim() === '') return parseStepUp({}).proof;
  let body: unknown;
  try {
    body = JSON.parse(rawBody) as unknown;
  } catch {
    throw new ValidationError('The body is not valid JSON.');
  }
  return parseStepUp(body).proof;
}

/** A WebAuthn response sent as JSON text (the route models hold strings only): the parsed object. */
export function parsePasskeyResponse(raw: unknown, field: string): Record<string, unknown> {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > PASSKEY_RESPONSE_MAX_CHARACTERS) {
    throw new ValidationError(`${field} must be the browser's WebAuthn answer as JSON text, at most ${PASSKEY_RESPONSE_MAX_CHARACTERS} characters.`, field);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    throw new ValidationError(`${field} is not valid JSON.`, field);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ValidationError(`${field} must be a JSON object.`, field);
  return parsed as Record<string, unknown>;
}

/** `POST /mfa/passkeys/options`: a step-up body. */
export function parsePasskeyOptions(body: unknown): StepUpProof {
  return parseStepUp(body).proof;
}

/** `POST /mfa/passkeys`: `{credential, name?}`. */
export function parsePasskeyAdd(body: unknown): { credential: Record<string, unknown>; name: string } {
  const record = asRecord(body, ['credential', 'name']);
  const credential = parsePasskeyResponse(record.credential, 'credential');
  if (record.name === undefined) return { credential, name: 'Passkey' };
  if (typeof record.name !== 'string') throw new ValidationError('name must be a string.', 'name');
  checkWellFormed(record.name, 'name');
  const name = record.name.normalize('NFKC').trim();
  if (name.length === 0 || [...name].length > PASSKEY_NAME_MAX_CHARACTERS || /[\p{Cc}\p{Cf}]/u.test(name)) {
    throw new ValidationError(`name must be 1-${PASSKEY_NAME_MAX_CHARACTERS} printable characters.`, 'name');
  }
  return { credential, name };
}

/** A passkey id from a path (`DELETE /mfa/passkeys/{id}`): base64url. */
export function parsePasskeyId(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{1,1024}$/.test(raw)) throw new ValidationError('The passkey id is not valid.', 'id');
  return raw;
}

/** `POST /login/passkey`: `{challenge, credential}`. */
export function parsePasskeyLogin(body: unknown): { challenge: string; credential: Record<string, unknown> } {
  const record = asRecord(body, ['challenge', 'credential']);
  return { challenge: parseChallengeToken(record.challenge), credential: parsePasskeyResponse(record.credential, 'credential') };
}

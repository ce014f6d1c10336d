/**
 * From a checked request body to the domain's request: the body's shape (fields, types,
 * lengths) is declared once in lambda/contract/bodies.ts and checked by checkBody (body-check.ts); what
 * is left here is the domain's part, normalisation (NFKC, lower case, a code's separators) and
 * the rules between fields (one second factor, not two). Each throws ValidationError naming the
 * field.
 */
import type {
  LoginBody,
  MfaLoginBody,
  PasskeyAddBody,
  PasskeyLoginBody,
  PasswordChangeBody,
  PasswordResetBody,
  RegisterBody,
  TotpConfirmBody,
} from '../contract/bodies';
import { StepUpBody } from '../contract/bodies';
import {
  CHALLENGE_TOKEN_CHARACTERS,
  DEVICE_MAX_CHARACTERS,
  PASSKEY_NAME_MAX_CHARACTERS,
  PASSWORD_MAX_BYTES,
  TOTP_DIGITS,
} from '../contract/limits';
import { checkBody } from './body-check';
import { ValidationError } from './errors';
import type { SecondFactorProof } from '../second-factor/ports';
import { checkWellFormed, parsePassword, type Password } from '../accounts/password';
import { parseResetCode } from '../accounts/reset-code';
import { isWellFormedDeviceToken } from '../accounts/device-trust';
import { isWellFormedSessionToken } from '../sessions/session-token';
import { parseUsername, type Username } from '../accounts/username';

/** A validated `POST /register` body. */
export interface RegisterRequest {
  readonly username: Username;
  readonly password: Password;
  /** A label for the device, kept with the session the registration opens (as at login). */
  readonly device?: string;
}

/** A validated `POST /login` body. */
export interface LoginRequest {
  readonly username: Username;
  /** Only normalised and size-checked: rules for new passwords do not apply to old ones. */
  readonly password: Password;
  readonly device?: string;
  /** The device token a previous login returned, if the app kept one. */
  readonly deviceToken?: string;
}

/** A validated `POST /password` body. */
export interface ChangePasswordRequest {
  readonly currentPassword: Password;
  readonly newPassword: Password;
}

/** A validated `POST /password/reset` body. */
export interface ResetPasswordRequest {
  readonly username: Username;
  /** Normalised: upper case, no separators. */
  readonly resetCode: string;
  readonly newPassword: Password;
  /** For an account with a second factor: a TOTP or recovery code. */
  readonly secondFactor?: SecondFactorProof;
}

/** A password change's two passwords: the current one as at login, the new one on the full rules. */
export function parseChangePasswordRequest(
  body: Pick<PasswordChangeBody, 'currentPassword' | 'newPassword'>,
): ChangePasswordRequest {
  return {
    currentPassword: parseLoginPassword(body.currentPassword, 'currentPassword'),
    newPassword: parsePassword(body.newPassword, 'newPassword'),
  };
}

/** A reset: username, the operator's code, a new password on the full rules, and a second factor if given. */
export function parseResetPasswordRequest(body: PasswordResetBody): ResetPasswordRequest {
  return {
    username: parseUsername(body.username),
    resetCode: parseResetCode(body.resetCode),
    newPassword: parsePassword(body.newPassword, 'newPassword'),
    secondFactor: proofFrom(body, true),
  };
}

const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** Checks a session id from a path (`DELETE /sessions/{id}`). */
export function parseSessionId(raw: unknown): string {
  if (typeof raw !== 'string' || !SESSION_ID_PATTERN.test(raw)) {
    throw new ValidationError('The session id is not valid.', 'id');
  }
  return raw;
}

/** A register body: `username` and `password`, both on their rules, and an optional `device` label. */
export function parseRegisterRequest(body: RegisterBody): RegisterRequest {
  const username = parseUsername(body.username);
  const password = parsePassword(body.password);
  const device = parseDeviceLabel(body.device);
  return { username, password, ...(device !== undefined ? { device } : {}) };
}

/** Normalises a password given at login; longer than any password could be set is a 400. */
export function parseLoginPassword(raw: string, field = 'password'): Password {
  checkWellFormed(raw, field);
  const normalised = raw.normalize('NFKC');
  if (normalised.length === 0) throw new ValidationError(`${field} must not be empty.`, field);
  if (Buffer.byteLength(normalised, 'utf8') > PASSWORD_MAX_BYTES) {
    throw new ValidationError(`${field} must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8.`, field);
  }
  return normalised as Password;
}

/** A login body: `username`, `password`, an optional `device` label and `deviceToken`. */
export function parseLoginRequest(body: LoginBody): LoginRequest {
  const username = parseUsername(body.username);
  const password = parseLoginPassword(body.password);
  const deviceToken = parseDeviceToken(body.deviceToken);
  const withToken = deviceToken === undefined ? {} : { deviceToken };
  const device = parseDeviceLabel(body.device);
  if (device === undefined) return { username, password, ...withToken };
  return { username, password, device, ...withToken };
}

/** A printable label (a device, a passkey): 1 to `max` characters after NFKC and trimming. */
function parseLabel(raw: string, field: string, max: number): string {
  checkWellFormed(raw, field);
  const label = raw.normalize('NFKC').trim();
  // Printable text only: labels are shown in lists and written to logs.
  if (label.length === 0 || [...label].length > max || /[\p{Cc}\p{Cf}]/u.test(label)) {
    throw new ValidationError(`${field} must be 1-${max} printable characters.`, field);
  }
  return label;
}

/** An optional device label (register and login). */
function parseDeviceLabel(device: string | undefined): string | undefined {
  return device === undefined ? undefined : parseLabel(device, 'device', DEVICE_MAX_CHARACTERS);
}

/** An optional device token: absent, or the shape this TVM issues (anything else is a 400). */
function parseDeviceToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!isWellFormedDeviceToken(raw)) {
    throw new ValidationError('deviceToken must be a device token this service issued (43 characters).', 'deviceToken');
  }
  return raw;
}

/**
 * Extracts the session token from an `Authorization: Bearer <token>` header. A missing or
 * malformed header is a 401, the same as a wrong token, so probing learns nothing.
 */
export function parseBearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '');
  const token = match?.[1];
  return token !== undefined && isWellFormedSessionToken(token) ? token : undefined;
}

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
interface FactorFields {
  readonly code?: string;
  readonly recoveryCode?: string;
  readonly passkey?: string;
  readonly challenge?: string;
}

/** `code` or `recoveryCode`, or neither when `optional`. Both at once is a 400. */
function proofFrom(body: Pick<FactorFields, 'code' | 'recoveryCode'>, optional: boolean): SecondFactorProof {
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
  | { readonly passkeyAssertion: PasskeyStepUp };

/** The second factor of a step-up (`code`, `recoveryCode`, or `passkey` with `challenge`), if it has one. */
function factorProofFrom(body: FactorFields): StepUpProof | undefined {
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
export function parseStepUp(body: StepUpBody): { proof: StepUpProof } {
  const factor = factorProofFrom(body);
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

/**
 * `POST /password`: `{currentPassword, newPassword}` and, on an account with a second factor,
 * one of `code`, `recoveryCode` or `passkey`+`challenge`.
 */
export function parsePasswordChange(body: PasswordChangeBody): {
  request: ChangePasswordRequest;
  factor: StepUpProof | undefined;
} {
  return { request: parseChangePasswordRequest(body), factor: factorProofFrom(body) };
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

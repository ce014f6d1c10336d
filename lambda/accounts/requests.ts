/**
 * The accounts' part of a request: register, login, password change and reset. The body's
 * shape is declared in lambda/contract/bodies.ts and checked by checkBody; what is left here is
 * normalisation (NFKC, lower case, a reset code's separators) and the rules between fields. A
 * second factor or step-up carried by a body is parsed by lambda/second-factor/requests.ts.
 * Each throws ValidationError naming the field.
 */
import type { LoginBody, PasswordChangeBody, PasswordResetBody, RegisterBody } from '../contract/bodies';
import { DEVICE_MAX_CHARACTERS } from '../contract/limits';
import { ValidationError } from '../platform/errors';
import { parseLabel } from '../platform/text';
import type { SecondFactorProof } from '../second-factor/ports';
import { factorProofFrom, proofFrom, type StepUpProof } from '../second-factor/requests';
import { isWellFormedDeviceToken } from './device-trust';
import { parseLoginPassword, parsePassword, type Password } from './password';
import { parseResetCode } from './reset-code';
import { parseUsername, type Username } from './username';
import { parseInviteCode } from '../signup/invite-code';

/** A validated `POST /register` body. */
export interface RegisterRequest {
  readonly username: Username;
  readonly password: Password;
  /** A label for the device, kept with the session the registration opens (as at login). */
  readonly device?: string;
  /** An invite code (only the `invite` registration mode asks for one). */
  readonly invite?: string;
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
  /** Absent only to set the first password of an account without one (with a fresh proof instead). */
  readonly currentPassword?: Password;
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
  const newPassword = parsePassword(body.newPassword, 'newPassword');
  if (body.currentPassword === undefined) return { newPassword };
  return { currentPassword: parseLoginPassword(body.currentPassword, 'currentPassword'), newPassword };
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

/** A register body: `username` and `password`, both on their rules, an optional `device` label and `invite`. */
export function parseRegisterRequest(body: RegisterBody): RegisterRequest {
  const username = parseUsername(body.username);
  const password = parsePassword(body.password);
  const device = parseDeviceLabel(body.device);
  const invite = parseInviteCode(body.invite);
  return {
    username,
    password,
    ...(device !== undefined ? { device } : {}),
    ...(invite !== undefined ? { invite } : {}),
  };
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

/** An optional device label (register and login, and sign-in with a provider). */
export function parseDeviceLabel(device: string | undefined): string | undefined {
  return device === undefined ? undefined : parseLabel(device, 'device', DEVICE_MAX_CHARACTERS);
}

/** An optional device token: absent, or the shape this TVM issues (anything else is a 400). */
export function parseDeviceToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!isWellFormedDeviceToken(raw)) {
    throw new ValidationError('deviceToken must be a device token this service issued (43 characters).', 'deviceToken');
  }
  return raw;
}

/**
 * `POST /password`: `{currentPassword, newPassword}` and, on an account with a second factor,
 * one of `code`, `recoveryCode` or `passkey`+`challenge`. An account without a password leaves
 * `currentPassword` out and proves itself with its second factor or with `provider` and
 * `idToken` (a fresh ID token of a linked identity).
 */
export function parsePasswordChange(body: PasswordChangeBody): {
  request: ChangePasswordRequest;
  factor: StepUpProof | undefined;
} {
  const request = parseChangePasswordRequest(body);
  const factor = factorProofFrom(body);
  if (body.provider === undefined && body.idToken === undefined) return { request, factor };
  if (body.provider === undefined || body.idToken === undefined)
    throw new ValidationError(
      'Give provider and idToken together.',
      body.provider === undefined ? 'provider' : 'idToken',
    );
  // The ID token stands in for the current password of an account that has none, never beside it or a factor.
  if (request.currentPassword !== undefined || factor !== undefined)
    throw new ValidationError('Give one proof: the current password, a second factor or an ID token.', 'idToken');
  return { request, factor: { identityToken: { provider: body.provider, idToken: body.idToken } } };
}

import { ValidationError } from '../platform/errors';
import { DEVICE_MAX_CHARACTERS, PASSWORD_MAX_BYTES } from './limits';
import { parseResetSecondFactor } from './mfa/requests';
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

function asObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON object.');
  }
  const record = body as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => !allowed.includes(key));
  if (extra.length > 0) {
    throw new ValidationError(`Unexpected field "${extra[0]}"; allowed: ${allowed.join(', ')}.`, extra[0]);
  }
  return record;
}

function requiredField(record: Record<string, unknown>, field: string): unknown {
  if (record[field] === undefined) throw new ValidationError(`${field} is required.`, field);
  return record[field];
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

/** Validates a password change: the current password as at login, the new one on the full rules. */
export function parseChangePasswordRequest(body: unknown): ChangePasswordRequest {
  const record = asObject(body, ['currentPassword', 'newPassword']);
  return {
    currentPassword: parseLoginPassword(requiredField(record, 'currentPassword'), 'currentPassword'),
    newPassword: parsePassword(requiredField(record, 'newPassword'), 'newPassword'),
  };
}

/** Validates a reset: username, the operator's code and a new password on the full rules. */
export function parseResetPasswordRequest(body: unknown): ResetPasswordRequest {
  const record = asObject(body, ['username', 'resetCode', 'newPassword', 'code', 'recoveryCode']);
  return {
    username: parseUsername(requiredField(record, 'username')),
    resetCode: parseResetCode(requiredField(record, 'resetCode')),
    newPassword: parsePassword(requiredField(record, 'newPassword'), 'newPassword'),
    secondFactor: parseResetSecondFactor(record),
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

/** Validates a register body: `username` and `password`, both on their rules, and an optional `device` label. */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  const record = asObject(body, ['username', 'password', 'device']);
  const username = parseUsername(requiredField(record, 'username'));
  const password = parsePassword(requiredField(record, 'password'));
  const device = parseDeviceLabel(record.device);
  return { username, password, ...(device !== undefined ? { device } : {}) };
}

/** Normalises a password given at login; longer than any password could be set is a 400. */
export function parseLoginPassword(raw: unknown, field = 'password'): Password {
  if (typeof raw !== 'string') throw new ValidationError(`${field} must be a string.`, field);
  checkWellFormed(raw, field);
  const normalised = raw.normalize('NFKC');
  if (normalised.length === 0) throw new ValidationError(`${field} must not be empty.`, field);
  if (Buffer.byteLength(normalised, 'utf8') > PASSWORD_MAX_BYTES) {
    throw new ValidationError(`${field} must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8.`, field);
  }
  return normalised as Password;
}

/** Validates a login body: `username`, `password`, an optional `device` label and `deviceToken`. */
export function parseLoginRequest(body: unknown): LoginRequest {
  const record = asObject(body, ['username', 'password', 'device', 'deviceToken']);
  const username = parseUsername(requiredField(record, 'username'));
  const password = parseLoginPassword(requiredField(record, 'password'));
  const deviceToken = parseDeviceToken(record.deviceToken);
  const withToken = deviceToken === undefined ? {} : { deviceToken };
  const device = parseDeviceLabel(record.device);
  if (device === undefined) return { username, password, ...withToken };
  return { username, password, device, ...withToken };
}

/** An optional device label (register and login): absent, or 1-64 printable characters after NFKC and trimming. */
function parseDeviceLabel(device: unknown): string | undefined {
  if (device === undefined) return undefined;
  if (typeof device !== 'string') throw new ValidationError('device must be a string.', 'device');
  checkWellFormed(device, 'device');
  const label = device.normalize('NFKC').trim();
  // Printable text only: the label is shown in session lists and written to logs.
  if (label.length === 0 || [...label].length > DEVICE_MAX_CHARACTERS || /[\p{Cc}\p{Cf}]/u.test(label)) {
    throw new ValidationError(
      `device must be 1-${DEVICE_MAX_CHARACTERS} printable characters.`,
      'device',
    );
  }
  return label;
}

/** An optional device token: absent, or the shape this TVM issues (anything else is a 400). */
function parseDeviceToken(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !isWellFormedDeviceToken(raw)) {
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

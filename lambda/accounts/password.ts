import { PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARACTERS } from '../contract/limits';
import { ValidationError } from '../platform/errors';
import { checkWellFormed } from '../platform/text';

/** A password that passed {@link parsePassword}: NFKC-normalised and within limits. */
export type Password = string & { readonly __brand: 'Password' };

// eslint-disable-next-line no-control-regex -- the point is to find control characters.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Characters (code points) in a normalised password. */
export function passwordCharacters(password: string): number {
  return [...password].length;
}

/**
 * Normalises a password (NFKC, so the same text typed on two keyboards matches) and checks
 * its limits. `field` names the body field in the error. Rules that need configuration or
 * context (a higher minimum, common and context words) are {@link NewPasswordPolicy}'s.
 */
export function parsePassword(raw: unknown, field = 'password'): Password {
  if (typeof raw !== 'string') throw new ValidationError(`${field} must be a string.`, field);
  checkWellFormed(raw, field);
  const normalised = raw.normalize('NFKC');
  if (passwordCharacters(normalised) < PASSWORD_MIN_CHARACTERS) {
    throw new ValidationError(`${field} must be at least ${PASSWORD_MIN_CHARACTERS} characters.`, field);
  }
  if (Buffer.byteLength(normalised, 'utf8') > PASSWORD_MAX_BYTES) {
    throw new ValidationError(`${field} must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8.`, field);
  }
  if (CONTROL_CHARACTERS.test(normalised)) {
    throw new ValidationError(`${field} must not contain control characters.`, field);
  }
  return normalised as Password;
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

/** Hashes and verifies passwords. The hash never leaves the store and is never logged. */
export interface PasswordHasher {
  /** A hash in the current scheme at the configured cost. */
  hash(password: Password): Promise<string>;
  /**
   * Checks a password exactly (no truncation). A wrong password against a hash weaker than
   * the configured one costs as long as against a current one.
   */
  verify(password: Password, hash: string): Promise<boolean>;
  /**
   * Spends the same time as a real {@link verify} against a current hash, so an unknown
   * username costs as long as a wrong password. Always resolves false.
   */
  verifyAgainstDummy(password: Password): Promise<false>;
  /** True when `hash` is not in the current scheme at the configured cost: a login re-hashes it. */
  needsRehash(hash: string): boolean;
}

/**
 * The stored "hash" of an account created by signing in with a provider (lambda/identities/):
 * no password matches it. It is not a hash this TVM writes, so a password check against it
 * still spends a dummy bcrypt compare (BcryptPasswordHasher.verify) and fails: the time does
 * not tell that the account has no password.
 */
export const NO_PASSWORD = '!no-password';

/** Whether the account has a password of its own (not {@link NO_PASSWORD}). */
export function hasPassword(user: { readonly passwordHash: string }): boolean {
  return user.passwordHash !== NO_PASSWORD;
}

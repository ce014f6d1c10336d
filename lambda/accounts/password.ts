import { PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARACTERS } from '../contract/limits';
import { ValidationError } from '../platform/errors';

/** A password that passed {@link parsePassword}: NFKC-normalised and within limits. */
export type Password = string & { readonly __brand: 'Password' };

// eslint-disable-next-line no-control-regex -- the point is to find control characters.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Refuses text that is not valid Unicode (a lone UTF-16 surrogate): it has no UTF-8 form, so
 * two different inputs would otherwise be stored or compared as the same U+FFFD.
 */
export function checkWellFormed(text: string, field: string): void {
  if (!text.isWellFormed())
    throw new ValidationError(`${field} is not valid Unicode text (it holds a lone surrogate).`, field);
}

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

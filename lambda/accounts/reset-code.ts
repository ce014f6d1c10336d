import { createHash, randomInt } from 'node:crypto';
import { RESET_CODE_CHARACTERS, RESET_CODE_INPUT_MAX_CHARACTERS } from '../contract/limits';
import { ValidationError } from '../platform/errors';

/** Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A reset code is valid for one hour. */
export const RESET_CODE_TTL_MS = 60 * 60 * 1000;

/** A new one-time reset code, grouped for reading: `ABCD-EFGH-JKMN-PQRS`. */
export function newResetCode(): string {
  const characters = Array.from({ length: RESET_CODE_CHARACTERS }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return characters.match(/.{4}/g)!.join('-');
}

/**
 * Normalises a typed code (case, dashes, spaces, and the look-alikes Crockford maps: O→0,
 * I/L→1) and checks its shape. Throws ValidationError (field `resetCode`).
 */
export function parseResetCode(raw: unknown): string {
  if (typeof raw !== 'string') throw new ValidationError('resetCode must be a string.', 'resetCode');
  if (raw.length > RESET_CODE_INPUT_MAX_CHARACTERS) {
    throw new ValidationError(`resetCode must be at most ${RESET_CODE_INPUT_MAX_CHARACTERS} characters.`, 'resetCode');
  }
  const normalised = raw.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (
    normalised.length !== RESET_CODE_CHARACTERS ||
    [...normalised].some((character) => !ALPHABET.includes(character))
  ) {
    throw new ValidationError('resetCode must be the 16-character code from your operator.', 'resetCode');
  }
  return normalised;
}

/** The stored form of a code: SHA-256 of its normalised characters. */
export function hashResetCode(code: string): string {
  return createHash('sha256').update(parseResetCode(code), 'utf8').digest('hex');
}

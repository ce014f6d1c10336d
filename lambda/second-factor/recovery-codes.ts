/**
 * Recovery codes: ten single-use codes handed out once when the first factor is confirmed,
 * for a person who lost their authenticator. Only their SHA-256 is stored: at 120 random bits
 * each (ASVS 6.5.2 asks for 112 before a plain hash will do), a hash cannot be searched back,
 * and guessing is bounded by the factor lockout besides.
 */
import { createHash, randomInt } from 'node:crypto';
import { RECOVERY_CODE_CHARACTERS as CODE_CHARACTERS } from '../contract/limits';

/** How many codes one enrolment issues. */
export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32, as reset codes use: no I, L, O or U. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** One new code, grouped for reading: `ABCD-EFGH-JKMN-PQRS-TVWX-YZ01`. */
export function newRecoveryCode(): string {
  const characters = Array.from({ length: CODE_CHARACTERS }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return characters.match(/.{4}/g)!.join('-');
}

/** A fresh set of {@link RECOVERY_CODE_COUNT} distinct codes. */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
  return [...codes];
}

/**
 * Normalises a typed code (case, dashes, spaces, and Crockford's look-alikes O→0, I/L→1);
 * undefined when it cannot be a recovery code.
 */
export function normaliseRecoveryCode(raw: string): string | undefined {
  const normalised = raw.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (normalised.length !== CODE_CHARACTERS || [...normalised].some((character) => !ALPHABET.includes(character)))
    return undefined;
  return normalised;
}

/** The stored form of a code: SHA-256 (hex) of its normalised characters. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256')
    .update(normaliseRecoveryCode(code) ?? code, 'utf8')
    .digest('hex');
}

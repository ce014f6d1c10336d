import bcrypt from 'bcryptjs';
import { ConfigurationError, ValidationError } from './errors';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARACTERS } from './limits';
import { BCRYPT_MAX_COST, BCRYPT_MIN_COST } from './settings';

/** A password that passed {@link parsePassword}: NFKC-normalised and within limits. */
export type Password = string & { readonly __brand: 'Password' };

// eslint-disable-next-line no-control-regex -- the point is to find control characters.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Normalises a password (NFKC, so the same text typed on two keyboards matches) and checks
 * its limits. `field` names the body field in the error.
 */
export function parsePassword(raw: unknown, field = 'password'): Password {
  if (typeof raw !== 'string') throw new ValidationError(`${field} must be a string.`, field);
  const normalised = raw.normalize('NFKC');
  if ([...normalised].length < PASSWORD_MIN_CHARACTERS) {
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
  hash(password: Password): Promise<string>;
  verify(password: Password, hash: string): Promise<boolean>;
  /**
   * Spends the same time as a real {@link verify} against a fixed dummy hash, so an unknown
   * username costs as long as a wrong password. Always resolves false.
   */
  verifyAgainstDummy(password: Password): Promise<false>;
}

/**
 * Hashes of a random, discarded password, one per common cost: comparing against one takes
 * as long as against a real hash of that cost, from the very first login of an instance,
 * without spending a hash at cold start. Other costs make theirs on first use.
 */
export const DUMMY_HASHES: Readonly<Record<number, string>> = {
  10: '$2b$10$zt9d1vaP3hwWbBzp4s88NuIsu1ez4echFYQXykV1oepc9XhmOMNaK',
  11: '$2b$11$ukmx/.WpXREXT6A8ZAX3F.31wpkO5fGwJvzTFZIN.ka5sKzx8miS2',
  12: '$2b$12$rip5MniVGpC3CyOcptrQ4OMJu2VpWNdoFu1ErCltovcLR/JAKpM8e',
  13: '$2b$13$mEacPtgQRdh0TLfO9Ir4k.pZWCgL.hh4PdG.tpaRtt34UAHV1wWla',
  14: '$2b$14$dyvDFEtuGevrBu1MEIdOa.NqUlpSZgPfnT4Yor44Z6MKLUj97in.W',
};

/** bcrypt (bcryptjs, pure JS) at a fixed cost. */
export class BcryptPasswordHasher implements PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  constructor(readonly cost: number) {
    if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
      throw new ConfigurationError(`bcrypt cost must be an integer from ${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}.`);
    }
  }

  hash(password: Password): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  verify(password: Password, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash);
  }

  async verifyAgainstDummy(password: Password): Promise<false> {
    const known = DUMMY_HASHES[this.cost];
    this.dummyHash ??= known !== undefined ? Promise.resolve(known) : bcrypt.hash('dummy password for timing', this.cost);
    await bcrypt.compare(password, await this.dummyHash);
    return false;
  }
}

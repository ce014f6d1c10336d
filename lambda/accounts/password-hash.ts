/**
 * Stored password hashes: a versioned format, exact verification of passwords of any length,
 * and the same work for every wrong password whatever the age of the hash it meets.
 *
 * | scheme | stored form | what bcrypt reads |
 * |---|---|---|
 * | 1 (legacy) | `$2b$<cost>$…` | the NFKC password itself (at most 72 bytes, bcrypt's limit) |
 * | 2 (current) | `tvm2$2b$<cost>$…` | base64 of HMAC-SHA-256(key = {@link PREHASH_KEY}, password): 44 ASCII bytes |
 *
 * Both carry their cost (bcrypt's own field) and their scheme, so a hash weaker than the
 * configuration is recognised, and re-hashed at the owner's next successful login.
 */
import bcrypt from 'bcryptjs';
import { createHmac } from 'node:crypto';
import { ConfigurationError } from '../platform/errors';
import type { Password, PasswordHasher } from './password';
import { BCRYPT_MAX_COST, BCRYPT_MIN_COST } from '../platform/settings';
/** The bytes bcrypt reads; a scheme-1 hash cannot vouch for anything past them. */
export const BCRYPT_INPUT_BYTES = 72;
/** The scheme new hashes are made in. */
export const CURRENT_PASSWORD_SCHEME = 2;

/**
 * The HMAC key of the scheme-2 prehash. It is public on purpose: it is not a pepper but a
 * domain separator, so a plain SHA-256 of the same password leaked by another site cannot be
 * tried against our bcrypt hashes ("password shucking"). Changing it is a new scheme.
 */
export const PREHASH_KEY = 'serverless-tvm/password-prehash/v2';

const SCHEME_2_PREFIX = 'tvm2$';
const BCRYPT_HASH = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/** A stored hash, taken apart. */
export interface ParsedPasswordHash {
  readonly scheme: 1 | 2;
  readonly cost: number;
  /** The bcrypt hash inside. */
  readonly bcryptHash: string;
}

/** Reads a stored hash's scheme and cost; undefined for anything this TVM never wrote. */
export function parsePasswordHash(stored: string): ParsedPasswordHash | undefined {
  const scheme = stored.startsWith(SCHEME_2_PREFIX) ? 2 : 1;
  const bcryptHash = scheme === 2 ? stored.slice(SCHEME_2_PREFIX.length) : stored;
  const match = BCRYPT_HASH.exec(bcryptHash);
  if (!match) return undefined;
  return { scheme, cost: Number(match[1]), bcryptHash };
}

/** The scheme-2 input to bcrypt: 44 ASCII characters (no NUL, well under 72 bytes) for a password of any length. */
export function prehashPassword(password: Password): string {
  return createHmac('sha256', PREHASH_KEY).update(password, 'utf8').digest('base64');
}

/** The two bcrypt operations the hasher uses; injected so tests can count the work. */
export interface BcryptPrimitives {
  hash(input: string, cost: number): Promise<string>;
  compare(input: string, hash: string): Promise<boolean>;
}

/** bcryptjs (pure JS, runs on the event loop). */
export const bcryptjsPrimitives: BcryptPrimitives = {
  hash: (input, cost) => bcrypt.hash(input, cost),
  compare: (input, hash) => bcrypt.compare(input, hash),
};

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

/**
 * bcrypt at a fixed cost over an HMAC-SHA-256 prehash (scheme 2), verifying scheme-1 hashes
 * too. Work per check, in bcrypt rounds (2^cost): a current hash costs 2^c; an unknown name
 * costs 2^c (a dummy); a wrong password against a weaker hash of cost k costs 2^k plus dummies
 * at costs k, k+1, …, c-1, which add up to 2^c - 2^k: the same total.
 */
export class BcryptPasswordHasher implements PasswordHasher {
  private readonly dummyHashes = new Map<number, Promise<string>>();

  constructor(
    readonly cost: number,
    private readonly bcrypt: BcryptPrimitives = bcryptjsPrimitives,
  ) {
    if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
      throw new ConfigurationError(`bcrypt cost must be an integer from ${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}.`);
    }
  }

  async hash(password: Password): Promise<string> {
    return SCHEME_2_PREFIX + (await this.bcrypt.hash(prehashPassword(password), this.cost));
  }

  async verify(password: Password, stored: string): Promise<boolean> {
    const parsed = parsePasswordHash(stored);
    // A hash this TVM never wrote matches nothing, and costs what a wrong password costs.
    if (!parsed) return this.verifyAgainstDummy(password);
    let valid: boolean;
    if (parsed.scheme === 2) {
      valid = await this.bcrypt.compare(prehashPassword(password), parsed.bcryptHash);
    } else {
      // bcrypt would ignore bytes past 72: a longer password is not the one that was set,
      // even if its first 72 bytes are. The comparison still runs, for the time.
      const exact = Buffer.byteLength(password, 'utf8') <= BCRYPT_INPUT_BYTES;
      valid = (await this.bcrypt.compare(password, parsed.bcryptHash)) && exact;
    }
    if (!valid) await this.padFrom(parsed.cost);
    return valid;
  }

  async verifyAgainstDummy(password: Password): Promise<false> {
    await this.bcrypt.compare(prehashPassword(password), await this.dummyHash(this.cost));
    return false;
  }

  needsRehash(stored: string): boolean {
    const parsed = parsePasswordHash(stored);
    return parsed === undefined || parsed.scheme !== CURRENT_PASSWORD_SCHEME || parsed.cost !== this.cost;
  }

  /** Spends 2^cost - 2^from bcrypt rounds: dummies at costs from, from+1, …, cost-1. */
  private async padFrom(from: number): Promise<void> {
    for (let cost = Math.max(from, 4); cost < this.cost; cost++) {
      await this.bcrypt.compare('padding', await this.dummyHash(cost));
    }
  }

  private dummyHash(cost: number): Promise<string> {
    let dummy = this.dummyHashes.get(cost);
    if (!dummy) {
      const known = DUMMY_HASHES[cost];
      dummy = known !== undefined ? Promise.resolve(known) : this.bcrypt.hash('dummy password for timing', cost);
      this.dummyHashes.set(cost, dummy);
    }
    return dummy;
  }
}

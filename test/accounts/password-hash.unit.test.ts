import bcrypt from 'bcryptjs';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ConfigurationError } from '../../lambda/platform/errors';
import { parsePassword, type Password } from '../../lambda/accounts/password';
import {
  BcryptPasswordHasher,
  DUMMY_HASHES,
  parsePasswordHash,
  prehashPassword,
  type BcryptPrimitives,
} from '../../lambda/accounts/password-hash';

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * bcrypt's shape without its cost: a deterministic "hash" in bcrypt's format, and a log of
 * every operation with its cost, so tests count work (2^cost per operation) instead of timing it.
 */
class CountingBcrypt implements BcryptPrimitives {
  readonly compares: number[] = [];
  readonly hashes: number[] = [];

  static fake(input: string, cost: number): string {
    const digest = createHash('sha512').update(input).digest();
    const body = [...digest]
      .map((byte) => BCRYPT_ALPHABET[byte % 64])
      .join('')
      .slice(0, 53);
    return `$2b$${String(cost).padStart(2, '0')}$${body}`;
  }

  async hash(input: string, cost: number): Promise<string> {
    this.hashes.push(cost);
    return CountingBcrypt.fake(input, cost);
  }

  async compare(input: string, hash: string): Promise<boolean> {
    const cost = Number(hash.slice(4, 6));
    this.compares.push(cost);
    return CountingBcrypt.fake(input, cost) === hash;
  }

  /** bcrypt rounds spent on comparisons so far. */
  work(): number {
    return this.compares.reduce((sum, cost) => sum + 2 ** cost, 0);
  }

  reset(): void {
    this.compares.length = 0;
    this.hashes.length = 0;
  }
}

const password = parsePassword('correct horse battery');
const wrong = parsePassword('incorrect horse battery');

describe('BcryptPasswordHasher configuration (rule 3: cost never below 10)', () => {
  it('rule 3: refuses cost 9, a non-integer and above 31 with a ConfigurationError', () => {
    for (const cost of [9, 10.5, 32, Number.NaN])
      expect(() => new BcryptPasswordHasher(cost)).toThrow(ConfigurationError);
    expect(new BcryptPasswordHasher(10).cost).toBe(10);
  });
});

describe('stored hash format (ASVS 6.2.8, issue 14 item 8: hashes carry scheme and cost)', () => {
  it('reads scheme 2 (tvm2$ + bcrypt) and scheme 1 (bare bcrypt) with their costs; refuses anything else', () => {
    const inner = CountingBcrypt.fake('x', 12);
    expect(parsePasswordHash(`tvm2$${inner}`)).toEqual({ scheme: 2, cost: 12, bcryptHash: inner });
    expect(parsePasswordHash(DUMMY_HASHES[10]!)).toEqual({ scheme: 1, cost: 10, bcryptHash: DUMMY_HASHES[10] });
    for (const junk of ['', 'tvm2$', 'fake$s1$abc', `tvm3$${inner}`, `${inner}x`])
      expect(parsePasswordHash(junk)).toBeUndefined();
  });

  it('the prehash is 44 ASCII characters for any password, so bcrypt sees every byte of a 1024-byte one', () => {
    const long = parsePassword('密'.repeat(341));
    const differsInLastCharacter = parsePassword(`${'密'.repeat(340)}码`);
    expect(prehashPassword(long)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(prehashPassword(long)).not.toBe(prehashPassword(differsInLastCharacter));
  });
});

describe('verification work (issue 14 item 8: no timing oracle; counted, not timed)', () => {
  it('a wrong password costs 2^cost bcrypt rounds whatever the stored scheme and cost, the same as an unknown name', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 10, max: 14 }),
        fc.integer({ min: 4, max: 14 }),
        fc.constantFrom(1 as const, 2 as const),
        async (configured, storedCost, scheme) => {
          fc.pre(storedCost <= configured);
          const primitives = new CountingBcrypt();
          const hasher = new BcryptPasswordHasher(configured, primitives);
          const inner = CountingBcrypt.fake(scheme === 2 ? prehashPassword(password) : password, storedCost);
          const stored = scheme === 2 ? `tvm2$${inner}` : inner;
          await hasher.verifyAgainstDummy(wrong); // makes any dummy it needs first
          primitives.reset();
          await expect(hasher.verifyAgainstDummy(wrong)).resolves.toBe(false);
          const unknownWork = primitives.work();
          primitives.reset();
          await expect(hasher.verify(wrong, stored)).resolves.toBe(false);
          expect(primitives.work()).toBe(unknownWork);
          expect(unknownWork).toBe(2 ** configured);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a right password against a weaker hash is accepted with one comparison, and that hash needs a re-hash', async () => {
    const primitives = new CountingBcrypt();
    const hasher = new BcryptPasswordHasher(12, primitives);
    const legacy = CountingBcrypt.fake(password, 10);
    await expect(hasher.verify(password, legacy)).resolves.toBe(true);
    expect(primitives.compares).toEqual([10]);
    expect(hasher.needsRehash(legacy)).toBe(true);
    expect(hasher.needsRehash(`tvm2$${CountingBcrypt.fake('x', 11)}`)).toBe(true);
    expect(hasher.needsRehash(`tvm2$${CountingBcrypt.fake('x', 13)}`)).toBe(true);
    expect(hasher.needsRehash(await hasher.hash(password))).toBe(false);
    expect(hasher.needsRehash('not a hash')).toBe(true);
  });

  it('a stored value this TVM never wrote verifies nothing and costs what a wrong password costs', async () => {
    const primitives = new CountingBcrypt();
    const hasher = new BcryptPasswordHasher(11, primitives);
    await expect(hasher.verify(password, 'plain text')).resolves.toBe(false);
    expect(primitives.work()).toBe(2 ** 11);
  });

  it('the dummy of the configured cost costs one comparison at that cost, with no hashing, for the precomputed costs', async () => {
    for (const cost of [10, 11, 12, 13, 14]) {
      const primitives = new CountingBcrypt();
      await new BcryptPasswordHasher(cost, primitives).verifyAgainstDummy(password);
      expect(primitives.compares).toEqual([cost]);
      expect(primitives.hashes).toEqual([]);
    }
  });
});

describe('with real bcrypt at cost 10', () => {
  const hasher = new BcryptPasswordHasher(10);
  let hash: string;

  beforeAll(async () => {
    hash = await hasher.hash(password);
  });

  it('rule 3: the hash never contains the password, is scheme 2 and records cost 10', () => {
    expect(hash).not.toContain(password);
    expect(hash).toMatch(/^tvm2\$\$2[aby]\$10\$[./A-Za-z0-9]{53}$/);
  });

  it('verify is true for the same password, false for another, true for its fullwidth spelling (NFKC)', async () => {
    await expect(hasher.verify(password, hash)).resolves.toBe(true);
    await expect(hasher.verify(parsePassword('correct horse battery!'), hash)).resolves.toBe(false);
    const ascii = await hasher.hash(parsePassword('password12'));
    await expect(hasher.verify(parsePassword('ｐａｓｓｗｏｒｄ１２'), ascii)).resolves.toBe(true);
  });

  it('ASVS 6.2.8: two 200-byte passwords that share their first 72 bytes are told apart (no truncation)', async () => {
    const first = parsePassword(`${'p'.repeat(72)}${'a'.repeat(128)}`);
    const second = parsePassword(`${'p'.repeat(72)}${'b'.repeat(128)}`);
    await expect(hasher.verify(second, await hasher.hash(first))).resolves.toBe(false);
    // Bare bcrypt would have said yes: it reads only 72 bytes.
    await expect(bcrypt.compare(second, await bcrypt.hash(first, 10))).resolves.toBe(true);
  });

  it('a legacy (scheme 1) hash still verifies its password, and refuses a longer one that only shares its first 72 bytes', async () => {
    const old = parsePassword('p'.repeat(72));
    const legacy = await bcrypt.hash(old, 10);
    await expect(hasher.verify(old, legacy)).resolves.toBe(true);
    await expect(hasher.verify(parsePassword(`${old}extra`), legacy)).resolves.toBe(false);
  });

  it('two hashes of the same password differ (salted)', async () => {
    await expect(hasher.hash(password)).resolves.not.toBe(hash);
  });

  it("rule 4: verifyAgainstDummy resolves false, even for the dummy's own text", async () => {
    await expect(hasher.verifyAgainstDummy(password)).resolves.toBe(false);
    await expect(hasher.verifyAgainstDummy('dummy password for timing' as Password)).resolves.toBe(false);
  });
});

describe('rule 4: the precomputed dummy hashes have the cost they are filed under', () => {
  it.each(Object.entries(DUMMY_HASHES))('cost %s', (cost, hash) => {
    expect(bcrypt.getRounds(hash)).toBe(Number(cost));
  });
});

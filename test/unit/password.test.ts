import bcrypt from 'bcryptjs';
import { ConfigurationError, ValidationError } from '../../lambda/core/errors';
import { BcryptPasswordHasher, DUMMY_HASHES, parsePassword, type Password } from '../../lambda/core/password';

function refusal(raw: unknown): ValidationError {
  try {
    parsePassword(raw);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`parsePassword accepted ${JSON.stringify(raw)}`);
}

describe('parsePassword (rule 3: Unicode-normalised, limits in UTF-8 bytes)', () => {
  it('rule 3: NFKC-normalises, so fullwidth "ｐａｓｓｗｏｒｄ１２" equals "password12"', () => {
    expect(parsePassword('ｐａｓｓｗｏｒｄ１２')).toBe('password12');
    expect(parsePassword('ｐａｓｓｗｏｒｄ１２')).toBe(parsePassword('password12'));
  });

  it('rule 3: composed and decomposed accents give the same password', () => {
    expect(parsePassword('caf\u00e9-secret')).toBe(parsePassword('cafe\u0301-secret'));
  });

  it('rule 3: accepts 72 UTF-8 bytes and refuses 73 (bcrypt reads only 72)', () => {
    expect(parsePassword('a'.repeat(72))).toHaveLength(72);
    expect(refusal('a'.repeat(73)).message).toMatch(/72 bytes/);
  });

  it('rule 3: counts bytes, not characters: 24 three-byte characters (72 bytes) pass, 25 (75 bytes) do not', () => {
    expect(parsePassword('€'.repeat(24))).toBe('€'.repeat(24));
    expect(refusal('€'.repeat(25)).field).toBe('password');
  });

  it('rule 3: refuses a 25-emoji password (100 UTF-8 bytes) although it is only 25 characters', () => {
    const emoji = '😀'.repeat(25);
    expect([...emoji]).toHaveLength(25);
    expect(Buffer.byteLength(emoji, 'utf8')).toBe(100);
    expect(refusal(emoji).message).toMatch(/72 bytes/);
  });

  it('rule 3: measures the byte limit after normalisation (a ligature that expands past 72 bytes is refused)', () => {
    // U+FDFA expands under NFKC to 18 Arabic letters, 33 bytes.
    expect(refusal('\uFDFA'.repeat(3)).field).toBe('password');
  });

  it('refuses fewer than 8 characters and accepts 8 (counted in code points, so 8 emoji count as 8)', () => {
    expect(refusal('1234567').message).toMatch(/at least 8/);
    expect(parsePassword('12345678')).toBe('12345678');
    expect(parsePassword('😀'.repeat(8))).toBe('😀'.repeat(8));
    expect(refusal('😀'.repeat(7)).message).toMatch(/at least 8/);
  });

  it.each([
    ['NUL', 'password\u0000x'],
    ['tab', 'pass\tword1'],
    ['newline', 'password1\n'],
    ['escape', 'pass\u001bword1'],
    ['DEL', 'pass\u007fword1'],
    ['C1 control', 'pass\u0085word1'],
  ])('refuses a password with a control character (%s)', (_what, raw) => {
    expect(refusal(raw).message).toMatch(/control characters/);
  });

  it('accepts spaces and punctuation inside a password', () => {
    expect(parsePassword('correct horse battery staple!')).toBe('correct horse battery staple!');
  });

  it.each([
    ['a number', 12345678],
    ['null', null],
    ['undefined', undefined],
    ['an object', { password: 'password12' }],
    ['an array', ['password12']],
  ])('refuses a non-string password (%s) naming the field', (_what, raw) => {
    expect(refusal(raw).field).toBe('password');
  });

  it('names the field given by the caller', () => {
    expect(() => parsePassword('short', 'newPassword')).toThrow(expect.objectContaining({ field: 'newPassword' }));
  });
});

describe('BcryptPasswordHasher (rule 3: cost never below 10)', () => {
  it('rule 3: refuses cost 9 with a ConfigurationError', () => {
    expect(() => new BcryptPasswordHasher(9)).toThrow(ConfigurationError);
  });

  it('rule 3: refuses a non-integer or above-31 cost', () => {
    expect(() => new BcryptPasswordHasher(10.5)).toThrow(ConfigurationError);
    expect(() => new BcryptPasswordHasher(32)).toThrow(ConfigurationError);
    expect(() => new BcryptPasswordHasher(Number.NaN)).toThrow(ConfigurationError);
  });

  it('accepts cost 10', () => {
    expect(new BcryptPasswordHasher(10).cost).toBe(10);
  });

  describe('at cost 10', () => {
    const hasher = new BcryptPasswordHasher(10);
    const password = parsePassword('correct horse battery');
    let hash: string;

    beforeAll(async () => {
      hash = await hasher.hash(password);
    });

    it('rule 3: the hash never equals or contains the password, and records cost 10', () => {
      expect(hash).not.toBe(password);
      expect(hash).not.toContain(password);
      expect(hash).toMatch(/^\$2[aby]\$10\$[./A-Za-z0-9]{53}$/);
    });

    it('verify is true for the same password and false for another', async () => {
      await expect(hasher.verify(password, hash)).resolves.toBe(true);
      await expect(hasher.verify(parsePassword('correct horse battery!'), hash)).resolves.toBe(false);
    });

    it('rule 3: the fullwidth spelling of the password verifies against the hash of its ASCII spelling', async () => {
      const ascii = await hasher.hash(parsePassword('password12'));
      await expect(hasher.verify(parsePassword('ｐａｓｓｗｏｒｄ１２'), ascii)).resolves.toBe(true);
    });

    it('two hashes of the same password differ (salted)', async () => {
      await expect(hasher.hash(password)).resolves.not.toBe(hash);
    });

    it('rule 4: verifyAgainstDummy resolves false, even for the dummy\'s own text', async () => {
      await expect(hasher.verifyAgainstDummy(password)).resolves.toBe(false);
      await expect(hasher.verifyAgainstDummy('dummy password for timing' as Password)).resolves.toBe(false);
    });
  });
});

describe('rule 4: the dummy hash matches the configured cost', () => {
  it.each(Object.entries(DUMMY_HASHES))('the precomputed dummy hash for cost %s has that cost', (cost, hash) => {
    expect(bcrypt.getRounds(hash)).toBe(Number(cost));
  });
});

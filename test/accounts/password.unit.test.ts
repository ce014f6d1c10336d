import { PASSWORD_MAX_BYTES } from '../../lambda/contract/limits';
import { ValidationError } from '../../lambda/platform/errors';
import { parsePassword } from '../../lambda/accounts/password';

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

  it('ASVS 6.2.9: accepts 1024 UTF-8 bytes and refuses 1025 (a cap that bounds the work, far above 64 characters)', () => {
    expect(PASSWORD_MAX_BYTES).toBe(1024);
    expect(parsePassword('a'.repeat(1024))).toHaveLength(1024);
    expect(refusal('a'.repeat(1025)).message).toMatch(/1024 bytes/);
  });

  it.each([
    ['Chinese (3 bytes each)', '密'],
    ['Greek (2 bytes each)', 'λ'],
    ['emoji (4 bytes each)', '😀'],
    ['Latin', 'a'],
  ])('ASVS 6.2.9: accepts 256 characters of %s, unchanged', (_script, character) => {
    const password = character.repeat(256);
    expect(parsePassword(password)).toBe(password);
  });

  it('issue 14: a 25-character Chinese passphrase (75 bytes, refused before) is accepted', () => {
    expect(parsePassword('我的密码是一个很长的句子因为长句子更安全而且好记住吗对')).toHaveLength(27);
  });

  it('counts bytes, not characters: 257 emoji (1028 bytes) are refused although they are only 257 characters', () => {
    const emoji = '😀'.repeat(257);
    expect([...emoji]).toHaveLength(257);
    expect(refusal(emoji).message).toMatch(/1024 bytes/);
  });

  it('measures the byte limit after normalisation (a ligature that expands past 1024 bytes is refused)', () => {
    // U+FDFA expands under NFKC to 18 Arabic letters, 33 bytes: 32 of them make 1056 bytes.
    expect(Buffer.byteLength('\uFDFA'.repeat(32).normalize('NFKC'), 'utf8')).toBe(1056);
    expect(refusal('\uFDFA'.repeat(32)).field).toBe('password');
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

import fc from 'fast-check';
import { USERNAME_MAX_LENGTH } from '../../lambda/contract/limits';
import { ValidationError } from '../../lambda/platform/errors';
import { isUsername, parseUsername } from '../../lambda/accounts/username';

function refusal(raw: unknown): ValidationError {
  try {
    parseUsername(raw);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`parseUsername accepted ${JSON.stringify(raw)}`);
}

describe('parseUsername (rule 1: lower-case allowlist, at most 64 characters)', () => {
  it.each([
    ['an IAM wildcard', '*'],
    ['a single-character wildcard', '?'],
    ['a name with an embedded wildcard', 'al*'],
    ['a name with an embedded single-character wildcard', 'al?ce'],
    ['a policy variable', '${aws:username}'],
    ['a dollar sign', 'a$b'],
    ['braces', 'a{b}'],
    ['a slash', '/'],
    ['a name with a slash', 'alice/bob'],
    ['a parent-directory segment', '..'],
    ['a doubled dot inside', 'a..b'],
    ['a doubled mixed punctuation', 'a._b'],
    ['a leading dot', '.alice'],
    ['a trailing dot', 'alice.'],
    ['a leading underscore', '_alice'],
    ['a trailing underscore', 'alice_'],
    ['a leading hyphen', '-alice'],
    ['a trailing hyphen', 'alice-'],
    ['a colon (ARN separator)', 'a:b'],
    ['a plus sign', 'a+b'],
    ['an at sign', 'a@b'],
    ['a comma', 'a,b'],
    ['an equals sign', 'a=b'],
    ['a percent-encoded slash', 'a%2fb'],
    ['a backslash', 'a\\b'],
    ['a quote', 'a"b'],
  ])('rule 1: refuses %s (%s)', (_what, raw) => {
    expect(refusal(raw).field).toBe('username');
  });

  it.each([
    ['a Cyrillic "а" (U+0430) look-alike', 'аlice'],
    ['a fullwidth "ａｌｉｃｅ"', 'ａｌｉｃｅ'],
    ['the Kelvin sign U+212A, which lower-cases to ASCII "k"', '\u212Aate'],
    ['a dotted capital İ (U+0130), which lower-cases to "i" plus a combining dot', '\u0130van'],
    ['a Latin small dotless ı (U+0131)', '\u0131van'],
    ['a Greek omicron look-alike', 'b\u03BFb'],
    ['an accented letter', 'zoé'],
    ['a zero-width space', 'al\u200Bice'],
    ['a right-to-left override', 'al\u202Eice'],
  ])('rule 1: refuses the Unicode look-alike: %s', (_what, raw) => {
    expect(refusal(raw).field).toBe('username');
  });

  it('rule 1: the Kelvin sign really would fold to ASCII "k", which is why it is refused before folding', () => {
    expect('\u212Aate'.toLowerCase()).toBe('kate');
    expect(() => parseUsername('\u212Aate')).toThrow(ValidationError);
  });

  it.each([
    ['empty', ''],
    ['a space', ' '],
    ['a space inside', 'al ice'],
    ['a leading space', ' alice'],
    ['a trailing space', 'alice '],
    ['a tab', 'al\tice'],
    ['a newline', 'alice\n'],
    ['a carriage return', 'al\rice'],
    ['a NUL', 'al\u0000ice'],
    ['an escape control character', 'al\u001bice'],
    ['a DEL control character', 'al\u007fice'],
    ['a C1 control character', 'al\u0085ice'],
  ])('rule 1: refuses whitespace and control characters: %s', (_what, raw) => {
    expect(refusal(raw).field).toBe('username');
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { username: 'alice' }],
    ['an array', ['alice']],
    ['a boolean', true],
  ])('refuses a non-string: %s', (_what, raw) => {
    const error = refusal(raw);
    expect(error.field).toBe('username');
    expect(error.message).toMatch(/string/);
  });

  it('folds upper case to lower case ("Alice" becomes "alice")', () => {
    expect(parseUsername('Alice')).toBe('alice');
    expect(parseUsername('ALICE.SMITH-2_X')).toBe('alice.smith-2_x');
  });

  it('accepts single ".", "_" and "-" between letters and digits', () => {
    expect(parseUsername('a.b_c-d')).toBe('a.b_c-d');
    expect(parseUsername('007')).toBe('007');
  });

  it('accepts 64 characters (the RoleSessionName limit) and refuses 65', () => {
    expect(parseUsername('a'.repeat(64))).toBe('a'.repeat(64));
    expect(refusal('a'.repeat(65)).message).toMatch(/at most 64/);
  });

  it('refuses 1 character (AssumeRole RoleSessionName needs at least 2) and accepts 2', () => {
    expect(refusal('a').message).toMatch(/at least 2/);
    expect(parseUsername('ab')).toBe('ab');
  });

  it('isUsername refuses what parseUsername would not return (upper case, 1 or 65 characters)', () => {
    expect(isUsername('alice')).toBe(true);
    expect(isUsername('Alice')).toBe(false);
    expect(isUsername('a')).toBe(false);
    expect(isUsername('a'.repeat(65))).toBe(false);
    expect(isUsername('a..b')).toBe(false);
  });

  const SAFE = /^[a-z0-9]+([._-][a-z0-9]+)*$/;

  it('rule 1 (property): every accepted username matches the allowlist, is at most 64 characters and has none of *?${}/', () => {
    const interesting = fc.constantFrom(...'abcxyzABCXYZ0189._-*?${}/:\\ \t\n\u0000\u212A\u0130\u0430ａ é'.split(''));
    const candidates = fc.oneof(
      fc.string({ unit: interesting, maxLength: 70 }),
      fc.string({ maxLength: 70 }),
      fc.string({ unit: 'grapheme', maxLength: 70 }),
    );
    fc.assert(
      fc.property(candidates, (raw) => {
        let accepted: string;
        try {
          accepted = parseUsername(raw);
        } catch (error) {
          if (error instanceof ValidationError) return;
          throw error;
        }
        expect(accepted).toMatch(SAFE);
        expect(accepted.length).toBeLessThanOrEqual(USERNAME_MAX_LENGTH);
        expect(accepted.length).toBeGreaterThanOrEqual(2);
        expect(accepted).not.toMatch(/[*?${}/]/);
        expect(accepted).toBe(raw.toLowerCase());
      }),
      { numRuns: 2000 },
    );
  });

  it('(property): every string on the allowlist of 2-64 characters is accepted unchanged', () => {
    const segment = fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
      minLength: 1,
      maxLength: 8,
    });
    const name = fc
      .tuple(segment, fc.array(fc.tuple(fc.constantFrom('.', '_', '-'), segment), { maxLength: 6 }))
      .map(([head, rest]) => head + rest.map(([sep, part]) => sep + part).join(''))
      .filter((value) => value.length >= 2 && value.length <= 64);
    fc.assert(
      fc.property(name, (value) => {
        expect(parseUsername(value)).toBe(value);
      }),
    );
  });
});

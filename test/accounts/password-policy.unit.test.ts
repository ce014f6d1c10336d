import { GzipCommonPasswordList } from '../../lambda/adapters/common-passwords';
import { ValidationError } from '../../lambda/platform/errors';
import { parsePassword } from '../../lambda/accounts/password';
import { NewPasswordPolicy, contextWords, type CommonPasswordList } from '../../lambda/accounts/password-policy';
import { parseUsername } from '../../lambda/accounts/username';

const list = new GzipCommonPasswordList();
const policy = new NewPasswordPolicy(8, list);
const alice = parseUsername('alice.smith');

function refusal(raw: string, minCharacters = 8, commonPasswords: CommonPasswordList = list): ValidationError {
  try {
    new NewPasswordPolicy(minCharacters, commonPasswords).check(parsePassword(raw), {
      username: alice,
      field: 'newPassword',
    });
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`the policy accepted ${JSON.stringify(raw)}`);
}

describe('the common-password list (ASVS 6.2.4, 6.2.12)', () => {
  it('holds at least 100,000 passwords from the package (437,651 from OWASP SecLists)', () => {
    expect(list.size()).toBeGreaterThanOrEqual(100_000);
    expect(list.size()).toBe(437_651);
  });

  it.each(['password1234', 'iloveyou', 'qwertyuiop', 'football1', 'trustno1'])('knows %s', (common) => {
    expect(list.has(common)).toBe(true);
  });

  it('matches whole entries only, never a part of one or across lines', () => {
    expect(list.has('password1234')).toBe(true);
    expect(list.has('assword1234')).toBe(false);
    expect(list.has('password1234\nqwerty')).toBe(false);
  });
});

describe('NewPasswordPolicy (ASVS 6.2.1, 6.2.4, 6.2.11, 6.2.12)', () => {
  it('issue 14: refuses password1234 with a 400 that says why in plain words and names the field', () => {
    const error = refusal('password1234');
    expect(error.status).toBe(400);
    expect(error.field).toBe('newPassword');
    expect(error.publicMessage).toMatch(/most common passwords.*leaked/);
  });

  it('refuses a common password whatever its letter case', () => {
    expect(refusal('PassWord1234').publicMessage).toMatch(/common/);
  });

  it('issue 14: refuses a password built on the username, its parts, or the service name', () => {
    for (const raw of ['alice.smith2024', 'smith!Q7x', 'Alice.Smith!!', 'serverless-tvm1', 'tvmtvmtvm123']) {
      expect(list.has(raw.toLowerCase())).toBe(false);
      expect(refusal(raw).publicMessage).toMatch(/too close to your username or to this service's name/);
    }
  });

  it('accepts a long passphrase that merely contains the username', () => {
    expect(() =>
      policy.check(parsePassword('alice rides a purple bicycle to work'), { username: alice, field: 'password' }),
    ).not.toThrow();
  });

  it('accepts a 256-character Greek passphrase and a random 12-character password', () => {
    for (const raw of ['λ'.repeat(128) + 'ω'.repeat(128), 'vX7#qPz2!mLr']) {
      expect(() => policy.check(parsePassword(raw), { username: alice, field: 'password' })).not.toThrow();
    }
  });

  it('applies the configured minimum (ASVS 6.2.1; 15 as NIST asks for password-only use)', () => {
    expect(refusal('vX7#qPz2!mLr', 15).publicMessage).toMatch(/at least 15 characters/);
    expect(() =>
      new NewPasswordPolicy(15, list).check(parsePassword('vX7#qPz2!mLrT9k'), { username: alice, field: 'password' }),
    ).not.toThrow();
  });

  it('lists the username, its parts of three characters or more, and the service names, longest first', () => {
    expect(contextWords(parseUsername('al.bo-carla'))).toEqual([
      'tokenvendingmachine',
      'serverless-tvm',
      'serverlesstvm',
      'al.bo-carla',
      'carla',
      'tvm',
    ]);
  });
});

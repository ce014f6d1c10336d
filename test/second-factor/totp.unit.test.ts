import fc from 'fast-check';
import { Secret, TOTP } from 'otpauth';
import {
  hashRecoveryCode,
  newRecoveryCodes,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
} from '../../lambda/second-factor/recovery-codes';
import { matchTotp, newTotpSecret, totpCode, totpStep, totpUri } from '../../lambda/second-factor/totp';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC 6238 SHA-1 test vectors (six-digit truncation)', () => {
    // RFC 6238 appendix B, secret "12345678901234567890", 8 digits there; the last 6 here.
    const secret = Secret.fromUTF8('12345678901234567890').base32;
    expect(totpCode(secret, 59_000)).toBe('287082');
    expect(totpCode(secret, 1_111_111_109_000)).toBe('081804');
    expect(totpCode(secret, 2_000_000_000_000)).toBe('279037');
  });

  it('makes 160-bit base32 secrets and an otpauth URI an authenticator app reads back to the same secret', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = totpUri(secret, 'alice');
    expect(uri.startsWith('otpauth://totp/')).toBe(true);
    const parsed = new URL(uri);
    expect(parsed.searchParams.get('secret')).toBe(secret);
    expect(parsed.searchParams.get('digits')).toBe('6');
    expect(parsed.searchParams.get('period')).toBe('30');
    expect(decodeURIComponent(parsed.pathname)).toContain('alice');
  });

  it('accepts the current code and one step either side, and nothing further', () => {
    const secret = newTotpSecret();
    const step = totpStep(T0);
    expect(matchTotp(secret, totpCode(secret, T0), T0, undefined)).toBe(step);
    expect(matchTotp(secret, totpCode(secret, T0 - 30_000), T0, undefined)).toBe(step - 1);
    expect(matchTotp(secret, totpCode(secret, T0 + 30_000), T0, undefined)).toBe(step + 1);
    const farCode = totpCode(secret, T0 - 90_000);
    // A far code could collide with a near one by chance (1 in a million); only then may it match.
    const near = [-1, 0, 1].map((delta) => totpCode(secret, T0 + delta * 30_000));
    expect(near.includes(farCode) || matchTotp(secret, farCode, T0, undefined) === undefined).toBe(true);
  });

  it('refuses a code whose step is not later than the last used step (no replay)', () => {
    const secret = newTotpSecret();
    const code = totpCode(secret, T0);
    const step = matchTotp(secret, code, T0, undefined)!;
    expect(matchTotp(secret, code, T0, step)).toBeUndefined();
    expect(matchTotp(secret, code, T0 + 10_000, step)).toBeUndefined();
    expect(matchTotp(secret, totpCode(secret, T0 + 30_000), T0 + 30_000, step)).toBe(step + 1);
  });

  it('never accepts anything but six digits, whatever the string', () => {
    const secret = newTotpSecret();
    fc.assert(
      fc.property(fc.string(), (candidate) => {
        const step = matchTotp(secret, candidate, T0, undefined);
        expect(step === undefined || /^\d{6}$/.test(candidate)).toBe(true);
      }),
    );
  });

  it('agrees with an independently configured otpauth TOTP at any instant (differential)', () => {
    const secret = newTotpSecret();
    const reference = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), (at) => {
        expect(totpCode(secret, at)).toBe(reference.generate({ timestamp: at }));
      }),
    );
  });
});

describe('recovery codes', () => {
  it('issues ten distinct codes of 24 Crockford base32 characters (120 bits, enough for a plain hash under ASVS 6.5.2)', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/);
  });

  it('hashes a code the same however it is typed (case, dashes, spaces, O/0 and I/L/1) and never stores it plainly', () => {
    const [code] = newRecoveryCodes();
    const typed = ` ${code!.toLowerCase().replace(/-/g, ' ')} `.replace(/0/g, 'o').replace(/1/g, 'l');
    expect(hashRecoveryCode(typed)).toBe(hashRecoveryCode(code!));
    expect(hashRecoveryCode(code!)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(code!)).not.toContain(code!.replace(/-/g, ''));
  });

  it('normalises only strings that can be a code', () => {
    expect(normaliseRecoveryCode('ABCD-EFGH-JKMN-PQRS-TVWX-YZ0')).toBeUndefined();
    expect(normaliseRecoveryCode('ABCD-EFGH-JKMN-PQRS-TVWX-YZ0U')).toBeUndefined();
    expect(normaliseRecoveryCode('abcd efgh jkmn pqrs tvwx yzol')).toBe('ABCDEFGHJKMNPQRSTVWXYZ01');
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const normalised = normaliseRecoveryCode(raw);
        return normalised === undefined || /^[0-9A-HJKMNP-TV-Z]{24}$/.test(normalised);
      }),
    );
  });
});

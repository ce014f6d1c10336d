import { SESSION_TOKEN_BYTES, hashSessionToken, isWellFormedSessionToken, newId, newSessionToken } from '../../lambda/core/session-token';

describe('session tokens (rule 6: 256-bit random, stored only as a hash)', () => {
  it('rule 6: a token is 43 base64url characters', () => {
    const token = newSessionToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(isWellFormedSessionToken(token)).toBe(true);
  });

  it('rule 6: a token decodes to 32 bytes (256 bits)', () => {
    expect(SESSION_TOKEN_BYTES).toBe(32);
    const token = newSessionToken();
    const bytes = Buffer.from(token, 'base64url');
    expect(bytes).toHaveLength(32);
    expect(bytes.toString('base64url')).toBe(token);
  });

  it('rule 6: 1,000 tokens are all distinct', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSessionToken()));
    expect(tokens.size).toBe(1000);
  });

  it('rule 6: tokens look random (every base64url character appears across 1,000 tokens)', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newSessionToken()).join(''));
    expect(seen.size).toBe(64);
  });

  it('rule 6: the stored hash is 64-hex SHA-256, not the token, and stable for one token', () => {
    const token = newSessionToken();
    const hash = hashSessionToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toBe(token);
    expect(hash).not.toContain(token);
    expect(hashSessionToken(token)).toBe(hash);
    expect(hashSessionToken(newSessionToken())).not.toBe(hash);
  });

  it('hashes the known SHA-256 test vector ("abc")', () => {
    expect(hashSessionToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it.each(['', 'a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)} `])(
    'isWellFormedSessionToken refuses %p',
    (token) => {
      expect(isWellFormedSessionToken(token)).toBe(false);
    },
  );

  it('ids are 128-bit base64url and distinct', () => {
    const ids = Array.from({ length: 100 }, () => newId());
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });
});

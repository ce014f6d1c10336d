import fc from 'fast-check';
import {
  SESSION_TOKEN_BYTES,
  hashSessionToken,
  isWellFormedSessionToken,
  newId,
  newSessionToken,
  sessionTokenUsername,
} from '../../lambda/sessions/session-token';
import { parseUsername, type Username } from '../../lambda/accounts/username';

const ALICE = 'alice' as Username;
const secretOf = (token: string): string => token.slice(token.lastIndexOf('.') + 1);

describe('session tokens (rule 6: 256-bit random, stored only as a hash)', () => {
  it('rule 6: a token is the username, a dot, and 43 base64url characters', () => {
    const token = newSessionToken(ALICE);
    expect(token).toMatch(/^alice\.[A-Za-z0-9_-]{43}$/);
    expect(isWellFormedSessionToken(token)).toBe(true);
  });

  it("rule 6: a token's secret decodes to 32 bytes (256 bits)", () => {
    expect(SESSION_TOKEN_BYTES).toBe(32);
    const secret = secretOf(newSessionToken(ALICE));
    const bytes = Buffer.from(secret, 'base64url');
    expect(bytes).toHaveLength(32);
    expect(bytes.toString('base64url')).toBe(secret);
  });

  it('rule 6: 1,000 tokens are all distinct', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSessionToken(ALICE)));
    expect(tokens.size).toBe(1000);
  });

  it('rule 6: tokens look random (every base64url character appears across 1,000 secrets)', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => secretOf(newSessionToken(ALICE))).join(''));
    expect(seen.size).toBe(64);
  });

  it('rule 6: the stored hash is 64-hex SHA-256 of the whole token, not the token, and stable for one token', () => {
    const token = newSessionToken(ALICE);
    const hash = hashSessionToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toBe(token);
    expect(hash).not.toContain(secretOf(token));
    expect(hashSessionToken(token)).toBe(hash);
    expect(hashSessionToken(newSessionToken(ALICE))).not.toBe(hash);
    // Another username in front of the same secret is another key: it finds no session.
    expect(hashSessionToken(`bob.${secretOf(token)}`)).not.toBe(hash);
  });

  it('hashes the known SHA-256 test vector ("abc")', () => {
    expect(hashSessionToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('(property) names its username for every valid username, dots included, so the user can be read with the session', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]([._-]?[a-z0-9]){1,40}$/), (raw) => {
        const username = parseUsername(raw);
        const token = newSessionToken(username);
        expect(isWellFormedSessionToken(token)).toBe(true);
        expect(sessionTokenUsername(token)).toBe(username);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts a legacy token (the 43-character secret alone) until it expires, and names no username for it', () => {
    const legacy = secretOf(newSessionToken(ALICE));
    expect(isWellFormedSessionToken(legacy)).toBe(true);
    expect(sessionTokenUsername(legacy)).toBeUndefined();
  });

  it.each([
    '',
    'a'.repeat(42),
    'a'.repeat(44),
    `${'a'.repeat(42)}+`,
    `${'a'.repeat(42)}=`,
    `${'a'.repeat(42)} `,
    `Alice.${'a'.repeat(43)}`,
    `a..b.${'a'.repeat(43)}`,
    `.${'a'.repeat(43)}`,
    `alice.${'a'.repeat(42)}`,
    `alice.${'a'.repeat(43)}.`,
    `${'a'.repeat(65)}.${'a'.repeat(43)}`,
    `al*ce.${'a'.repeat(43)}`,
  ])('isWellFormedSessionToken refuses %p', (token) => {
    expect(isWellFormedSessionToken(token)).toBe(false);
    expect(sessionTokenUsername(token)).toBeUndefined();
  });

  it('ids are 128-bit base64url and distinct', () => {
    const ids = Array.from({ length: 100 }, () => newId());
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });
});

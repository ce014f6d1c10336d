import { LoginBody, RegisterBody } from '../../lambda/contract/bodies';
import { checkBody } from '../../lambda/platform/body-check';
import { parseBearerToken } from '../../lambda/sessions/requests';
import { parseLoginPassword } from '../../lambda/accounts/password';
import {
  parseLoginRequest as normaliseLogin,
  parseRegisterRequest as normaliseRegister,
} from '../../lambda/accounts/requests';
import { ValidationError } from '../../lambda/platform/errors';
import { newSessionToken } from '../../lambda/sessions/session-token';
import type { Username } from '../../lambda/accounts/username';

// What the function does with a body: the check against the route's one declaration (the
// middleware's), then the domain's normalisation.
const parseRegisterRequest = (body: unknown) => normaliseRegister(checkBody(RegisterBody, body));
const parseLoginRequest = (body: unknown) => normaliseLogin(checkBody(LoginBody, body));

function refusal(parse: (body: unknown) => unknown, body: unknown): ValidationError {
  try {
    parse(body);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('a register body: its declaration, then normalisation (rule 9: bad input gets a 400 with a clear reason)', () => {
  it('returns the normalised username and password', () => {
    expect(parseRegisterRequest({ username: 'Alice', password: 'ｐａｓｓｗｏｒｄ１２' })).toEqual({
      username: 'alice',
      password: 'password12',
    });
  });

  it.each([
    ['username', { password: 'password12' }],
    ['password', { username: 'alice' }],
  ])('refuses a body without %s, naming the field', (field, body) => {
    const error = refusal(parseRegisterRequest, body);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/required/);
  });

  it('refuses an extra field (deviceToken is a login field), naming it', () => {
    const error = refusal(parseRegisterRequest, {
      username: 'alice',
      password: 'password12',
      deviceToken: 'x'.repeat(43),
    });
    expect(error.field).toBe('deviceToken');
    expect(error.message).toMatch(/Unexpected field "deviceToken"/);
  });

  it('keeps a device label as login does (trimmed, NFKC) and refuses one that is not printable, naming device', () => {
    expect(parseRegisterRequest({ username: 'alice', password: 'password12', device: '  phone ' }).device).toBe(
      'phone',
    );
    expect(parseRegisterRequest({ username: 'alice', password: 'password12' })).not.toHaveProperty('device');
    for (const bad of [5, '   ', 'x'.repeat(65), 'phone\nINFO forged']) {
      expect(refusal(parseRegisterRequest, { username: 'alice', password: 'password12', device: bad }).field).toBe(
        'device',
      );
    }
  });

  it('refuses a prototype-pollution key as an extra field', () => {
    const body = JSON.parse('{"username":"alice","password":"password12","__proto__":{"admin":true}}');
    expect(refusal(parseRegisterRequest, body).field).toBe('__proto__');
  });

  it.each([
    ['username', { username: 42, password: 'password12' }],
    ['username', { username: null, password: 'password12' }],
    ['username', { username: ['alice'], password: 'password12' }],
    ['password', { username: 'alice', password: 12345678 }],
    ['password', { username: 'alice', password: { value: 'password12' } }],
    ['password', { username: 'alice', password: null }],
  ])('refuses a wrong type, naming the field %s', (field, body) => {
    expect(refusal(parseRegisterRequest, body).field).toBe(field);
  });

  it('refuses an invalid username and a short password with their own fields', () => {
    expect(refusal(parseRegisterRequest, { username: '${aws:username}', password: 'password12' }).field).toBe(
      'username',
    );
    expect(refusal(parseRegisterRequest, { username: 'alice', password: 'short' }).field).toBe('password');
  });

  it.each([
    ['an array', [{ username: 'alice', password: 'password12' }]],
    ['null', null],
    ['a string', '{"username":"alice","password":"password12"}'],
    ['a number', 7],
    ['undefined (no body)', undefined],
  ])('refuses a body that is %s: it must be a JSON object', (_what, body) => {
    expect(refusal(parseRegisterRequest, body).message).toMatch(/JSON object/);
  });
});

describe('a login body: its declaration, then normalisation', () => {
  it('returns username, password and a trimmed, normalised device label', () => {
    expect(parseLoginRequest({ username: 'Bob', password: 'x', device: '  Ｐｈｏｎｅ  ' })).toEqual({
      username: 'bob',
      password: 'x',
      device: 'Phone',
    });
  });

  it('omits the device when none is sent', () => {
    expect(parseLoginRequest({ username: 'bob', password: 'password12' })).toEqual({
      username: 'bob',
      password: 'password12',
    });
  });

  it('applies no new-password rules to a login password (short is fine), but refuses empty and over 1024 bytes', () => {
    expect(parseLoginRequest({ username: 'bob', password: 'short' }).password).toBe('short');
    expect(refusal(parseLoginRequest, { username: 'bob', password: '' }).field).toBe('password');
    expect(refusal(parseLoginRequest, { username: 'bob', password: 'a'.repeat(1025) }).field).toBe('password');
    expect(parseLoginPassword('a'.repeat(1024))).toHaveLength(1024);
  });

  it('takes a device token of the issued shape and refuses any other with a 400 naming deviceToken', () => {
    const deviceToken = 'A'.repeat(43);
    expect(parseLoginRequest({ username: 'bob', password: 'pw', deviceToken })).toEqual({
      username: 'bob',
      password: 'pw',
      deviceToken,
    });
    for (const bad of ['short', 'A'.repeat(44), 'A'.repeat(42) + '*', 42]) {
      expect(refusal(parseLoginRequest, { username: 'bob', password: 'pw', deviceToken: bad }).field).toBe(
        'deviceToken',
      );
    }
  });

  it.each([
    ['username', { password: 'password12' }],
    ['password', { username: 'bob' }],
    ['extra', { username: 'bob', password: 'password12', extra: 1 }],
    ['device', { username: 'bob', password: 'password12', device: 5 }],
    ['device', { username: 'bob', password: 'password12', device: '   ' }],
    ['device', { username: 'bob', password: 'password12', device: 'x'.repeat(65) }],
    ['device', { username: 'bob', password: 'password12', device: 'phone\nINFO forged log line' }],
    ['device', { username: 'bob', password: 'password12', device: 'phone\u202Eevil' }],
  ])('refuses a bad body naming the field %s', (field, body) => {
    expect(refusal(parseLoginRequest, body).field).toBe(field);
  });

  it('accepts a 64-character device label', () => {
    expect(parseLoginRequest({ username: 'bob', password: 'p', device: 'd'.repeat(64) }).device).toHaveLength(64);
  });

  it.each([[[]], [null], ['text']])('refuses a non-object body %p', (body) => {
    expect(refusal(parseLoginRequest, body).message).toMatch(/JSON object/);
  });
});

describe('parseBearerToken (rule 6)', () => {
  const token = newSessionToken('alice' as Username);

  it('accepts "Bearer <username>.<43 base64url characters>", and a legacy 43-character token, and returns the token', () => {
    expect(parseBearerToken(`Bearer ${token}`)).toBe(token);
    expect(parseBearerToken(`Bearer ${'A'.repeat(21)}-_${'z'.repeat(20)}`)).toHaveLength(43);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the token without a scheme', 'TOKEN'],
    ['another scheme', 'Basic TOKEN'],
    ['a scheme without a token', 'Bearer'],
    ['a scheme and a space', 'Bearer '],
    ['42 characters', 'Bearer SHORT42'],
    ['44 characters', 'Bearer LONG44'],
    ['standard base64 "+"', 'Bearer PLUS'],
    ['standard base64 "/"', 'Bearer SLASH'],
    ['base64 padding', 'Bearer PAD'],
    ['two tokens', 'Bearer TOKEN TOKEN'],
    ['two spaces', 'Bearer  TOKEN'],
    ['a comma list', 'Bearer TOKEN,Bearer TOKEN'],
    ['a NUL inside', 'Bearer NUL'],
  ])('refuses %s', (_what, header) => {
    const filled = header
      ?.replace('SHORT42', token.slice(0, 42))
      .replace('LONG44', `${token}A`)
      .replace('PLUS', `${token.slice(0, 42)}+`)
      .replace('SLASH', `${token.slice(0, 42)}/`)
      .replace('PAD', `${token}=`)
      .replace('NUL', `${token.slice(0, 20)}\u0000${token.slice(21)}`)
      .replaceAll('TOKEN', token);
    expect(parseBearerToken(filled)).toBeUndefined();
  });
});

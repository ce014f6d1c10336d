/**
 * Accounts (lambda/accounts) on the in-memory fakes, without mocks: password change and reset,
 * device sessions, disabled users, the audit trail, the operator's AccountAdmin (including the
 * hold on a deleted name) and reset codes.
 */
import { AccountAdmin } from '../../lambda/operator/account-admin';
import {
  AuthenticationError,
  BackendUnavailableError,
  NotFoundError,
  TooManyAttemptsError,
  UsernameTakenError,
  ValidationError,
} from '../../lambda/platform/errors';
import {
  parseChangePasswordRequest,
  parseLoginRequest,
  parseRegisterRequest,
  parseResetPasswordRequest,
} from '../../lambda/accounts/requests';
import { parseLoginPassword } from '../../lambda/accounts/password';
import { RESET_CODE_TTL_MS, hashResetCode, newResetCode, parseResetCode } from '../../lambda/accounts/reset-code';
import { createServices } from '../../lambda/services';
import { parseUsername } from '../../lambda/accounts/username';
import { inMemoryBackend, loginSession } from '../support/in-memory';
import { thrown } from '../support/async';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';
const alice = parseUsername('alice');

function setup() {
  const backend = inMemoryBackend();
  return { backend, service: createServices(backend), admin: new AccountAdmin(backend) };
}

describe('password change', () => {
  it("revokes every session including the caller's and hands the caller a new one", async () => {
    const { service } = setup();
    const first = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const other = await loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD }));
    const changed = await service.accounts.changePassword(
      first.session.token,
      parseChangePasswordRequest({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    );
    expect(await thrown(service.sessions.token(first.session.token))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(service.sessions.token(other.session.token))).toBeInstanceOf(AuthenticationError);
    await expect(service.sessions.token(changed.session.token)).resolves.toMatchObject({
      storage: { prefix: 'alice/' },
    });
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: NEW_PASSWORD })),
    ).resolves.toBeDefined();
  });

  it('leaves everything as it was when the user update fails, and removes the new session', async () => {
    const { service, backend } = setup();
    const first = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const sessionsBefore = backend.sessions.size;
    backend.users.failNext('updateUser');
    await thrown(
      service.accounts.changePassword(
        first.session.token,
        parseChangePasswordRequest({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
      ),
    );
    expect(backend.sessions.size).toBe(sessionsBefore);
    await expect(service.sessions.token(first.session.token)).resolves.toBeDefined();
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
  });

  it('refuses a new password that breaks the rules with 400 on the newPassword field', () => {
    expect(() => parseChangePasswordRequest({ currentPassword: PASSWORD, newPassword: 'short' })).toThrow(
      ValidationError,
    );
  });
});

describe('password reset', () => {
  it('redeems a code once, within the hour, and counts wrong codes in the lockout', async () => {
    const { service, admin, backend } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(alice);
    const reset = (resetCode: string) =>
      service.accounts.resetPassword(
        parseResetPasswordRequest({ username: 'alice', resetCode, newPassword: NEW_PASSWORD }),
      );
    await expect(reset(code)).resolves.toMatchObject({ username: 'alice' });
    expect(await thrown(reset(code))).toBeInstanceOf(AuthenticationError);

    const second = await admin.issueResetCode(alice);
    backend.clock.advance(RESET_CODE_TTL_MS);
    expect(await thrown(reset(second.code))).toBeInstanceOf(AuthenticationError);

    for (let attempt = 0; attempt < 3; attempt++) await thrown(reset('0000-0000-0000-0000'));
    expect(await thrown(reset('0000-0000-0000-0000'))).toBeInstanceOf(TooManyAttemptsError);
  });

  it('gives the code back when the password update fails, so it can be used once the backend recovers', async () => {
    const { service, admin, backend } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(alice);
    backend.users.failNext('updateUser');
    const request = parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: NEW_PASSWORD });
    await thrown(service.accounts.resetPassword(request));
    expect(backend.resetCodes.has('alice')).toBe(true);
    await expect(service.accounts.resetPassword(request)).resolves.toMatchObject({ username: 'alice' });
  });

  it('vends before it commits: with STS failing, the old password and the code stay valid', async () => {
    const { service, admin, backend } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(alice);
    backend.issuer.failNext();
    const request = parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: NEW_PASSWORD });
    expect(await thrown(service.accounts.resetPassword(request))).toBeInstanceOf(BackendUnavailableError);
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
    expect(backend.resetCodes.has('alice')).toBe(true);
    await expect(service.accounts.resetPassword(request)).resolves.toMatchObject({ username: 'alice' });
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: NEW_PASSWORD })),
    ).resolves.toBeDefined();
  });

  it('refuses a code for a disabled account', async () => {
    const { service, admin } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(alice);
    await admin.disable(alice);
    const request = parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: NEW_PASSWORD });
    expect(await thrown(service.accounts.resetPassword(request))).toBeInstanceOf(AuthenticationError);
  });
});

describe('reset codes', () => {
  it('are 16 Crockford base32 characters in four groups, and typed look-alikes still match', () => {
    const code = newResetCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    const typed = code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(hashResetCode(typed)).toBe(hashResetCode(code));
  });

  it('refuse anything that is not a code with a 400 on resetCode', () => {
    for (const bad of ['', 'ABCD', 'ABCD-EFGH-JKMN-PQR*', 42, null]) {
      expect(() => parseResetCode(bad)).toThrow(ValidationError);
    }
  });

  it('are stored only as a hash', async () => {
    const { service, admin, backend } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(alice);
    expect(JSON.stringify(backend.audit.events)).not.toContain(code);
    expect(backend.log.text()).not.toContain(code);
  });
});

describe('device sessions', () => {
  it("lists live sessions with device and last use, and revokes only the caller's own", async () => {
    const { service, backend } = setup();
    const aliceFirst = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    backend.clock.advance(1000);
    const phone = await loginSession(
      service,
      parseLoginRequest({ username: 'alice', password: PASSWORD, device: 'Phone' }),
    );
    const bob = await service.accounts.register(parseRegisterRequest({ username: 'bob', password: PASSWORD }));
    await service.sessions.token(phone.session.token);
    const listed = await service.sessions.listSessions(aliceFirst.session.token);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatchObject({ current: true });
    expect(listed[1]).toMatchObject({ device: 'Phone', current: false, lastUsedAt: expect.any(String) });
    const phoneId = listed[1]!.id;
    expect(
      await thrown(
        service.sessions.revokeSession(bob.session.token, phoneId, { currentPassword: parseLoginPassword(PASSWORD) }),
      ),
    ).toBeInstanceOf(NotFoundError);
    expect(
      await thrown(service.sessions.revokeSession(aliceFirst.session.token, 'not an id', undefined)),
    ).toBeInstanceOf(ValidationError);
    // Another device's session: the one revocation path asks for a step-up (here the password).
    await service.sessions.revokeSession(aliceFirst.session.token, phoneId, {
      currentPassword: parseLoginPassword(PASSWORD),
    });
    expect(await thrown(service.sessions.token(phone.session.token))).toBeInstanceOf(AuthenticationError);
  });
});

describe('disabled accounts and operators', () => {
  it('a disabled user cannot log in or get credentials; enable lets them log in again', async () => {
    const { service, admin } = setup();
    const registered = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    await admin.disable(alice);
    expect(
      await thrown(loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD }))),
    ).toBeInstanceOf(AuthenticationError);
    expect(await thrown(service.sessions.token(registered.session.token))).toBeInstanceOf(AuthenticationError);
    await admin.enable(alice);
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
  });

  it('unlock ends a lockout at once; delete removes the user, sessions and code but keeps the trail', async () => {
    const { service, admin, backend } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    for (let attempt = 0; attempt < 5; attempt++)
      await thrown(loginSession(service, parseLoginRequest({ username: 'alice', password: 'wrong guess' })));
    expect((await admin.showUser(alice)).locked).toBe(true);
    await admin.unlock(alice);
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
    await admin.issueResetCode(alice);
    await admin.disable(alice);
    await admin.deleteUser(alice, backend.clock.now() + 3_600_000);
    expect(backend.users.size).toBe(0);
    expect(backend.sessions.all().filter((session) => session.username === 'alice')).toHaveLength(0);
    expect(backend.resetCodes.has('alice')).toBe(false);
    expect((await admin.audit(alice))[0]).toMatchObject({ type: 'deleted', sourceIp: 'operator' });
    expect(await thrown(admin.showUser(alice))).toBeInstanceOf(NotFoundError);
  });

  it('holds a deleted name: registration is refused as taken until the hold ends, then the name is free', async () => {
    const { service, admin, backend } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const heldUntil = backend.clock.now() + 3_600_000;
    await admin.disable(alice);
    await admin.deleteUser(alice, heldUntil);
    expect(await admin.nameHeldUntil(alice)).toBe(heldUntil);
    const again = () => service.accounts.register(parseRegisterRequest({ username: 'alice', password: NEW_PASSWORD }));
    const vended = backend.issuer.calls.get('issue');
    expect(await thrown(again())).toBeInstanceOf(UsernameTakenError);
    // Refused before STS, as a taken name is: a held name never gets a 503 when STS is down.
    expect(backend.issuer.calls.get('issue')).toBe(vended);
    expect(
      await thrown(loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD }))),
    ).toBeInstanceOf(AuthenticationError);
    backend.clock.set(heldUntil);
    expect(await thrown(again())).toBeInstanceOf(UsernameTakenError);
    backend.clock.advance(1);
    await expect(again()).resolves.toMatchObject({ username: 'alice' });
    expect(await admin.nameHeldUntil(alice)).toBeUndefined();
  });

  it('revokes all sessions, even ones the listing has not shown, by moving to a new generation', async () => {
    const { service, admin } = setup();
    const first = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const second = await loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD }));
    expect(await admin.revokeSessions(alice, 'all')).toBe(2);
    expect(await thrown(service.sessions.token(first.session.token))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(service.sessions.token(second.session.token))).toBeInstanceOf(AuthenticationError);
    expect(await admin.listSessions(alice)).toEqual([]);
  });
});

describe('audit trail', () => {
  it('records every security event in order with the request origin', async () => {
    const { service, admin, backend } = setup();
    const origin = { sourceIp: '192.0.2.1', userAgent: 'Test/1' };
    const registered = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
      origin,
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      await thrown(loginSession(service, parseLoginRequest({ username: 'alice', password: 'wrong guess' }), origin));
    }
    await admin.unlock(alice);
    await service.sessions.token(registered.session.token, origin);
    await service.sessions.logout(registered.session.token, origin);
    expect(backend.audit.types('alice')).toEqual([
      'registered',
      'login_failed',
      'login_failed',
      'login_failed',
      'login_failed',
      'login_failed',
      'locked',
      'unlocked',
      'token_issued',
      'logout',
    ]);
    expect(backend.audit.events[0]).toMatchObject(origin);
    expect(backend.audit.events.every((event) => event.expiresAt === event.at + 90 * 86_400_000)).toBe(true);
  });

  it('does not fail the request when the trail cannot be written, and logs the whole event as an error', async () => {
    const { service, backend } = setup();
    backend.audit.failNext('record');
    await expect(
      service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
    expect(backend.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        attributes: expect.objectContaining({ audit: expect.objectContaining({ type: 'registered' }) }),
      }),
    );
  });
});

describe('last used', () => {
  it("records a session's last use on every /token, in the conditional write that counts the vend", async () => {
    const { service, backend } = setup();
    const registered = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    await service.sessions.token(registered.session.token);
    const first = backend.sessions.all()[0]!.lastUsedAt;
    expect(first).toBe(backend.clock.now());
    backend.clock.advance(60_000);
    await service.sessions.token(registered.session.token);
    expect(backend.sessions.all()[0]!.lastUsedAt).toBe(first! + 60_000);
  });
});

/**
 * TOTP enrolment, second-factor login, step-up and the reset rule, on in-memory stores with
 * the adapter's conditions and a hand-moved clock. Codes are computed as an authenticator app would.
 */
import { parseMfaLogin, parseStepUp, parseTotpConfirm, parseTotpStart } from '../../lambda/second-factor/requests';
import {
  AlreadyEnrolledError,
  AuthenticationError,
  NotFoundError,
  SecondFactorMissingError,
  TooManyAttemptsError,
  ValidationError,
} from '../../lambda/platform/errors';
import { type MfaChallengeResult } from '../../lambda/contract/wire';
import { totpCode } from '../../lambda/second-factor/totp';
import { createServices } from '../../lambda/services';
import type { Password } from '../../lambda/accounts/password';
import { parseLoginRequest, parseRegisterRequest, parseResetPasswordRequest } from '../../lambda/accounts/requests';
import { hashResetCode } from '../../lambda/accounts/reset-code';
import { parseUsername } from '../../lambda/accounts/username';
import { thrown } from '../support/async';
import { inMemoryBackend, loginChallenge, loginSession } from '../support/in-memory';
import { InMemoryMfaStore } from '../support/in-memory-mfa';

const PASSWORD = 'correct horse battery';
const STEP = 30_000;

function setup() {
  const backend = inMemoryBackend();
  const store = new InMemoryMfaStore();
  const services = createServices({ ...backend, factors: store, challenges: store });
  return { backend, store, service: services, ...services };
}
type Setup = ReturnType<typeof setup>;

async function registerWithTotp(s: Setup, username = 'alice') {
  const registered = await s.service.accounts.register(parseRegisterRequest({ username, password: PASSWORD }));
  const token = registered.session.token;
  const { secret, otpauthUri } = await s.mfa.startTotp(token, parseTotpStart({ currentPassword: PASSWORD }));
  const { recoveryCodes } = await s.mfa.confirmTotp(
    token,
    parseTotpConfirm({ code: totpCode(secret, s.backend.clock.now()) }),
  );
  // The confirming code used this step; the next login needs the next one.
  s.backend.clock.advance(STEP);
  return { token, secret, otpauthUri, recoveryCodes };
}

async function passwordLogin(s: Setup, username = 'alice', password = PASSWORD): Promise<MfaChallengeResult> {
  return loginChallenge(s.service, parseLoginRequest({ username, password }));
}

describe('TOTP enrolment', () => {
  it('hands out a pending secret after the password, and login needs no second factor until a code confirms it', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    const { secret, otpauthUri } = await s.mfa.startTotp(session.token, parseTotpStart({ currentPassword: PASSWORD }));
    expect(otpauthUri).toContain(`secret=${secret}`);
    await expect(
      loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toMatchObject({ username: 'alice' });
    const { recoveryCodes } = await s.mfa.confirmTotp(session.token, totpCode(secret, s.backend.clock.now()));
    expect(recoveryCodes).toHaveLength(10);
    const stored = s.store.records.get('alice')!;
    // Only hashes are kept, and none equals a code.
    expect(stored.recoveryCodeHashes).toHaveLength(10);
    expect(JSON.stringify(stored)).not.toContain(recoveryCodes[0]!.replace(/-/g, ''));
    expect(s.backend.audit.types('alice')).toEqual(expect.arrayContaining(['totp_pending', 'totp_enrolled']));
  });

  it('refuses to start without the right current password, counting it in the password lockout', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    expect(
      await thrown(s.mfa.startTotp(session.token, { currentPassword: 'not my password' as Password })),
    ).toBeInstanceOf(AuthenticationError);
    // Counted on the session's own counter, as a password change is.
    const sessionId = (await s.service.sessions.listSessions(session.token))[0]!.id;
    expect(s.backend.lockout.state('alice', `session:${sessionId}`)?.attempts).toBe(1);
    expect(s.store.records.get('alice')).toBeUndefined();
  });

  it('refuses a wrong confirming code, a second enrolment (409) and a confirmation with nothing pending (404)', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    expect(await thrown(s.mfa.confirmTotp(session.token, '123456'))).toBeInstanceOf(NotFoundError);
    const { secret } = await s.mfa.startTotp(session.token, { currentPassword: PASSWORD as Password });
    const wrong = totpCode(secret, s.backend.clock.now() + 10 * STEP);
    expect(await thrown(s.mfa.confirmTotp(session.token, wrong))).toBeInstanceOf(AuthenticationError);
    await s.mfa.confirmTotp(session.token, totpCode(secret, s.backend.clock.now()));
    s.backend.clock.advance(STEP);
    expect(
      await thrown(s.mfa.startTotp(session.token, { code: totpCode(secret, s.backend.clock.now()) })),
    ).toBeInstanceOf(AlreadyEnrolledError);
  });

  it('lets a pending secret lapse after ten minutes', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    const { secret } = await s.mfa.startTotp(session.token, { currentPassword: PASSWORD as Password });
    s.backend.clock.advance(10 * 60_000);
    expect(await thrown(s.mfa.confirmTotp(session.token, totpCode(secret, s.backend.clock.now())))).toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('login with a second factor', () => {
  it('answers the right password with a 5-minute challenge and no session or credentials, and vends nothing', async () => {
    const s = setup();
    await registerWithTotp(s);
    const vendsBefore = s.backend.issuer.requests.length;
    const sessionsBefore = s.backend.sessions.size;
    const result = await passwordLogin(s);
    expect(result).toEqual({
      mfaRequired: true,
      challenge: { token: expect.stringMatching(/^[\w-]{43}$/), expiresAt: expect.any(String) },
      methods: ['totp', 'recovery_code'],
    });
    expect(Date.parse(result.challenge.expiresAt) - s.backend.clock.now()).toBeLessThanOrEqual(5 * 60_000);
    expect(s.backend.issuer.requests.length).toBe(vendsBefore);
    expect(s.backend.sessions.size).toBe(sessionsBefore);
    expect(JSON.stringify(result)).not.toMatch(/session"|credentials/);
  });

  it('gives a wrong password the same 401 as for anyone, enrolled or not', async () => {
    const s = setup();
    await registerWithTotp(s);
    const enrolled = await thrown(
      loginSession(s.service, parseLoginRequest({ username: 'alice', password: 'wrong password' })),
    );
    const unknown = await thrown(
      loginSession(s.service, parseLoginRequest({ username: 'nobody', password: 'wrong password' })),
    );
    expect(enrolled).toBeInstanceOf(AuthenticationError);
    expect((enrolled as Error).message).toBe((unknown as Error).message);
  });

  it('completes with the current code, which then cannot be used again in its time step', async () => {
    const s = setup();
    const { secret } = await registerWithTotp(s);
    const code = totpCode(secret, s.backend.clock.now());
    const first = await passwordLogin(s);
    const result = await s.mfaLogin.completeLogin(parseMfaLogin({ challenge: first.challenge.token, code }));
    expect(result).toMatchObject({
      username: 'alice',
      session: { token: expect.any(String) },
      credentials: { accessKeyId: expect.any(String) },
    });
    const second = await passwordLogin(s);
    expect(
      await thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: second.challenge.token, code }))),
    ).toBeInstanceOf(AuthenticationError);
    expect(s.backend.audit.types('alice')).toContain('mfa_failed');
  });

  it('uses a challenge once: the same challenge with the next code is refused', async () => {
    const s = setup();
    const { secret } = await registerWithTotp(s);
    const { challenge } = await passwordLogin(s);
    await s.mfaLogin.completeLogin(
      parseMfaLogin({ challenge: challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
    );
    s.backend.clock.advance(STEP);
    const again = await thrown(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    );
    expect(again).toBeInstanceOf(AuthenticationError);
  });

  it('voids a challenge after five minutes and after three wrong answers', async () => {
    const s = setup();
    const { secret } = await registerWithTotp(s);
    const late = await passwordLogin(s);
    s.backend.clock.advance(5 * 60_000);
    const code = () => totpCode(secret, s.backend.clock.now());
    expect(
      await thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: late.challenge.token, code: code() }))),
    ).toBeInstanceOf(AuthenticationError);
    const tried = await passwordLogin(s);
    for (let i = 0; i < 3; i++) {
      await thrown(
        s.mfaLogin.completeLogin(
          parseMfaLogin({ challenge: tried.challenge.token, code: '000000' === code() ? '111111' : '000000' }),
        ),
      );
    }
    expect(
      await thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: tried.challenge.token, code: code() }))),
    ).toBeInstanceOf(AuthenticationError);
  });

  it('locks the factor after lockoutThreshold wrong codes across challenges, even for the right code, until the window ends', async () => {
    const s = setup();
    const { secret } = await registerWithTotp(s);
    const wrong = () => (totpCode(secret, s.backend.clock.now()) === '000000' ? '111111' : '000000');
    for (let i = 0; i < 5; i++) {
      const { challenge } = await passwordLogin(s);
      expect(
        await thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, code: wrong() }))),
      ).toBeInstanceOf(AuthenticationError);
    }
    const { challenge } = await passwordLogin(s);
    const locked = await thrown(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    );
    expect(locked).toBeInstanceOf(TooManyAttemptsError);
    expect(s.backend.audit.types('alice')).toContain('mfa_locked');
    s.backend.clock.advance(15 * 60_000);
    const after = await passwordLogin(s);
    await expect(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: after.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
  });

  it('bounds a burst of parallel guesses to lockoutThreshold code checks', async () => {
    const s = setup();
    await registerWithTotp(s);
    const challenges = await Promise.all(Array.from({ length: 4 }, () => passwordLogin(s)));
    const answers = await Promise.all(
      challenges.flatMap(({ challenge }) =>
        Array.from({ length: 3 }, (_, i) =>
          thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, code: String(100000 + i) }))),
        ),
      ),
    );
    const checked = s.backend.audit.events.filter((event) => event.type === 'mfa_failed').length;
    expect(checked).toBe(5);
    expect(answers.filter((error) => error instanceof TooManyAttemptsError).length).toBe(12 - 5);
  });

  it('accepts each recovery code once, and the challenge it answered is used up', async () => {
    const s = setup();
    const { recoveryCodes } = await registerWithTotp(s);
    const { challenge } = await passwordLogin(s);
    await expect(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: challenge.token, recoveryCode: recoveryCodes[0]!.toLowerCase() }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
    const again = await passwordLogin(s);
    expect(
      await thrown(
        s.mfaLogin.completeLogin(parseMfaLogin({ challenge: again.challenge.token, recoveryCode: recoveryCodes[0] })),
      ),
    ).toBeInstanceOf(AuthenticationError);
    await expect(
      s.mfaLogin.completeLogin(parseMfaLogin({ challenge: again.challenge.token, recoveryCode: recoveryCodes[1] })),
    ).resolves.toMatchObject({ username: 'alice' });
    expect(s.store.records.get('alice')!.recoveryCodeHashes).toHaveLength(8);
    expect(s.backend.audit.types('alice')).toContain('recovery_code_used');
  });

  it('voids a challenge when the password changes meanwhile', async () => {
    const s = setup();
    const { token, secret } = await registerWithTotp(s);
    const { challenge } = await passwordLogin(s);
    await s.service.accounts.changePassword(token, {
      currentPassword: PASSWORD as Password,
      newPassword: 'another long password' as Password,
    });
    expect(
      await thrown(
        s.mfaLogin.completeLogin(
          parseMfaLogin({ challenge: challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
        ),
      ),
    ).toBeInstanceOf(AuthenticationError);
  });
});

describe('step-up and removal', () => {
  it('removes TOTP with a fresh code; login then needs only the password', async () => {
    const s = setup();
    const { token, secret } = await registerWithTotp(s);
    await s.mfa.removeTotp(token, parseStepUp({ code: totpCode(secret, s.backend.clock.now()) }).proof);
    await expect(
      loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toMatchObject({ username: 'alice' });
    expect(s.backend.audit.types('alice')).toContain('totp_removed');
    expect(s.store.records.get('alice')!.recoveryCodeHashes).toEqual([]);
  });

  it('refuses removal with a wrong or reused code, and a step-up body with no proof', async () => {
    const s = setup();
    const { token, secret } = await registerWithTotp(s);
    const code = totpCode(secret, s.backend.clock.now());
    const { challenge } = await passwordLogin(s);
    await s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, code }));
    expect(await thrown(s.mfa.removeTotp(token, { code }))).toBeInstanceOf(AuthenticationError);
    expect(s.store.records.get('alice')!.totp).toBeDefined();
    expect(() => parseStepUp({})).toThrow(ValidationError);
    expect(() => parseStepUp({ currentPassword: PASSWORD, code: '123456' })).toThrow(ValidationError);
  });

  it("a re-registered name does not inherit the old registration's factors", async () => {
    const s = setup();
    await registerWithTotp(s);
    s.backend.users.remove('alice');
    await s.service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    await expect(
      loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toMatchObject({ username: 'alice' });
  });
});

describe('password reset for a user with a second factor', () => {
  async function withResetCode(s: Setup, code = 'ABCD-EFGH-JKMN-PQRS') {
    await s.backend.resetCodes.putResetCode(
      parseUsername('alice'),
      hashResetCode(code),
      s.backend.clock.now() + 3_600_000,
    );
    return code;
  }

  it('refuses a reset code alone (401 second_factor_required) and keeps the code usable', async () => {
    const s = setup();
    const { secret } = await registerWithTotp(s);
    const resetCode = await withResetCode(s);
    const alone = await thrown(
      s.service.accounts.resetPassword(
        parseResetPasswordRequest({ username: 'alice', resetCode, newPassword: 'a new passphrase' }),
      ),
    );
    expect(alone).toBeInstanceOf(SecondFactorMissingError);
    expect(
      await thrown(loginSession(s.service, parseLoginRequest({ username: 'alice', password: 'a new passphrase' }))),
    ).toBeInstanceOf(AuthenticationError);
    const done = await s.service.accounts.resetPassword(
      parseResetPasswordRequest({
        username: 'alice',
        resetCode,
        newPassword: 'a new passphrase',
        code: totpCode(secret, s.backend.clock.now()),
      }),
    );
    expect(done.username).toBe('alice');
  });

  it('refuses a reset with a wrong code and accepts one with a recovery code', async () => {
    const s = setup();
    const { recoveryCodes } = await registerWithTotp(s);
    const resetCode = await withResetCode(s);
    const wrong = await thrown(
      s.service.accounts.resetPassword(
        parseResetPasswordRequest({ username: 'alice', resetCode, newPassword: 'a new passphrase', code: '000000' }),
      ),
    );
    expect(wrong).toBeInstanceOf(AuthenticationError);
    await expect(
      s.service.accounts.resetPassword(
        parseResetPasswordRequest({
          username: 'alice',
          resetCode,
          newPassword: 'a new passphrase',
          recoveryCode: recoveryCodes[3],
        }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
  });

  it('still resets a user without a second factor with the code alone', async () => {
    const s = setup();
    await s.service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const resetCode = await withResetCode(s);
    await expect(
      s.service.accounts.resetPassword(
        parseResetPasswordRequest({ username: 'alice', resetCode, newPassword: 'a new passphrase' }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
  });
});

describe('step-up before ending another session', () => {
  it("ends the caller's own session without a proof, another one only with a fresh code (the right password alone is refused)", async () => {
    const s = setup();
    const { token, secret } = await registerWithTotp(s);
    const { challenge } = await passwordLogin(s);
    const phone = await s.mfaLogin.completeLogin(
      parseMfaLogin({ challenge: challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
    );
    const phoneId = (await s.service.sessions.listSessions(phone.session.token)).find((session) => session.current)!.id;
    expect(await thrown(s.service.sessions.revokeSession(token, phoneId, undefined))).toBeInstanceOf(ValidationError);
    expect(
      await thrown(s.service.sessions.revokeSession(token, phoneId, { currentPassword: PASSWORD as Password })),
    ).toBeInstanceOf(SecondFactorMissingError);
    await expect(s.service.sessions.token(phone.session.token)).resolves.toBeDefined();
    s.backend.clock.advance(STEP);
    await s.service.sessions.revokeSession(token, phoneId, { code: totpCode(secret, s.backend.clock.now()) });
    expect(await thrown(s.service.sessions.token(phone.session.token))).toBeInstanceOf(AuthenticationError);
    const ownId = (await s.service.sessions.listSessions(token)).find((session) => session.current)!.id;
    await s.service.sessions.revokeSession(token, ownId, undefined);
    expect(await thrown(s.service.sessions.token(token))).toBeInstanceOf(AuthenticationError);
  });

  it("answers 404 for another user's session before any proof is checked", async () => {
    const s = setup();
    const alice = await s.service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const bob = await s.service.accounts.register(parseRegisterRequest({ username: 'bob', password: PASSWORD }));
    const bobId = (await s.service.sessions.listSessions(bob.session.token))[0]!.id;
    expect(await thrown(s.service.sessions.revokeSession(alice.session.token, bobId, undefined))).toBeInstanceOf(
      NotFoundError,
    );
    expect(s.backend.lockout.state('alice')).toBeUndefined();
  });
});

describe('passkeys (the WebAuthn ceremonies themselves run in test/web/mfa-passkey.browser.test.ts)', () => {
  it('hands out registration options only after a step-up, bound to the configured relying party', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    expect(
      await thrown(s.mfa.passkeyOptions(session.token, { currentPassword: 'wrong password' as Password })),
    ).toBeInstanceOf(AuthenticationError);
    const options = (await s.mfa.passkeyOptions(session.token, { currentPassword: PASSWORD as Password })) as {
      rp: { id: string };
      challenge: string;
      user: { name: string };
    };
    expect(options.rp.id).toBe('localhost');
    expect(options.user.name).toBe('alice');
    expect(s.store.records.get('alice')!.pendingPasskey?.challenge).toBe(options.challenge);
  });

  it('refuses a forged registration answer (401, audited) and adds nothing', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    await s.mfa.passkeyOptions(session.token, { currentPassword: PASSWORD as Password });
    const forged = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', attestationObject: 'oA' },
      clientExtensionResults: {},
    };
    expect(await thrown(s.mfa.addPasskey(session.token, forged, 'Laptop'))).toBeInstanceOf(AuthenticationError);
    expect(s.store.records.get('alice')!.passkeys).toEqual([]);
    expect(s.backend.audit.types('alice')).toContain('mfa_failed');
    await expect(
      loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toMatchObject({ username: 'alice' });
  });

  it('refuses a forged passkey answer to a login challenge, counted toward the factor lockout', async () => {
    const s = setup();
    await registerWithTotp(s);
    const { challenge } = await passwordLogin(s);
    const forged = JSON.stringify({
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
      clientExtensionResults: {},
    });
    expect(
      await thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, passkey: forged }))),
    ).toBeInstanceOf(AuthenticationError);
    expect(s.store.attempts.get('alice unknown-device')?.attempts).toBe(1);
  });

  it('answers 404 for removing a passkey the user does not have, before any proof is checked', async () => {
    const s = setup();
    const { session } = await s.service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    expect(
      await thrown(s.mfa.removePasskey(session.token, 'AAAA', { currentPassword: 'wrong password' as Password })),
    ).toBeInstanceOf(NotFoundError);
    expect(s.backend.lockout.state('alice')).toBeUndefined();
  });
});

describe('passwordless sign-in', () => {
  it('gives options for any passkey with user verification required, and a challenge that reveals nobody', async () => {
    const s = setup();
    const { challenge, passkeyOptions } = await s.mfaLogin.passkeyLoginOptions();
    expect(challenge.token).toMatch(/^[\w-]{43}$/);
    expect(passkeyOptions).toMatchObject({ rpId: 'localhost', userVerification: 'required', allowCredentials: [] });
  });

  it('refuses a passkey nobody registered, and a login challenge used at the passwordless route', async () => {
    const s = setup();
    await registerWithTotp(s);
    const { challenge } = await s.mfaLogin.passkeyLoginOptions();
    const unknown = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
      clientExtensionResults: {},
    };
    expect(await thrown(s.mfaLogin.passkeyLogin(challenge.token, unknown))).toBeInstanceOf(AuthenticationError);
    const login = await passwordLogin(s);
    expect(await thrown(s.mfaLogin.passkeyLogin(login.challenge.token, unknown))).toBeInstanceOf(AuthenticationError);
    expect(s.backend.sessions.size).toBe(1);
  });
});

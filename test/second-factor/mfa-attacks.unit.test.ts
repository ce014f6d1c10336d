/**
 * Issue 21, as an attacker runs it: a stranger without the password, a password thief
 * without the second factor, a thief with a stolen session, and a second account with a
 * hostile authenticator. Core services on in-memory stores with the adapter's conditions;
 * passkey ceremonies are real (a software authenticator signs what a browser would send).
 */
import fc from 'fast-check';
import {
  parseMfaLogin,
  parseOptionalStepUp,
  parsePasskeyAdd,
  parsePasskeyOptions,
  parseStepUp,
  parseStepUpText,
  parseTotpStart,
} from '../../lambda/second-factor/requests';
import {
  AlreadyEnrolledError,
  AuthenticationError,
  NotFoundError,
  SecondFactorMissingError,
  TooManyAttemptsError,
  ValidationError,
} from '../../lambda/platform/errors';
import { hashDeviceToken } from '../../lambda/accounts/device-trust';
import type { MfaChallengeResult } from '../../lambda/contract/wire';
import { PASSKEY_REFUSED_MESSAGE } from '../../lambda/second-factor/mfa-login';
import { MfaAdmin } from '../../lambda/operator/second-factor-admin';
import { FACTOR_CONSECUTIVE_LIMIT, FACTOR_COUNTER_MEMORY_MS } from '../../lambda/second-factor/gate';
import { AuditRecorder } from '../../lambda/platform/audit';
import { totpCode } from '../../lambda/second-factor/totp';
import { createServices } from '../../lambda/services';
import { parseLoginPassword, parsePassword, type Password } from '../../lambda/accounts/password';
import {
  parseChangePasswordRequest,
  parseLoginRequest,
  parsePasswordChange,
  parseRegisterRequest,
  parseResetPasswordRequest,
} from '../../lambda/accounts/requests';
import { thrown } from '../support/async';
import { inMemoryBackend, loginChallenge, loginSession } from '../support/in-memory';
import { InMemoryMfaStore } from '../support/in-memory-mfa';
import { SoftAuthenticator } from '../support/soft-authenticator';

const PASSWORD = 'correct horse battery';
const ORIGIN = 'http://localhost:3000';
const STEP = 30_000;
const WINDOW = 15 * 60_000;

function setup() {
  const backend = inMemoryBackend();
  const store = new InMemoryMfaStore();
  const services = createServices({ ...backend, factors: store, challenges: store });
  return { backend, store, service: services, ...services };
}
type Setup = ReturnType<typeof setup>;

async function register(s: Setup, username: string) {
  return s.service.accounts.register(parseRegisterRequest({ username, password: PASSWORD }));
}

/** Alice with an authenticator app; her first device (the registering one) is trusted. */
async function aliceWithTotp(s: Setup) {
  const registered = await register(s, 'alice');
  const token = registered.session.token;
  const { secret } = await s.mfa.startTotp(token, { currentPassword: PASSWORD as Password });
  const { recoveryCodes } = await s.mfa.confirmTotp(token, totpCode(secret, s.backend.clock.now()));
  s.backend.clock.advance(STEP);
  return { token, secret, recoveryCodes, deviceToken: registered.deviceToken! };
}

/** Registers a passkey held by `authenticator` for the session `token` (after `proof`). */
async function addPasskey(
  s: Setup,
  token: string,
  authenticator: SoftAuthenticator,
  proof: Parameters<Setup['mfa']['passkeyOptions']>[1],
) {
  const options = (await s.mfa.passkeyOptions(token, proof)) as { challenge: string; rp: { id?: string } };
  const { credential, name } = parsePasskeyAdd({
    credential: JSON.stringify(authenticator.register(options, ORIGIN)),
    name: 'key',
  });
  return s.mfa.addPasskey(token, credential, name);
}

async function challengeFor(s: Setup, username: string, deviceToken?: string): Promise<MfaChallengeResult> {
  return loginChallenge(
    s.service,
    parseLoginRequest({ username, password: PASSWORD, ...(deviceToken ? { deviceToken } : {}) }),
  );
}

const wrongCode = (s: Setup, secret: string) =>
  totpCode(secret, s.backend.clock.now()) === '000000' ? '111111' : '000000';

async function passwordlessAnswer(
  s: Setup,
  authenticator: SoftAuthenticator,
  as: Parameters<SoftAuthenticator['assert']>[2] = {},
) {
  const { challenge, passkeyOptions } = await s.mfaLogin.passkeyLoginOptions();
  const answer = authenticator.assert((passkeyOptions as { challenge: string }).challenge, ORIGIN, as);
  return { token: challenge.token, answer };
}

describe("a stranger cannot spend the owner's second-factor attempts", () => {
  it("five wrong codes after the right password from an unknown device lock unknown devices only: the owner's trusted device still signs in", async () => {
    const s = setup();
    const { secret, deviceToken } = await aliceWithTotp(s);
    for (let i = 0; i < 5; i++) {
      const { challenge } = await challengeFor(s, 'alice');
      expect(
        await thrown(
          s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, code: wrongCode(s, secret) })),
        ),
      ).toBeInstanceOf(AuthenticationError);
    }
    const stranger = await challengeFor(s, 'alice');
    expect(
      await thrown(
        s.mfaLogin.completeLogin(
          parseMfaLogin({ challenge: stranger.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
        ),
      ),
    ).toBeInstanceOf(TooManyAttemptsError);
    const owner = await challengeFor(s, 'alice', deviceToken);
    await expect(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: owner.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
  });

  it("a stolen session's five wrong step-up codes lock that session only: the owner's device signs in and the owner's session steps up", async () => {
    const s = setup();
    const { token, secret, deviceToken } = await aliceWithTotp(s);
    const stolen = await s.mfaLogin.completeLogin(
      parseMfaLogin({
        challenge: (await challengeFor(s, 'alice', deviceToken)).challenge.token,
        code: totpCode(secret, s.backend.clock.now()),
      }),
    );
    s.backend.clock.advance(STEP);
    const ownerSessionId = (await s.service.sessions.listSessions(token)).find((session) => session.current)!.id;
    for (let i = 0; i < 5; i++) {
      expect(
        await thrown(
          s.service.sessions.revokeSession(stolen.session.token, ownerSessionId, { code: wrongCode(s, secret) }),
        ),
      ).toBeInstanceOf(AuthenticationError);
    }
    expect(
      await thrown(
        s.service.sessions.revokeSession(stolen.session.token, ownerSessionId, {
          code: totpCode(secret, s.backend.clock.now()),
        }),
      ),
    ).toBeInstanceOf(TooManyAttemptsError);
    // The owner, from the trusted device and from the own session, is unaffected.
    const owner = await challengeFor(s, 'alice', deviceToken);
    await s.mfaLogin.completeLogin(
      parseMfaLogin({ challenge: owner.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
    );
    s.backend.clock.advance(STEP);
    const stolenId = (await s.service.sessions.listSessions(stolen.session.token)).find(
      (session) => session.current,
    )!.id;
    await s.service.sessions.revokeSession(token, stolenId, { code: totpCode(secret, s.backend.clock.now()) });
    expect(await thrown(s.service.sessions.token(stolen.session.token))).toBeInstanceOf(AuthenticationError);
  });

  it("forged passwordless answers carrying the owner's credential id spend no counter of the owner, whose password, code and passkey keep working", async () => {
    const s = setup();
    const { token, secret, deviceToken } = await aliceWithTotp(s);
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, token, aliceKey, { code: totpCode(secret, s.backend.clock.now()) });
    s.backend.clock.advance(STEP);
    const forger = new SoftAuthenticator();
    for (let i = 0; i < 20; i++) {
      const { token: challenge, answer } = await passwordlessAnswer(s, forger, { id: aliceKey.id });
      const error = await thrown(s.mfaLogin.passkeyLogin(challenge, answer));
      expect(error).toBeInstanceOf(AuthenticationError);
    }
    expect([...s.store.attempts.keys()]).toEqual([]);
    const owner = await challengeFor(s, 'alice');
    await expect(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: owner.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
    const { token: challenge, answer } = await passwordlessAnswer(s, aliceKey, {
      userHandle: s.backend.users.all()[0]!.userId,
    });
    await expect(s.mfaLogin.passkeyLogin(challenge, answer)).resolves.toMatchObject({ username: 'alice' });
    // And her trusted device never met a counter either.
    const trusted = await challengeFor(s, 'alice', deviceToken);
    s.backend.clock.advance(STEP);
    await expect(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: trusted.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
  });

  it(`a consecutive-failure ceiling of ${FACTOR_CONSECUTIVE_LIMIT} holds across windows for unknown devices; trusted devices go on, and a password change lifts it`, async () => {
    const s = setup();
    const { token, secret, deviceToken } = await aliceWithTotp(s);
    for (let window = 0; window < FACTOR_CONSECUTIVE_LIMIT / 5; window++) {
      for (let i = 0; i < 5; i++) {
        const { challenge } = await challengeFor(s, 'alice');
        await thrown(
          s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, code: wrongCode(s, secret) })),
        );
      }
      s.backend.clock.advance(WINDOW);
    }
    expect(s.backend.audit.events.filter((event) => event.type === 'mfa_failed')).toHaveLength(
      FACTOR_CONSECUTIVE_LIMIT,
    );
    // A new window has begun, yet the next answer, even the right code, is refused for days.
    const after = await challengeFor(s, 'alice');
    const refused = await thrown(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: after.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    );
    expect(refused).toBeInstanceOf(TooManyAttemptsError);
    expect((refused as TooManyAttemptsError).retryAfterSeconds).toBeGreaterThan(24 * 3600);
    // The owner's trusted device has its own counter.
    const owner = await challengeFor(s, 'alice', deviceToken);
    await s.mfaLogin.completeLogin(
      parseMfaLogin({ challenge: owner.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
    );
    s.backend.clock.advance(STEP);
    // Changing the password (with the factor) ends the guesser's lock on unknown devices.
    const { request, factor } = parsePasswordChange({
      currentPassword: PASSWORD,
      newPassword: 'a different long password',
      code: totpCode(secret, s.backend.clock.now()),
    });
    await s.mfa.changePassword(token, request, factor);
    s.backend.clock.advance(STEP);
    const fresh = await loginChallenge(
      s.service,
      parseLoginRequest({ username: 'alice', password: 'a different long password' }),
    );
    await expect(
      s.mfaLogin.completeLogin(
        parseMfaLogin({ challenge: fresh.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
      ),
    ).resolves.toMatchObject({ username: 'alice' });
  }, 60_000);
});

describe('the consecutive-failure ceiling ends only as documented', () => {
  async function atCeiling() {
    const s = setup();
    await aliceWithTotp(s);
    const alice = s.backend.users.all().find((user) => user.username === 'alice')!;
    for (let attempt = 1; attempt <= FACTOR_CONSECUTIVE_LIMIT; attempt++) {
      await s.gate.reserveAttempt(alice, 'unknown-device', {});
      if (attempt % 5 === 0) s.backend.clock.advance(WINDOW);
    }
    expect(await thrown(s.gate.reserveAttempt(alice, 'unknown-device', {}))).toBeInstanceOf(TooManyAttemptsError);
    return { s, alice };
  }

  it('after 30 days without an attempt the counter is forgotten, not before', async () => {
    const { s, alice } = await atCeiling();
    s.backend.clock.advance(FACTOR_COUNTER_MEMORY_MS - 2 * WINDOW);
    expect(await thrown(s.gate.reserveAttempt(alice, 'unknown-device', {}))).toBeInstanceOf(TooManyAttemptsError);
    s.backend.clock.advance(2 * WINDOW);
    await expect(s.gate.reserveAttempt(alice, 'unknown-device', {})).resolves.toBeUndefined();
  });

  it("an operator's mfa reset clears it; other counters (a session's) never felt it", async () => {
    const { s, alice } = await atCeiling();
    await expect(s.gate.reserveAttempt(alice, 'session:some-session', {})).resolves.toBeUndefined();
    await new MfaAdmin({ users: s.backend.users, factors: s.store, auditor: new AuditRecorder(s.backend) }).reset(
      alice.username,
    );
    await expect(s.gate.reserveAttempt(alice, 'unknown-device', {})).resolves.toBeUndefined();
  });
});

describe('device tokens are earned by the second factor and cannot be pushed out by a password thief', () => {
  it("the right password alone earns no device token; ten such logins leave the owner's device trusted, with its own counter", async () => {
    const s = setup();
    const { secret, deviceToken } = await aliceWithTotp(s);
    for (let i = 0; i < 10; i++) expect(await challengeFor(s, 'alice')).not.toHaveProperty('deviceToken');
    const alice = () => s.backend.users.all().find((user) => user.username === 'alice')!;
    expect(alice().trustedDevices?.map((device) => device.hash)).toEqual([hashDeviceToken(deviceToken)]);
    // Then five wrong codes from the thief: the owner's device is untouched.
    for (let i = 0; i < 5; i++) {
      const { challenge } = await challengeFor(s, 'alice');
      await thrown(s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, code: wrongCode(s, secret) })));
    }
    const owner = await challengeFor(s, 'alice', deviceToken);
    const done = await s.mfaLogin.completeLogin(
      parseMfaLogin({ challenge: owner.challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
    );
    // An already trusted device keeps its token: nothing new is issued.
    expect(done.deviceToken).toBeUndefined();
    expect(alice().trustedDevices?.map((device) => device.hash)).toEqual([hashDeviceToken(deviceToken)]);
  });

  it('completing the second factor on a new device trusts it: the answer carries a device token the account now holds', async () => {
    const s = setup();
    const { secret } = await aliceWithTotp(s);
    const { challenge } = await challengeFor(s, 'alice');
    const done = await s.mfaLogin.completeLogin(
      parseMfaLogin({ challenge: challenge.token, code: totpCode(secret, s.backend.clock.now()) }),
    );
    expect(done.deviceToken).toMatch(/^[\w-]{43}$/);
    expect(
      s.backend.users
        .all()
        .find((user) => user.username === 'alice')!
        .trustedDevices?.map((device) => device.hash),
    ).toContain(hashDeviceToken(done.deviceToken!));
  });
});

describe('a passkey credential id is owned once', () => {
  it("a second account cannot register its own key under the owner's credential id (409); the owner's passwordless sign-in still works", async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const mallory = await register(s, 'mallory');
    const malloryKey = new SoftAuthenticator({ id: aliceKey.id });
    expect(
      await thrown(addPasskey(s, mallory.session.token, malloryKey, { currentPassword: PASSWORD as Password })),
    ).toBeInstanceOf(AlreadyEnrolledError);
    expect(s.store.owners.get(aliceKey.id)).toMatchObject({ username: 'alice' });
    expect(s.store.records.get('mallory')?.passkeys ?? []).toEqual([]);
    const { token, answer } = await passwordlessAnswer(s, aliceKey);
    await expect(s.mfaLogin.passkeyLogin(token, answer)).resolves.toMatchObject({ username: 'alice' });
  });

  it("removing a passkey releases only its own owner record: another account's claim on an id is never deleted", async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const aliceRecord = s.backend.users.all().find((user) => user.username === 'alice')!;
    await s.store.releasePasskeyId(aliceKey.id, 'another-registration');
    expect(s.store.owners.get(aliceKey.id)).toMatchObject({ userId: aliceRecord.userId });
  });

  it('a userHandle naming another registration is refused, even with a valid signature', async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    await register(s, 'bob');
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const bobId = s.backend.users.all().find((user) => user.username === 'bob')!.userId;
    const forged = await passwordlessAnswer(s, aliceKey, { userHandle: bobId });
    expect(((await thrown(s.mfaLogin.passkeyLogin(forged.token, forged.answer))) as Error).message).toBe(
      PASSKEY_REFUSED_MESSAGE,
    );
    const aliceId = s.backend.users.all().find((user) => user.username === 'alice')!.userId;
    const right = await passwordlessAnswer(s, aliceKey, { userHandle: aliceId });
    await expect(s.mfaLogin.passkeyLogin(right.token, right.answer)).resolves.toMatchObject({ username: 'alice' });
  });
});

describe('step-up with the factors the account has', () => {
  it('on an account with a second factor, the right password alone adds no passkey, removes none, ends no session and changes no password', async () => {
    const s = setup();
    const { token, secret, deviceToken } = await aliceWithTotp(s);
    const key = new SoftAuthenticator();
    const added = await addPasskey(s, token, key, { code: totpCode(secret, s.backend.clock.now()) });
    s.backend.clock.advance(STEP);
    const password = { currentPassword: PASSWORD as Password };
    expect(await thrown(s.mfa.passkeyOptions(token, password))).toBeInstanceOf(SecondFactorMissingError);
    expect(await thrown(s.mfa.removePasskey(token, added.id, password))).toBeInstanceOf(SecondFactorMissingError);
    const other = await s.mfaLogin.completeLogin(
      parseMfaLogin({
        challenge: (await challengeFor(s, 'alice', deviceToken)).challenge.token,
        code: totpCode(secret, s.backend.clock.now()),
      }),
    );
    s.backend.clock.advance(STEP);
    const otherId = (await s.service.sessions.listSessions(other.session.token)).find((session) => session.current)!.id;
    expect(await thrown(s.service.sessions.revokeSession(token, otherId, password))).toBeInstanceOf(
      SecondFactorMissingError,
    );
    const change = parseChangePasswordRequest({ currentPassword: PASSWORD, newPassword: 'a different long password' });
    expect(await thrown(s.mfa.changePassword(token, change, undefined))).toBeInstanceOf(SecondFactorMissingError);
    expect(await thrown(s.mfa.changePassword(token, change, password))).toBeInstanceOf(SecondFactorMissingError);
    // Nothing changed: the passkey, the other session and the password are all still there.
    expect(s.store.records.get('alice')!.passkeys).toHaveLength(1);
    await expect(s.service.sessions.token(other.session.token)).resolves.toBeDefined();
    expect(await challengeFor(s, 'alice')).toHaveProperty('mfaRequired', true);
    // With the factor, each goes through.
    await s.mfa.changePassword(token, change, { code: totpCode(secret, s.backend.clock.now()) });
    expect(await thrown(s.service.sessions.token(other.session.token))).toBeInstanceOf(AuthenticationError);
  });

  it("a passkey-only account steps up with its passkey (a fresh passwordless challenge, used once); another account's passkey proves nothing", async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const bob = await register(s, 'bob');
    const bobKey = new SoftAuthenticator();
    await addPasskey(s, bob.session.token, bobKey, { currentPassword: PASSWORD as Password });
    // The password alone no longer adds an authenticator app.
    expect(
      await thrown(s.mfa.startTotp(alice.session.token, { currentPassword: PASSWORD as Password })),
    ).toBeInstanceOf(SecondFactorMissingError);
    const bobs = await passwordlessAnswer(s, bobKey);
    const proofFrom = ({ token, answer }: { token: string; answer: object }) =>
      parseStepUp({ challenge: token, passkey: JSON.stringify(answer) }).proof;
    expect(await thrown(s.mfa.startTotp(alice.session.token, proofFrom(bobs)))).toBeInstanceOf(AuthenticationError);
    const own = await passwordlessAnswer(s, aliceKey);
    await expect(s.mfa.startTotp(alice.session.token, proofFrom(own))).resolves.toHaveProperty('secret');
    // The same answer cannot prove a second change.
    expect(await thrown(s.mfa.startTotp(alice.session.token, proofFrom(own)))).toBeInstanceOf(AuthenticationError);
  });
});

describe('no oracle on passkey sign-in', () => {
  it('a forged answer for a registered id and one for an unknown id get the same refusal (status and message)', async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const forger = new SoftAuthenticator();
    const registered = await passwordlessAnswer(s, forger, { id: aliceKey.id });
    const unknown = await passwordlessAnswer(s, forger);
    const errors = [
      await thrown(s.mfaLogin.passkeyLogin(registered.token, registered.answer)),
      await thrown(s.mfaLogin.passkeyLogin(unknown.token, unknown.answer)),
    ];
    expect(errors.map((error) => [error?.constructor.name, (error as Error).message])).toEqual([
      ['AuthenticationError', PASSKEY_REFUSED_MESSAGE],
      ['AuthenticationError', PASSKEY_REFUSED_MESSAGE],
    ]);
  });
});

describe('text that is not valid Unicode is refused (400)', () => {
  it('passwords that differ only in a lone surrogate no longer compare equal: each is refused', () => {
    for (const raw of ['\ud800X long enough', '\udfffX long enough']) {
      expect(() => parsePassword(raw)).toThrow(ValidationError);
      expect(() => parseLoginPassword(raw)).toThrow(ValidationError);
    }
    expect(parseLoginPassword('\ufffdX long enough')).toBe('\ufffdX long enough');
  });

  it('refuses every string holding a lone surrogate as password, device label and passkey name, and accepts the well-formed ones (fast-check)', () => {
    const lone = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff');
    const text = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
      .filter((value) => /^[\p{L}\p{N} ]+$/u.test(value) && value.trim().length > 0);
    fc.assert(
      fc.property(text, lone, fc.nat(12), (base, surrogate, at) => {
        const position = Math.min(at, base.length);
        const bad = `${base.slice(0, position)}${surrogate}${base.slice(position)}`;
        if (bad.isWellFormed()) return; // joined a pair with a neighbour: not a lone one
        expect(() => parseLoginPassword(bad)).toThrow(ValidationError);
        expect(() => parseLoginRequest({ username: 'alice', password: PASSWORD, device: bad })).toThrow(
          /valid Unicode/,
        );
        expect(() => parsePasskeyAdd({ credential: '{}', name: bad })).toThrow(/valid Unicode/);
        expect(() =>
          parseLoginRequest({ username: 'alice', password: `${base} long password`, device: base }),
        ).not.toThrow();
      }),
    );
  });
});

describe('one proof is spent once, even sent to several routes or challenges at once', () => {
  const proofFrom = ({ token, answer }: { token: string; answer: object }) =>
    parseStepUp({ challenge: token, passkey: JSON.stringify(answer) }).proof;
  const settled = async (promises: Promise<unknown>[]) =>
    (await Promise.allSettled(promises)).map((result) => result.status);

  it('one passkey step-up answer (a key without a counter) sent to three routes in parallel proves exactly one change', async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const aliceKey = new SoftAuthenticator({ withoutCounter: true });
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const other = await s.service.sessions.login(parseLoginRequest({ username: 'alice', password: PASSWORD }));
    expect(other.kind).toBe('second-factor-required');
    const proof = proofFrom(await passwordlessAnswer(s, aliceKey));
    const outcomes = await settled([
      s.mfa.startTotp(alice.session.token, proof),
      s.mfa.passkeyOptions(alice.session.token, proof),
      s.mfa.startTotp(alice.session.token, proof),
    ]);
    expect(outcomes.filter((status) => status === 'fulfilled')).toHaveLength(1);
  });

  it('a cloned passkey: two answers with the same counter, sent in parallel to two passwordless sign-ins, open one session', async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const aliceKey = new SoftAuthenticator({ counter: 10 });
    await addPasskey(s, alice.session.token, aliceKey, { currentPassword: PASSWORD as Password });
    const clone = aliceKey.clone();
    const first = await passwordlessAnswer(s, aliceKey);
    const second = await passwordlessAnswer(s, clone);
    const outcomes = await settled([
      s.mfaLogin.passkeyLogin(first.token, first.answer),
      s.mfaLogin.passkeyLogin(second.token, second.answer),
    ]);
    expect(outcomes.filter((status) => status === 'fulfilled')).toHaveLength(1);
  });

  it('one TOTP code sent to two login challenges and one step-up in parallel is accepted once', async () => {
    const s = setup();
    const { token, secret } = await aliceWithTotp(s);
    const [a, b] = [await challengeFor(s, 'alice'), await challengeFor(s, 'alice')];
    const code = totpCode(secret, s.backend.clock.now());
    const outcomes = await settled([
      s.mfaLogin.completeLogin(parseMfaLogin({ challenge: a.challenge.token, code })),
      s.mfaLogin.completeLogin(parseMfaLogin({ challenge: b.challenge.token, code })),
      s.mfa.passkeyOptions(token, { code }),
    ]);
    expect(outcomes.filter((status) => status === 'fulfilled')).toHaveLength(1);
  });

  it('one recovery code sent to a login, a step-up and a password change in parallel is accepted once', async () => {
    const s = setup();
    const { token, recoveryCodes } = await aliceWithTotp(s);
    const recoveryCode = recoveryCodes[0]!;
    const { challenge } = await challengeFor(s, 'alice');
    const change = parsePasswordChange({
      currentPassword: PASSWORD,
      newPassword: 'another long passphrase',
      recoveryCode,
    });
    const outcomes = await settled([
      s.mfaLogin.completeLogin(parseMfaLogin({ challenge: challenge.token, recoveryCode })),
      s.mfa.passkeyOptions(token, { recoveryCode }),
      s.mfa.changePassword(token, change.request, change.factor),
    ]);
    expect(outcomes.filter((status) => status === 'fulfilled')).toHaveLength(1);
    expect(s.store.records.get('alice')?.recoveryCodeHashes).toHaveLength(9);
  });

  it('parallel right answers to one login challenge open one session (property: 2-6 answers, codes and recovery codes mixed)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 2, maxLength: 6 }), async (useRecovery) => {
        const s = setup();
        const { secret, recoveryCodes } = await aliceWithTotp(s);
        const { challenge } = await challengeFor(s, 'alice');
        const code = totpCode(secret, s.backend.clock.now());
        const outcomes = await settled(
          useRecovery.map((recovery, i) =>
            s.mfaLogin.completeLogin(
              parseMfaLogin({
                challenge: challenge.token,
                ...(recovery ? { recoveryCode: recoveryCodes[i]! } : { code }),
              }),
            ),
          ),
        );
        expect(outcomes.filter((status) => status === 'fulfilled')).toHaveLength(1);
        expect((await s.service.sessions.listSessions((await register(s, 'probe')).session.token)).length).toBe(1);
      }),
      { numRuns: 15 },
    );
  });

  it('a challenge serves only its own kind: a passwordless challenge opens no /login/mfa, a login challenge proves no step-up', async () => {
    const s = setup();
    const { token, secret } = await aliceWithTotp(s);
    const aliceKey = new SoftAuthenticator();
    await addPasskey(s, token, aliceKey, { code: totpCode(secret, s.backend.clock.now()) });
    const passwordless = await passwordlessAnswer(s, aliceKey);
    expect(
      await thrown(
        s.mfaLogin.completeLogin(
          parseMfaLogin({ challenge: passwordless.token, passkey: JSON.stringify(passwordless.answer) }),
        ),
      ),
    ).toBeInstanceOf(AuthenticationError);
    const login = await challengeFor(s, 'alice');
    const webauthnChallenge = (login.passkeyOptions as { challenge: string }).challenge;
    const answer = aliceKey.assert(webauthnChallenge, ORIGIN);
    expect(
      await thrown(s.mfa.passkeyOptions(token, proofFrom({ token: login.challenge.token, answer }))),
    ).toBeInstanceOf(AuthenticationError);
    expect(await thrown(s.mfaLogin.passkeyLogin(login.challenge.token, answer))).toBeInstanceOf(AuthenticationError);
  });
});

describe("a step-up proven with the password alone does not outlive the account's first factor", () => {
  it('a stolen session with the phished password starts a passkey registration; once the owner sets up an app, finishing it adds nothing', async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const stolen = await loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD }));
    const thiefKey = new SoftAuthenticator();
    const options = (await s.mfa.passkeyOptions(stolen.session.token, { currentPassword: PASSWORD as Password })) as {
      challenge: string;
      rp: { id?: string };
    };
    const { secret } = await s.mfa.startTotp(alice.session.token, { currentPassword: PASSWORD as Password });
    await s.mfa.confirmTotp(alice.session.token, totpCode(secret, s.backend.clock.now()));
    const { credential, name } = parsePasskeyAdd({
      credential: JSON.stringify(thiefKey.register(options, ORIGIN)),
      name: 'thief',
    });
    expect(await thrown(s.mfa.addPasskey(stolen.session.token, credential, name))).toBeInstanceOf(NotFoundError);
    expect(s.store.records.get('alice')?.passkeys).toEqual([]);
    expect(s.store.owners.has(thiefKey.id)).toBe(false);
  });

  it('a stolen session with the phished password starts an authenticator app; once the owner adds a passkey, its code confirms nothing', async () => {
    const s = setup();
    const alice = await register(s, 'alice');
    const stolen = await loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD }));
    const { secret } = await s.mfa.startTotp(stolen.session.token, { currentPassword: PASSWORD as Password });
    await addPasskey(s, alice.session.token, new SoftAuthenticator(), { currentPassword: PASSWORD as Password });
    expect(
      await thrown(s.mfa.confirmTotp(stolen.session.token, totpCode(secret, s.backend.clock.now()))),
    ).toBeInstanceOf(NotFoundError);
    expect(s.store.records.get('alice')?.totp).toBeUndefined();
  });
});

describe('every text field that reaches a password, label or name refuses a lone surrogate (fast-check)', () => {
  const GOOD = 'a long good passphrase';
  const fields: Array<[string, (bad: string) => unknown]> = [
    ['register password', (bad) => parseRegisterRequest({ username: 'alice', password: bad })],
    ['register device', (bad) => parseRegisterRequest({ username: 'alice', password: GOOD, device: bad })],
    ['login password', (bad) => parseLoginRequest({ username: 'alice', password: bad })],
    ['change currentPassword', (bad) => parsePasswordChange({ currentPassword: bad, newPassword: GOOD })],
    ['change newPassword', (bad) => parsePasswordChange({ currentPassword: GOOD, newPassword: bad })],
    ['core change currentPassword', (bad) => parseChangePasswordRequest({ currentPassword: bad, newPassword: GOOD })],
    [
      'reset newPassword',
      (bad) => parseResetPasswordRequest({ username: 'alice', resetCode: 'ABCD-EFGH-JKMN-PQRS', newPassword: bad }),
    ],
    ['step-up currentPassword', (bad) => parseStepUp({ currentPassword: bad })],
    ['step-up text (DELETE bodies)', (bad) => parseStepUpText(JSON.stringify({ currentPassword: bad }))],
    ['session revoke step-up', (bad) => parseOptionalStepUp(JSON.stringify({ currentPassword: bad }))],
    ['passkey options step-up', (bad) => parsePasskeyOptions({ currentPassword: bad })],
    ['authenticator app step-up', (bad) => parseTotpStart({ currentPassword: bad })],
    ['passkey name', (bad) => parsePasskeyAdd({ credential: '{}', name: bad })],
  ];

  it.each(fields)('%s: 400 for any string holding a lone surrogate', (_, parse) => {
    const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 8 }),
        lone,
        fc.string({ minLength: 0, maxLength: 8 }),
        (before, surrogate, after) => {
          const bad = `${before}${surrogate}${after} long enough text`;
          fc.pre(!bad.isWellFormed());
          expect(() => parse(bad)).toThrow(/is not valid Unicode text/);
        },
      ),
      { numRuns: 60 },
    );
  });
});

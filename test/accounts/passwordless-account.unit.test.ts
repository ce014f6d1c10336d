/**
 * Accounts without a password (created by a provider sign-in; design items 5 and 8) on
 * in-memory ports: `POST /password` sets a first password without `currentPassword` only
 * with a fresh proof (a linked identity's ID token, or the second factor when the account has
 * one); a thief with a stolen session and no proof sets nothing; no password logs in to such an
 * account (same 401, counted by the lockout like any wrong password); an operator's reset code
 * sets a password as for anyone; provider sign-in is not a password attempt and is not blocked
 * by a password lockout.
 */
import { NO_PASSWORD } from '../../lambda/accounts/password';
import {
  parseLoginRequest,
  parsePasswordChange,
  parseRegisterRequest,
  parseResetPasswordRequest,
} from '../../lambda/accounts/requests';
import { parseUsername } from '../../lambda/accounts/username';
import { AccountAdmin } from '../../lambda/operator/account-admin';
import {
  AuthenticationError,
  SecondFactorMissingError,
  TooManyAttemptsError,
  ValidationError,
} from '../../lambda/platform/errors';
import type { UserRecord } from '../../lambda/accounts/ports';
import type { RequestOrigin } from '../../lambda/platform/audit';
import { MfaService } from '../../lambda/second-factor/mfa-service';
import type { IdentityProofCheck } from '../../lambda/second-factor/step-up';
import { totpCode } from '../../lambda/second-factor/totp';
import { createServices } from '../../lambda/services';
import type { Password } from '../../lambda/accounts/password';
import { thrown } from '../support/async';
import { inMemoryBackend, loginSession } from '../support/in-memory';
import { InMemoryMfaStore } from '../support/in-memory-mfa';
import { inMemoryIdentities, PROVIDERS } from '../support/in-memory-identities';

const FIRST = 'a first password of mine';
const alice = parseUsername('alice');
/** The one ID token the fake provider accepts for alice's linked identity. */
const ALICE_TOKEN = 'header.alice-fresh-token.signature';

/** A linked-identity proof that accepts exactly alice's fresh token, and records every call. */
class FakeIdentityProof implements IdentityProofCheck {
  readonly calls: string[] = [];
  async proveLinkedIdentity(user: UserRecord, provider: string, idToken: string, _origin: RequestOrigin) {
    this.calls.push(`${user.username}:${provider}`);
    if (user.username !== alice || provider !== 'google' || idToken !== ALICE_TOKEN) throw new AuthenticationError();
  }
}

function setup() {
  const backend = inMemoryBackend();
  const store = new InMemoryMfaStore();
  const services = createServices({ ...backend, factors: store, challenges: store });
  const proof = new FakeIdentityProof();
  // The password function's MfaService, with the step-up that takes an ID token (as built where jose is loaded).
  const mfa = new MfaService({
    sessions: services.sessions,
    accounts: services.accounts,
    stepUp: services.stepUp.withIdentityProof(proof),
    gate: services.gate,
    factors: store,
    clock: backend.clock,
    auditor: services.auditor,
    relyingParty: { id: backend.config.passkeyRpId, origins: backend.config.passkeyOrigins },
  });
  return { backend, services, mfa, proof, admin: new AccountAdmin(backend) };
}
type Setup = ReturnType<typeof setup>;

/** Alice as a provider sign-up leaves her: an account whose password record is the NO_PASSWORD marker, and a session. */
async function passwordlessAlice(s: Setup): Promise<string> {
  const registered = await s.services.accounts.register(
    parseRegisterRequest({ username: 'alice', password: 'throwaway password 123' }),
  );
  const user = (await s.backend.users.getUser(alice))!;
  await s.backend.users.updateUser(alice, user.userId, { passwordHash: NO_PASSWORD });
  return registered.session.token;
}

const setPassword = (s: Setup, token: string, body: Record<string, string>) => {
  const { request, factor } = parsePasswordChange({ newPassword: FIRST, ...body });
  return s.mfa.changePassword(token, request, factor);
};

const login = (s: Setup, password: string) =>
  loginSession(s.services, parseLoginRequest({ username: 'alice', password }));

describe('POST /password on an account without a password', () => {
  it('sets a first password with a fresh ID token of the linked identity; the password then logs in', async () => {
    const s = setup();
    const token = await passwordlessAlice(s);
    const { session } = await setPassword(s, token, { provider: 'google', idToken: ALICE_TOKEN });
    expect(session.token).not.toBe(token);
    expect(s.proof.calls).toEqual(['alice:google']);
    await expect(login(s, FIRST)).resolves.toBeDefined();
    const changed = (await s.backend.audit.list(alice, 10)).find((event) => event.type === 'password_changed');
    expect(changed?.details).toMatchObject({ firstPassword: 'set' });
  });

  it('a thief with a stolen session but no proof sets nothing: 400 without proof, 401 with a token of another identity', async () => {
    const s = setup();
    const token = await passwordlessAlice(s);
    expect(await thrown(setPassword(s, token, {}))).toBeInstanceOf(ValidationError);
    expect(
      await thrown(setPassword(s, token, { provider: 'google', idToken: 'header.thief-own-token.signature' })),
    ).toBeInstanceOf(AuthenticationError);
    expect((await s.backend.users.getUser(alice))!.passwordHash).toBe(NO_PASSWORD);
    expect(await thrown(login(s, FIRST))).toBeInstanceOf(AuthenticationError);
  });

  it('a guessed currentPassword is refused like any wrong password, and counted by the session lockout', async () => {
    const s = setup();
    const token = await passwordlessAlice(s);
    for (let attempt = 0; attempt < s.backend.config.lockoutThreshold; attempt++)
      expect(await thrown(setPassword(s, token, { currentPassword: `guess number ${attempt}` }))).toBeInstanceOf(
        AuthenticationError,
      );
    expect(await thrown(setPassword(s, token, { currentPassword: 'one more guess' }))).toBeInstanceOf(
      TooManyAttemptsError,
    );
    expect((await s.backend.users.getUser(alice))!.passwordHash).toBe(NO_PASSWORD);
  });

  it('with a second factor, the ID token alone is refused; the factor sets the password', async () => {
    const s = setup();
    const token = await passwordlessAlice(s);
    // Enrolling needs a step-up too: the linked identity's token.
    const { secret } = await s.mfa.startTotp(token, { identityToken: { provider: 'google', idToken: ALICE_TOKEN } });
    await s.mfa.confirmTotp(token, totpCode(secret, s.backend.clock.now()));
    s.backend.clock.advance(30_000);
    expect(await thrown(setPassword(s, token, { provider: 'google', idToken: ALICE_TOKEN }))).toBeInstanceOf(
      SecondFactorMissingError,
    );
    expect(await thrown(setPassword(s, token, {}))).toBeInstanceOf(SecondFactorMissingError);
    expect((await s.backend.users.getUser(alice))!.passwordHash).toBe(NO_PASSWORD);
    await setPassword(s, token, { code: totpCode(secret, s.backend.clock.now()) });
    expect((await s.backend.users.getUser(alice))!.passwordHash).not.toBe(NO_PASSWORD);
  });

  it('an account with a password still needs currentPassword: an ID token does not replace it', async () => {
    const s = setup();
    const registered = await s.services.accounts.register(
      parseRegisterRequest({ username: 'alice', password: 'throwaway password 123' }),
    );
    expect(await thrown(setPassword(s, registered.session.token, {}))).toBeInstanceOf(ValidationError);
    expect(
      await thrown(setPassword(s, registered.session.token, { provider: 'google', idToken: ALICE_TOKEN })),
    ).toBeInstanceOf(ValidationError);
    expect(s.proof.calls).toEqual([]);
  });

  it('the AccountService alone (no step-up given) never sets a first password', async () => {
    const s = setup();
    const token = await passwordlessAlice(s);
    const { request } = parsePasswordChange({ newPassword: FIRST });
    expect(await thrown(s.services.accounts.changePassword(token, request))).toBeInstanceOf(AuthenticationError);
    expect((await s.backend.users.getUser(alice))!.passwordHash).toBe(NO_PASSWORD);
  });

  it('refuses an ID token beside a password or a factor, and provider without idToken (400, nothing checked)', () => {
    expect(() => parsePasswordChange({ newPassword: FIRST, provider: 'google' })).toThrow(ValidationError);
    expect(() => parsePasswordChange({ newPassword: FIRST, idToken: ALICE_TOKEN })).toThrow(ValidationError);
    expect(() =>
      parsePasswordChange({
        newPassword: FIRST,
        currentPassword: 'x'.repeat(10),
        provider: 'google',
        idToken: ALICE_TOKEN,
      }),
    ).toThrow(ValidationError);
    expect(() =>
      parsePasswordChange({ newPassword: FIRST, code: '123456', provider: 'google', idToken: ALICE_TOKEN }),
    ).toThrow(ValidationError);
  });
});

describe('login, lockout and reset on an account without a password', () => {
  it('no password logs in (the same 401 as a wrong one), and the attempts count towards the lockout', async () => {
    const s = setup();
    await passwordlessAlice(s);
    for (let attempt = 0; attempt < s.backend.config.lockoutThreshold; attempt++)
      expect(await thrown(login(s, NO_PASSWORD))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(login(s, 'anything at all'))).toBeInstanceOf(TooManyAttemptsError);
  });

  it("an operator's reset code sets a password as for anyone, and it then logs in", async () => {
    const s = setup();
    await passwordlessAlice(s);
    const { code } = await s.admin.issueResetCode(alice);
    await s.services.accounts.resetPassword(
      parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: FIRST }),
    );
    await expect(login(s, FIRST)).resolves.toBeDefined();
  });

  it('step-up with a password is refused for an account without one (same 401), and with its ID token accepted', async () => {
    const s = setup();
    const token = await passwordlessAlice(s);
    const live = await s.services.sessions.authenticate(token);
    const stepUp = s.services.stepUp.withIdentityProof(s.proof);
    expect(await thrown(stepUp.stepUp(live, { currentPassword: NO_PASSWORD as Password }, {}, 'test'))).toBeInstanceOf(
      AuthenticationError,
    );
    await expect(
      stepUp.stepUp(live, { identityToken: { provider: 'google', idToken: ALICE_TOKEN } }, {}, 'test'),
    ).resolves.toBeUndefined();
  });
});

describe('provider sign-in and the password lockout', () => {
  it("a stranger's wrong passwords lock password logins only: the owner's provider sign-in still opens a session, and counts nothing", async () => {
    const world = inMemoryIdentities();
    const google = PROVIDERS[0]!;
    await world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice'), username: alice });
    for (let attempt = 0; attempt < world.backend.config.lockoutThreshold; attempt++)
      await thrown(
        loginSession(world.services, parseLoginRequest({ username: 'alice', password: `guess ${attempt}` })),
      );
    expect(
      await thrown(loginSession(world.services, parseLoginRequest({ username: 'alice', password: 'one more' }))),
    ).toBeInstanceOf(TooManyAttemptsError);
    const before = await world.backend.lockout.peek(alice);
    for (let signIn = 0; signIn < 3; signIn++) {
      const outcome = await world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice') });
      expect(outcome).toMatchObject({ status: 200, body: { username: 'alice' } });
    }
    expect(await world.backend.lockout.peek(alice)).toEqual(before);
  });
});

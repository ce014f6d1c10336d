/**
 * Sign-in with a provider on in-memory ports and a fake verifier, no mocks: nonces are single
 * use, identities map to accounts by (issuer, subject) only, unknown identities write nothing
 * without a username, new accounts have no password, links and unlinks need a step-up, and the
 * last way to sign in cannot be unlinked.
 */
import { NO_PASSWORD, parseLoginPassword } from '../../lambda/accounts/password';
import { BcryptPasswordHasher } from '../../lambda/accounts/password-hash';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { parseUsername } from '../../lambda/accounts/username';
import type { MfaChallengeResult, SessionResult } from '../../lambda/contract/wire';
import { identityId } from '../../lambda/identities/identity-id';
import { INVALID_ID_TOKEN_MESSAGE } from '../../lambda/identities/messages';
import { parseOidcLogin } from '../../lambda/identities/requests';
import type { IdentityLinkBody } from '../../lambda/contract/bodies';
import {
  AlreadyEnrolledError,
  AuthenticationError,
  NotFoundError,
  SecondFactorMissingError,
  UsernameRequiredError,
  UsernameTakenError,
  ValidationError,
} from '../../lambda/platform/errors';
import { parseStepUp, parseTotpConfirm, parseTotpStart } from '../../lambda/second-factor/requests';
import { totpCode } from '../../lambda/second-factor/totp';
import { thrown } from '../support/async';
import { loginSession } from '../support/in-memory';
import { PROVIDERS, inMemoryIdentities, type IdentityWorld } from '../support/in-memory-identities';

const [google, corp] = PROVIDERS as [(typeof PROVIDERS)[0], (typeof PROVIDERS)[0]];
const PASSWORD = 'correct horse battery';

function login(world: IdentityWorld, provider: string, idToken: string, username?: string) {
  return world.oidc.login(
    parseOidcLogin({ provider, idToken, ...(username !== undefined ? { username } : {}) }, PROVIDERS),
  );
}

async function signUp(world: IdentityWorld, username: string, sub = `${username}-sub`): Promise<SessionResult> {
  const outcome = await login(world, 'google', await world.token(google, sub), username);
  expect(outcome.status).toBe(201);
  return outcome.body as SessionResult;
}

/** A `POST /identities` body, checked as the route's model would (the service parses its meaning). */
function linkBody(body: IdentityLinkBody, _providers: unknown): IdentityLinkBody {
  return body;
}

function expectOne401(error: unknown): void {
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as AuthenticationError).message).toBe(INVALID_ID_TOKEN_MESSAGE);
}

describe('nonces', () => {
  it('a nonce is 43 base64url characters, stored only as a hash, and expires after OIDC_NONCE_SECONDS', async () => {
    const world = inMemoryIdentities();
    const { nonce, expiresAt } = await world.oidc.issueNonce();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expiresAt) - world.backend.clock.now()).toBe(600_000);
    expect([...world.nonces.nonces.keys()]).not.toContain(nonce);
  });

  it('with no provider configured, no nonce is issued (404) and nothing is written', async () => {
    const world = inMemoryIdentities([]);
    expect(await thrown(world.oidc.issueNonce())).toBeInstanceOf(NotFoundError);
    expect(world.nonces.nonces.size).toBe(0);
  });

  it('a token whose nonce the TVM never issued is the one 401, and nothing is written', async () => {
    const world = inMemoryIdentities();
    const token = world.verifier.mint(google, { sub: 'x', nonce: 'made-up' });
    expectOne401(await thrown(login(world, 'google', token, 'alice')));
    expect(await world.backend.users.getUser(parseUsername('alice'))).toBeUndefined();
  });

  it('an expired nonce is the one 401', async () => {
    const world = inMemoryIdentities();
    const token = await world.token(google, 'x');
    world.backend.clock.advance(600_001);
    expectOne401(await thrown(login(world, 'google', token, 'alice')));
  });

  it('a token is used once: a replay is the one 401, and two parallel sign-ins with it make one account', async () => {
    const world = inMemoryIdentities();
    const token = await world.token(google, 'alice-sub');
    const results = await Promise.allSettled([
      login(world, 'google', token, 'alice'),
      login(world, 'google', token, 'alice2'),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expectOne401(failed.reason);
    expectOne401(await thrown(login(world, 'google', token)));
    expect(world.identities.canonical.size).toBe(1);
  });
});

describe('sign-in and sign-up', () => {
  it('an unknown identity without a username is 400 username_required and writes nothing', async () => {
    const world = inMemoryIdentities();
    const error = await thrown(login(world, 'google', await world.token(google, 'new-sub')));
    expect(error).toBeInstanceOf(UsernameRequiredError);
    expect(world.identities.canonical.size).toBe(0);
    expect(await world.backend.users.getUser(parseUsername('new-sub'))).toBeUndefined();
  });

  it('an unknown identity with a free username creates a password-less account linked to it (201, the register body)', async () => {
    const world = inMemoryIdentities();
    const body = await signUp(world, 'alice');
    expect(body).toEqual({
      username: 'alice',
      session: { token: expect.any(String), expiresAt: expect.any(String) },
      credentials: expect.any(Object),
      storage: expect.any(Object),
      deviceToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const user = await world.backend.users.getUser(parseUsername('alice'));
    expect(user?.passwordHash).toBe(NO_PASSWORD);
    expect(await world.oidc.list(body.session.token)).toEqual({
      identities: [{ id: identityId(google.issuer, 'alice-sub'), provider: 'google', linkedAt: expect.any(String) }],
    });
    expect(world.backend.audit.events.map((event) => event.type)).toContain('oidc_registered');
  });

  it('the identity signs in again to the same account (200, a session); no password logs in to it', async () => {
    const world = inMemoryIdentities();
    await signUp(world, 'alice');
    const outcome = await login(world, 'google', await world.token(google, 'alice-sub'));
    expect(outcome.status).toBe(200);
    expect((outcome.body as SessionResult).username).toBe('alice');
    for (const password of [NO_PASSWORD, PASSWORD, '!no-password!'])
      expect(
        await thrown(world.services.sessions.login(parseLoginRequest({ username: 'alice', password }))),
      ).toBeInstanceOf(AuthenticationError);
  });

  it('a taken or held username is 409 exactly as register, and nothing is linked', async () => {
    const world = inMemoryIdentities();
    await world.services.accounts.register(parseRegisterRequest({ username: 'bob', password: PASSWORD }));
    const error = await thrown(login(world, 'google', await world.token(google, 'mallory-sub'), 'bob'));
    expect(error).toBeInstanceOf(UsernameTakenError);
    expect(world.identities.canonical.size).toBe(0);
  });

  it('accounts are keyed by (issuer, subject): the same subject at two providers reaches two accounts', async () => {
    const world = inMemoryIdentities();
    await signUp(world, 'alice', 'same-sub');
    const other = await thrown(login(world, 'corp', await world.token(corp, 'same-sub')));
    expect(other).toBeInstanceOf(UsernameRequiredError);
  });

  it('a token of one provider sent as another provider is the one 401', async () => {
    const world = inMemoryIdentities();
    await signUp(world, 'alice');
    expectOne401(await thrown(login(world, 'corp', await world.token(google, 'alice-sub'))));
  });

  it('an unknown provider name is 400 field provider', async () => {
    const error = await thrown(
      Promise.resolve().then(() => parseOidcLogin({ provider: 'nope', idToken: 'x' }, PROVIDERS)),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('provider');
  });

  it('a disabled account refuses provider sign-in with the one 401 and records oidc_failed', async () => {
    const world = inMemoryIdentities();
    const { username } = await signUp(world, 'alice');
    const user = await world.backend.users.getUser(parseUsername(username));
    await world.backend.users.updateUser(user!.username, user!.userId, { disabled: true });
    expectOne401(await thrown(login(world, 'google', await world.token(google, 'alice-sub'))));
    expect(world.backend.audit.events.at(-1)?.type).toBe('oidc_failed');
  });

  it('a deleted account frees the identity: signing in again starts as unknown, and a new "alice" is not reached', async () => {
    const world = inMemoryIdentities();
    await signUp(world, 'alice');
    const user = await world.backend.users.getUser(parseUsername('alice'));
    // Deletion without its link clean-up (a crash): the stale link must not reach the new account.
    await world.backend.users.holdName(user!.username, user!.userId, world.backend.clock.now() - 1);
    await world.services.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const error = await thrown(login(world, 'google', await world.token(google, 'alice-sub')));
    expect(error).toBeInstanceOf(UsernameRequiredError);
    expect(world.identities.canonical.size).toBe(0);
  });

  it('a sign-up that crashed between its link and its user is repaired by the next attempt', async () => {
    const world = inMemoryIdentities();
    // What a crash after the link's write leaves: a link to a registration that never came.
    await world.identities.create({
      id: identityId(google.issuer, 'alice-sub'),
      issuer: google.issuer,
      subject: 'alice-sub',
      provider: 'google',
      username: parseUsername('alice'),
      userId: 'never-written',
      linkedAt: world.backend.clock.now(),
    });
    const body = await signUp(world, 'alice');
    expect(body.username).toBe('alice');
  });
});

describe('the NO_PASSWORD marker', () => {
  it('matches no password, and checking one against it spends a bcrypt compare like a wrong password', async () => {
    let compares = 0;
    const hasher = new BcryptPasswordHasher(10, {
      hash: async () => '$2b$10$zt9d1vaP3hwWbBzp4s88NuIsu1ez4echFYQXykV1oepc9XhmOMNaK',
      compare: async () => {
        compares += 1;
        return true;
      },
    });
    // Even a compare that says "yes" cannot make the marker match: it is never compared against.
    for (const password of [NO_PASSWORD, 'correct horse battery'])
      expect(await hasher.verify(parseLoginPassword(password), NO_PASSWORD)).toBe(false);
    expect(compares).toBe(2);
  });
});

describe('second factor', () => {
  async function withTotp(world: IdentityWorld) {
    await world.services.accounts.register(parseRegisterRequest({ username: 'carol', password: PASSWORD }));
    const { session } = await loginSession(
      world.services,
      parseLoginRequest({ username: 'carol', password: PASSWORD }),
    );
    const link = await world.oidc.link(
      session.token,
      linkBody(
        { provider: 'corp', idToken: await world.token(corp, 'carol-corp'), currentPassword: PASSWORD },
        PROVIDERS,
      ),
    );
    const { secret } = await world.services.mfa.startTotp(session.token, parseTotpStart({ currentPassword: PASSWORD }));
    await world.services.mfa.confirmTotp(
      session.token,
      parseTotpConfirm({ code: totpCode(secret, world.backend.clock.now()) }),
    );
    return { token: session.token, link };
  }

  it('an account with a second factor gets the /login challenge, unless the provider is trusted and reports MFA', async () => {
    const world = inMemoryIdentities();
    await withTotp(world);
    const plain = await login(world, 'corp', await world.token(corp, 'carol-corp'));
    expect((plain.body as MfaChallengeResult).mfaRequired).toBe(true);
    const withMfa = await login(world, 'corp', await world.token(corp, 'carol-corp', ['pwd', 'mfa']));
    expect((withMfa.body as SessionResult).session).toBeDefined();
  });

  it('an untrusted provider reporting MFA still gets the challenge', async () => {
    const world = inMemoryIdentities();
    const { token } = await withTotp(world);
    await world.oidc.link(
      token,
      linkBody(
        {
          provider: 'google',
          idToken: await world.token(google, 'carol-g'),
          code: totpCode(
            (await world.backend.factors.getFactors(parseUsername('carol')))!.totp!.secret,
            world.backend.clock.now() + 30_000,
          ),
        },
        PROVIDERS,
      ),
    );
    const outcome = await login(world, 'google', await world.token(google, 'carol-g', ['mfa']));
    expect((outcome.body as MfaChallengeResult).mfaRequired).toBe(true);
  });
});

describe('linking and unlinking', () => {
  it('linking needs a step-up: without one it is 400, with a wrong password 401, and nothing is linked', async () => {
    const world = inMemoryIdentities();
    await world.services.accounts.register(parseRegisterRequest({ username: 'dave', password: PASSWORD }));
    const { session } = await loginSession(world.services, parseLoginRequest({ username: 'dave', password: PASSWORD }));
    const idToken = await world.token(google, 'dave-g');
    expect(
      await thrown(world.oidc.link(session.token, linkBody({ provider: 'google', idToken }, PROVIDERS))),
    ).toBeInstanceOf(ValidationError);
    const wrong = await thrown(
      world.oidc.link(
        session.token,
        linkBody({ provider: 'google', idToken, currentPassword: 'wrong password' }, PROVIDERS),
      ),
    );
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(world.identities.canonical.size).toBe(0);
  });

  it('an identity linked to another account cannot be linked again (409)', async () => {
    const world = inMemoryIdentities();
    await signUp(world, 'alice');
    await world.services.accounts.register(parseRegisterRequest({ username: 'bob', password: PASSWORD }));
    const { session } = await loginSession(world.services, parseLoginRequest({ username: 'bob', password: PASSWORD }));
    const error = await thrown(
      world.oidc.link(
        session.token,
        linkBody(
          { provider: 'google', idToken: await world.token(google, 'alice-sub'), currentPassword: PASSWORD },
          PROVIDERS,
        ),
      ),
    );
    expect(error).toBeInstanceOf(AlreadyEnrolledError);
    const outcome = await login(world, 'google', await world.token(google, 'alice-sub'));
    expect((outcome.body as SessionResult).username).toBe('alice');
  });

  it('a password-less account steps up with a fresh token of its linked identity, links a second, and unlinks one', async () => {
    const world = inMemoryIdentities();
    const { session } = await signUp(world, 'erin');
    const link = await world.oidc.link(
      session.token,
      linkBody(
        {
          provider: 'corp',
          idToken: await world.token(corp, 'erin-corp'),
          stepUpProvider: 'google',
          stepUpIdToken: await world.token(google, 'erin-sub'),
        },
        PROVIDERS,
      ),
    );
    expect((await world.oidc.list(session.token)).identities).toHaveLength(2);
    const proof = parseStepUp({ provider: 'google', idToken: await world.token(google, 'erin-sub') }).proof;
    await world.oidc.unlink(session.token, link.id, proof);
    expect((await world.oidc.list(session.token)).identities.map((identity) => identity.provider)).toEqual(['google']);
    expect(world.backend.audit.events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['identity_linked', 'identity_unlinked']),
    );
  });

  it("a token of someone else's identity is no step-up for this account (the one 401)", async () => {
    const world = inMemoryIdentities();
    const { session } = await signUp(world, 'erin');
    await signUp(world, 'frank');
    const error = await thrown(
      world.oidc.link(
        session.token,
        linkBody(
          {
            provider: 'corp',
            idToken: await world.token(corp, 'erin-corp'),
            stepUpProvider: 'google',
            stepUpIdToken: await world.token(google, 'frank-sub'),
          },
          PROVIDERS,
        ),
      ),
    );
    expectOne401(error);
  });

  it('the last way to sign in of a password-less account cannot be unlinked (400), and it stays linked', async () => {
    const world = inMemoryIdentities();
    const { session } = await signUp(world, 'gina');
    const [only] = (await world.oidc.list(session.token)).identities;
    const proof = parseStepUp({ provider: 'google', idToken: await world.token(google, 'gina-sub') }).proof;
    const error = await thrown(world.oidc.unlink(session.token, only!.id, proof));
    expect(error).toBeInstanceOf(ValidationError);
    expect((await world.oidc.list(session.token)).identities).toHaveLength(1);
  });

  it('an account with a password may unlink its only identity; another account cannot unlink it (404)', async () => {
    const world = inMemoryIdentities();
    await world.services.accounts.register(parseRegisterRequest({ username: 'hank', password: PASSWORD }));
    const { session } = await loginSession(world.services, parseLoginRequest({ username: 'hank', password: PASSWORD }));
    const link = await world.oidc.link(
      session.token,
      linkBody(
        { provider: 'google', idToken: await world.token(google, 'hank-g'), currentPassword: PASSWORD },
        PROVIDERS,
      ),
    );
    const { session: stranger } = await signUp(world, 'ivan');
    const strangerProof = parseStepUp({ provider: 'google', idToken: await world.token(google, 'ivan-sub') }).proof;
    expect(await thrown(world.oidc.unlink(stranger.token, link.id, strangerProof))).toBeInstanceOf(NotFoundError);
    await world.oidc.unlink(session.token, link.id, parseStepUp({ currentPassword: PASSWORD }).proof);
    expect((await world.oidc.list(session.token)).identities).toEqual([]);
    expect(await thrown(login(world, 'google', await world.token(google, 'hank-g')))).toBeInstanceOf(
      UsernameRequiredError,
    );
  });

  it('an ID token is no step-up for an account with a second factor (it stands for the password)', async () => {
    const world = inMemoryIdentities();
    await world.services.accounts.register(parseRegisterRequest({ username: 'jane', password: PASSWORD }));
    const { session } = await loginSession(world.services, parseLoginRequest({ username: 'jane', password: PASSWORD }));
    const link = await world.oidc.link(
      session.token,
      linkBody(
        { provider: 'google', idToken: await world.token(google, 'jane-g'), currentPassword: PASSWORD },
        PROVIDERS,
      ),
    );
    const { secret } = await world.services.mfa.startTotp(session.token, parseTotpStart({ currentPassword: PASSWORD }));
    await world.services.mfa.confirmTotp(
      session.token,
      parseTotpConfirm({ code: totpCode(secret, world.backend.clock.now()) }),
    );
    const proof = parseStepUp({ provider: 'google', idToken: await world.token(google, 'jane-g') }).proof;
    expect(await thrown(world.oidc.unlink(session.token, link.id, proof))).toBeInstanceOf(SecondFactorMissingError);
  });
});

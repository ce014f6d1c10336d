/**
 * What an account's deletion does to its identity links (design item 9), on in-memory ports:
 * the operator's `users delete` and the self-service worker (both end in AccountAdmin.deleteUser)
 * remove every link of the registration, so the identity starts as unknown again and a later
 * account under the freed name is not reachable with it; other accounts keep theirs. Also the
 * operator's listing and removal of one link (`tvm-admin identities list|remove`).
 */
import fc from 'fast-check';
import { AccountAdmin } from '../../lambda/operator/account-admin';
import { AccountDeletion, type DeletionRequest } from '../../lambda/accounts/account-deletion';
import { AuthenticationError, NotFoundError, UsernameRequiredError } from '../../lambda/platform/errors';
import { parseRegisterRequest } from '../../lambda/accounts/requests';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { createServices } from '../../lambda/services';
import { thrown } from '../support/async';
import { inMemoryBackend } from '../support/in-memory';
import { FlakyIdentityStore, plantLink } from '../support/identity-links';
import { inMemoryIdentities, PROVIDERS } from '../support/in-memory-identities';

const PASSWORD = 'correct horse battery';
const GOOGLE = 'https://accounts.google.com';
const APPLE = 'https://appleid.apple.com';
const alice = parseUsername('alice');
const bob = parseUsername('bob');

function setup() {
  const backend = inMemoryBackend();
  const identities = new FlakyIdentityStore();
  const service = createServices(backend);
  const admin = new AccountAdmin({ ...backend, identities });
  const register = async (name: Username) => {
    await service.accounts.register(parseRegisterRequest({ username: name, password: PASSWORD }));
    return (await backend.users.getUser(name))!.userId;
  };
  const remove = async (name: Username) => {
    await admin.disable(name);
    await admin.deleteUser(name, backend.clock.now() + 3_600_000);
  };
  return { backend, identities, admin, register, remove };
}

describe('account deletion and identity links', () => {
  it("deleting alice removes both her links (canonical and pointer); bob's link stays; the trail counts them", async () => {
    const s = setup();
    const aliceId = await s.register(alice);
    const bobId = await s.register(bob);
    await plantLink(s.identities, alice, aliceId, GOOGLE, 'g-alice', 'google');
    await plantLink(s.identities, alice, aliceId, APPLE, 'a-alice', 'apple');
    const bobs = await plantLink(s.identities, bob, bobId, GOOGLE, 'g-bob', 'google');

    await s.remove(alice);

    expect(await s.identities.get(GOOGLE, 'g-alice')).toBeUndefined();
    expect(await s.identities.get(APPLE, 'a-alice')).toBeUndefined();
    expect(s.identities.pointersOf(alice)).toEqual([]);
    expect(await s.identities.get(GOOGLE, 'g-bob')).toEqual(bobs);
    expect(await s.identities.listByUser(bob, bobId)).toEqual([bobs]);
    expect((await s.admin.audit(alice))[0]).toMatchObject({ type: 'deleted', details: { identitiesUnlinked: 2 } });
  });

  it('a later account under the freed name is not reachable with the old identity, which is unknown again', async () => {
    const s = setup();
    const oldId = await s.register(alice);
    await plantLink(s.identities, alice, oldId, GOOGLE, 'g-alice', 'google');
    await s.remove(alice);
    // The hold ends; someone else registers the name.
    s.backend.clock.advance(3_600_001);
    const newId = await s.register(alice);
    expect(newId).not.toBe(oldId);
    expect(await s.identities.get(GOOGLE, 'g-alice')).toBeUndefined();
    expect(await s.identities.listByUser(alice, newId)).toEqual([]);
    expect(await s.admin.listIdentities(alice)).toEqual([]);
  });

  it('a removal that fails leaves the account in place (not deleted, name not held); the rerun completes it', async () => {
    const s = setup();
    const aliceId = await s.register(alice);
    await plantLink(s.identities, alice, aliceId, GOOGLE, 'g-alice', 'google');
    await s.admin.disable(alice);
    s.identities.failRemoves = 1;
    expect(await thrown(s.admin.deleteUser(alice, s.backend.clock.now() + 3_600_000))).toBeInstanceOf(Error);
    expect(await s.backend.users.getUser(alice)).toBeDefined();
    expect(await s.admin.nameHeldUntil(alice)).toBeUndefined();
    expect(await s.identities.get(GOOGLE, 'g-alice')).toBeDefined();

    await s.admin.deleteUser(alice, s.backend.clock.now() + 3_600_000);
    expect(await s.identities.get(GOOGLE, 'g-alice')).toBeUndefined();
    expect(await s.backend.users.getUser(alice)).toBeUndefined();
  });

  it('a stale link of an earlier registration is never listed for the new account of that name', async () => {
    const s = setup();
    const newId = await s.register(alice);
    // What a crash between a deletion's records and its links would leave (the order prevents it).
    await plantLink(s.identities, alice, 'earlier-registration', GOOGLE, 'g-old', 'google');
    expect(await s.admin.listIdentities(alice)).toEqual([]);
    expect(await s.identities.listByUser(alice, newId)).toEqual([]);
  });

  it('property: deleting one account removes exactly its links, whatever links the others have', async () => {
    const names = ['alice', 'bob', 'carol'].map((name) => parseUsername(name));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.record({
            owner: fc.integer({ min: 0, max: 2 }),
            issuer: fc.constantFrom(GOOGLE, APPLE, 'https://login.example.okta.com'),
            subject: fc.string({ minLength: 1, maxLength: 8 }),
          }),
          { selector: (link) => `${link.issuer}\n${link.subject}`, maxLength: 12 },
        ),
        fc.integer({ min: 0, max: 2 }),
        async (links, victim) => {
          const s = setup();
          const ids = [];
          for (const name of names) ids.push(await s.register(name));
          for (const link of links)
            await plantLink(s.identities, names[link.owner]!, ids[link.owner]!, link.issuer, link.subject);
          await s.remove(names[victim]!);
          for (const link of links) {
            const found = await s.identities.get(link.issuer, link.subject);
            expect(found === undefined).toBe(link.owner === victim);
          }
          for (const [index, name] of names.entries()) {
            if (index === victim) continue;
            const kept = links.filter((link) => link.owner === index).length;
            expect(await s.identities.listByUser(name, ids[index]!)).toHaveLength(kept);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("the operator's identities commands (AccountAdmin)", () => {
  it('lists the links oldest first with id, provider, issuer and time, and never the subject', async () => {
    const s = setup();
    const aliceId = await s.register(alice);
    await plantLink(s.identities, alice, aliceId, APPLE, 'a-alice', 'apple', Date.UTC(2026, 0, 2));
    const google = await plantLink(s.identities, alice, aliceId, GOOGLE, 'g-alice', 'google', Date.UTC(2026, 0, 1));
    const listed = await s.admin.listIdentities(alice);
    expect(listed.map((view) => view.provider)).toEqual(['google', 'apple']);
    expect(listed[0]).toEqual({
      id: google.id,
      provider: 'google',
      issuer: GOOGLE,
      linkedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(JSON.stringify(listed)).not.toContain('g-alice');
  });

  it("removes one of alice's links, leaving the other; bob's link id under alice is not found and stays", async () => {
    const s = setup();
    const aliceId = await s.register(alice);
    const bobId = await s.register(bob);
    const google = await plantLink(s.identities, alice, aliceId, GOOGLE, 'g-alice', 'google');
    const apple = await plantLink(s.identities, alice, aliceId, APPLE, 'a-alice', 'apple');
    const bobs = await plantLink(s.identities, bob, bobId, GOOGLE, 'g-bob', 'google');

    expect(await thrown(s.admin.removeIdentity(alice, bobs.id))).toBeInstanceOf(NotFoundError);
    expect(await s.identities.get(GOOGLE, 'g-bob')).toEqual(bobs);

    expect(await s.admin.removeIdentity(alice, google.id)).toEqual(google);
    expect((await s.admin.audit(alice))[0]).toMatchObject({
      type: 'identity_unlinked',
      sourceIp: 'operator',
      details: { provider: 'google', identity: google.id },
    });
    expect(await s.identities.get(GOOGLE, 'g-alice')).toBeUndefined();
    expect((await s.admin.listIdentities(alice)).map((view) => view.id)).toEqual([apple.id]);
  });

  it('an unknown user is NotFound for listing and removal', async () => {
    const s = setup();
    expect(await thrown(s.admin.listIdentities(alice))).toBeInstanceOf(NotFoundError);
    expect(await thrown(s.admin.removeIdentity(alice, 'x'))).toBeInstanceOf(NotFoundError);
  });
});

describe('sign-in with a provider after the account is deleted (OidcService, in memory)', () => {
  it('the old identity starts as unknown (username_required), and a new account under the freed name is not reachable with it', async () => {
    const world = inMemoryIdentities();
    const google = PROVIDERS[0]!;
    const admin = new AccountAdmin({ ...world.backend, identities: world.identities });
    const signUp = await world.oidc.login({
      provider: google,
      idToken: await world.token(google, 'g-alice'),
      username: alice,
    });
    expect(signUp.status).toBe(201);
    // Signed in again with the same identity: alice's account.
    const again = await world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice') });
    expect(again).toMatchObject({ status: 200, body: { username: 'alice' } });

    await admin.disable(alice);
    // Disabled: the same 401 as any refused token.
    expect(
      await thrown(world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice') })),
    ).toBeInstanceOf(AuthenticationError);
    const heldUntil = world.backend.clock.now() + 3_600_000;
    await admin.deleteUser(alice, heldUntil);
    expect(await world.identities.get(google.issuer, 'g-alice')).toBeUndefined();

    // The identity is unknown again: it is asked for a username, and nothing is written.
    expect(
      await thrown(world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice') })),
    ).toBeInstanceOf(UsernameRequiredError);

    // The hold ends; someone else registers "alice" with a password.
    world.backend.clock.set(heldUntil + 1);
    await world.services.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const newAlice = (await world.backend.users.getUser(alice))!;
    expect(
      await thrown(world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice') })),
    ).toBeInstanceOf(UsernameRequiredError);
    expect(await world.identities.listByUser(alice, newAlice.userId)).toEqual([]);
    // The old identity may start an account of its own under another name; the new alice is untouched.
    const own = await world.oidc.login({
      provider: google,
      idToken: await world.token(google, 'g-alice'),
      username: parseUsername('alice-again'),
    });
    expect(own).toMatchObject({ status: 201, body: { username: 'alice-again' } });
    expect(await world.identities.listByUser(alice, newAlice.userId)).toEqual([]);
  });
});

describe('self-service deletion of an account without a password (DELETE /account)', () => {
  function deletionFor(world: ReturnType<typeof inMemoryIdentities>) {
    const queued = new Map<Username, DeletionRequest>();
    const stepUp = world.services.stepUp.withIdentityProof(world.oidc);
    const deletion = new AccountDeletion({
      authenticate: (token) => world.services.sessions.authenticate(token),
      stepUp: (live, proof, origin, purpose) => stepUp.stepUp(live, proof, origin, purpose),
      users: world.backend.users,
      admin: new AccountAdmin({ ...world.backend, identities: world.identities }),
      queue: {
        put: async (request) => void queued.set(request.username, request),
        get: async (username) => queued.get(username),
        list: async () => [...queued.values()],
        remove: async (username) => void queued.delete(username),
      },
      cutOff: { serverDate: async () => world.backend.clock.now(), cutOff: async () => undefined },
      folder: { purge: async () => 0 },
      sharing: { cutOffAll: async () => 0, removeAll: async () => 0 },
      auditor: world.services.auditor,
      clock: world.backend.clock,
      cutOffMarginMs: 1000,
      propagationMs: 0,
      maxCredentialSeconds: 3600,
    });
    return { deletion, queued };
  }

  it('confirms with a fresh ID token of its linked identity; a stranger’s token is refused and nothing is queued; the worker then unlinks it', async () => {
    const world = inMemoryIdentities();
    const google = PROVIDERS[0]!;
    const { deletion, queued } = deletionFor(world);
    const signUp = await world.oidc.login({
      provider: google,
      idToken: await world.token(google, 'g-alice'),
      username: alice,
    });
    const token = (signUp.body as { session: { token: string } }).session.token;

    const stranger = await world.token(google, 'g-mallory');
    expect(
      await thrown(deletion.request(token, { identityToken: { provider: 'google', idToken: stranger } })),
    ).toBeInstanceOf(AuthenticationError);
    expect(queued.size).toBe(0);
    expect((await world.backend.users.getUser(alice))!.disabled).toBe(false);

    const fresh = await world.token(google, 'g-alice');
    await expect(
      deletion.request(token, { identityToken: { provider: 'google', idToken: fresh } }),
    ).resolves.toMatchObject({ status: 'pending' });
    // A replay of the same token proves nothing twice (its nonce is spent).
    expect(await thrown(world.oidc.login({ provider: google, idToken: fresh }))).toBeInstanceOf(AuthenticationError);

    await deletion.advance(alice);
    expect(await deletion.advance(alice)).toMatchObject({ state: 'deleted' });
    expect(await world.identities.get(google.issuer, 'g-alice')).toBeUndefined();
  });
});

/**
 * The `registration` setting on account creation by a first sign-in with a provider
 * (lambda/identities/oidc-service.ts): closed refuses a new identity, invite needs one, and an
 * identity already linked to an account always signs in.
 */
import { parseUsername } from '../../lambda/accounts/username';
import { InviteAdmin } from '../../lambda/operator/invite-admin';
import { InviteRequiredError, RegistrationClosedError } from '../../lambda/platform/errors';
import type { RegistrationMode } from '../../lambda/platform/settings';
import { createIdentityServices, createServices } from '../../lambda/services';
import { hashInviteCode } from '../../lambda/signup/invite-code';
import { thrown } from '../support/async';
import { inMemoryIdentities, PROVIDERS, type IdentityWorld } from '../support/in-memory-identities';

const google = PROVIDERS[0]!;
const alice = parseUsername('alice');

/** The same stores, served by functions whose `registration` setting is `mode`. */
function withMode(world: IdentityWorld, mode: RegistrationMode) {
  const { backend, nonces, identities, verifier } = world;
  const services = createServices({ ...backend, config: { ...backend.config, registration: mode } });
  return createIdentityServices(services, { ...backend, providers: PROVIDERS, nonces, identities })(verifier);
}

describe('sign-in with a provider under each registration mode', () => {
  it('closed: a new identity is refused with 403 registration_closed, before a name is asked for, and nothing is written', async () => {
    const world = inMemoryIdentities(PROVIDERS, { registration: 'closed' });
    for (const username of [undefined, alice]) {
      const error = await thrown(
        world.oidc.login({
          provider: google,
          idToken: await world.token(google, 'g-new'),
          ...(username ? { username } : {}),
        }),
      );
      expect(error).toBeInstanceOf(RegistrationClosedError);
    }
    expect(world.identities.canonical.size).toBe(0);
    expect(await world.backend.users.getUser(alice)).toBeUndefined();
  });

  it('closed and invite: an identity already linked to an account always signs in', async () => {
    const world = inMemoryIdentities();
    await world.oidc.login({ provider: google, idToken: await world.token(google, 'g-alice'), username: alice });
    for (const mode of ['closed', 'invite'] as const) {
      const oidc = withMode(world, mode);
      await expect(
        oidc.login({ provider: google, idToken: await world.token(google, 'g-alice') }),
      ).resolves.toMatchObject({
        status: 200,
        body: { username: 'alice' },
      });
    }
  });

  it('invite: a new identity without a valid invite is refused with 403 invite_required and its nonce stays unspent', async () => {
    const world = inMemoryIdentities(PROVIDERS, { registration: 'invite' });
    const idToken = await world.token(google, 'g-new');
    expect(await thrown(world.oidc.login({ provider: google, idToken, username: alice }))).toBeInstanceOf(
      InviteRequiredError,
    );
    expect(
      await thrown(world.oidc.login({ provider: google, idToken, username: alice, invite: 'A'.repeat(22) })),
    ).toBeInstanceOf(InviteRequiredError);
    expect(world.identities.canonical.size).toBe(0);
    // The same token then works with a real invite: the refusals spent nothing.
    const { codes } = await new InviteAdmin({ invites: world.backend.invites, clock: world.backend.clock }).create(
      1,
      86_400_000,
    );
    const created = await world.oidc.login({ provider: google, idToken, username: alice, invite: codes[0]! });
    expect(created).toMatchObject({ status: 201, body: { username: 'alice' } });
    expect(world.backend.invites.records.get(hashInviteCode(codes[0]!))?.usedBy).toBe('alice');
    const events = (await world.backend.audit.list(alice, 10)).map((event) => event.type);
    expect(events).toEqual(expect.arrayContaining(['oidc_registered', 'invite_used']));
  });

  it('invite: an unknown identity without a username is still asked for one first (the app then sends name and invite)', async () => {
    const world = inMemoryIdentities(PROVIDERS, { registration: 'invite' });
    const error = await thrown(world.oidc.login({ provider: google, idToken: await world.token(google, 'g-new') }));
    expect(error).toMatchObject({ code: 'username_required' });
  });

  it('invite: a used invite cannot create a second account through a provider', async () => {
    const world = inMemoryIdentities(PROVIDERS, { registration: 'invite' });
    const { codes } = await new InviteAdmin({ invites: world.backend.invites, clock: world.backend.clock }).create(
      1,
      86_400_000,
    );
    const invite = codes[0]!;
    await world.oidc.login({ provider: google, idToken: await world.token(google, 'g-1'), username: alice, invite });
    expect(
      await thrown(
        world.oidc.login({
          provider: google,
          idToken: await world.token(google, 'g-2'),
          username: parseUsername('bob'),
          invite,
        }),
      ),
    ).toBeInstanceOf(InviteRequiredError);
  });
});

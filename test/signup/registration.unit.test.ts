/**
 * The `registration` setting on `POST /register` (lambda/signup/registration-gate.ts) on the
 * in-memory fakes: open, closed, invite; a stranger guessing invites, a replayed invite, two
 * registrations racing for one invite, a failed creation that must not spend it, and the
 * operator's `users create` and invites in every mode.
 */
import fc from 'fast-check';
import { parseRegisterRequest } from '../../lambda/accounts/requests';
import { parseUsername } from '../../lambda/accounts/username';
import { AccountAdmin } from '../../lambda/operator/account-admin';
import { InviteAdmin, parseInviteCount, parseInviteLifetime } from '../../lambda/operator/invite-admin';
import {
  BackendUnavailableError,
  InviteRequiredError,
  NotFoundError,
  RegistrationClosedError,
  UsernameTakenError,
  ValidationError,
} from '../../lambda/platform/errors';
import type { RegistrationMode } from '../../lambda/platform/settings';
import { createServices } from '../../lambda/services';
import { hashInviteCode, inviteId, newInviteCode } from '../../lambda/signup/invite-code';
import { INVITE_CLAIM_LEASE_MS } from '../../lambda/signup/registration-gate';
import { thrown } from '../support/async';
import { CountingHasher, FakePasswordHasher, inMemoryBackend, loginSession } from '../support/in-memory';
import { parseLoginRequest } from '../../lambda/accounts/requests';

const PASSWORD = 'correct horse battery';
const DAY = 24 * 60 * 60 * 1000;

function setup(registration: RegistrationMode) {
  const hasher = new CountingHasher(new FakePasswordHasher());
  const backend = inMemoryBackend({ config: { registration }, hasher });
  const services = createServices(backend);
  const invites = new InviteAdmin({ invites: backend.invites, clock: backend.clock });
  const register = (username: string, invite?: string) =>
    services.accounts.register(
      parseRegisterRequest({ username, password: PASSWORD, ...(invite !== undefined ? { invite } : {}) }),
    );
  return { backend, services, hasher, invites, admin: new AccountAdmin(backend), register };
}

async function oneInvite(invites: InviteAdmin, lifetime = 7 * DAY): Promise<string> {
  const { codes } = await invites.create(1, lifetime);
  return codes[0]!;
}

describe('registration open (the default)', () => {
  it('registers without an invite, and ignores one given without spending it', async () => {
    const { register, invites, backend } = setup('open');
    await expect(register('alice')).resolves.toMatchObject({ username: 'alice' });
    const code = await oneInvite(invites);
    await expect(register('bob', code)).resolves.toMatchObject({ username: 'bob' });
    expect(backend.invites.records.get(hashInviteCode(code))?.usedBy).toBeUndefined();
  });
});

describe('registration closed', () => {
  it('refuses POST /register with 403 registration_closed before any password work, vend or write', async () => {
    const { register, hasher, backend } = setup('closed');
    const error = await thrown(register('alice'));
    expect(error).toBeInstanceOf(RegistrationClosedError);
    expect(error).toMatchObject({ status: 403, code: 'registration_closed' });
    expect(hasher.calls.hash).toBe(0);
    expect(backend.issuer.calls.get('issue') ?? 0).toBe(0);
    expect(await backend.users.getUser(parseUsername('alice'))).toBeUndefined();
    expect(backend.sessions.size).toBe(0);
  });

  it('refuses even a valid invite: closed means only the operator makes accounts', async () => {
    const { register, invites } = setup('closed');
    expect(await thrown(register('alice', await oneInvite(invites)))).toBeInstanceOf(RegistrationClosedError);
  });

  it('tvm-admin users create still makes an account, whose reset code sets the password and logs in', async () => {
    const { admin, services, backend } = setup('closed');
    const { code } = await admin.createUser(parseUsername('carol'));
    const events = await backend.audit.list(parseUsername('carol'), 10);
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['registered', 'reset_issued']));
    await services.accounts.resetPassword({
      username: parseUsername('carol'),
      resetCode: code,
      newPassword: PASSWORD as never,
    });
    await expect(
      loginSession(services, parseLoginRequest({ username: 'carol', password: PASSWORD })),
    ).resolves.toMatchObject({ username: 'carol' });
  });

  it('tvm-admin users create refuses a taken name and changes nothing', async () => {
    const { admin } = setup('closed');
    await admin.createUser(parseUsername('carol'));
    expect(await thrown(admin.createUser(parseUsername('carol')))).toBeInstanceOf(UsernameTakenError);
  });
});

describe('registration by invite', () => {
  it('registers with a valid invite, spends it, and audits invite_used with its id (never the code)', async () => {
    const { register, invites, backend } = setup('invite');
    const code = await oneInvite(invites);
    await expect(register('alice', code)).resolves.toMatchObject({ username: 'alice' });
    const stored = backend.invites.records.get(hashInviteCode(code));
    expect(stored).toMatchObject({ usedBy: 'alice' });
    expect(stored?.claim).toBeUndefined();
    const used = (await backend.audit.list(parseUsername('alice'), 10)).find((event) => event.type === 'invite_used');
    expect(used?.details).toEqual({ invite: inviteId(hashInviteCode(code)) });
    expect(JSON.stringify(await backend.audit.list(parseUsername('alice'), 10))).not.toContain(code);
  });

  it('refuses a missing invite with 403 invite_required before bcrypt, STS or any write', async () => {
    const { register, hasher, backend } = setup('invite');
    const error = await thrown(register('alice'));
    expect(error).toBeInstanceOf(InviteRequiredError);
    expect(error).toMatchObject({ status: 403, code: 'invite_required' });
    expect(hasher.calls.hash).toBe(0);
    expect(backend.issuer.calls.get('issue') ?? 0).toBe(0);
    expect(backend.sessions.size).toBe(0);
  });

  it('a malformed invite is a 400 naming the field', () => {
    expect(() =>
      parseRegisterRequest({ username: 'alice', password: PASSWORD, invite: 'not an invite!!!!!!!!!' }),
    ).toThrow(ValidationError);
  });

  it('a stranger guessing invites gets the same 403 every time, costs one read each, and learns nothing about names (property)', async () => {
    const { register, invites, hasher, backend } = setup('invite');
    await oneInvite(invites);
    await register('taken', await oneInvite(invites));
    const hashesBefore = hasher.calls.hash;
    const writesBefore = backend.invites.writes;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.constantFrom('taken', 'free'),
        async (bytes, name) => {
          const guess = Buffer.from(bytes).toString('base64url');
          const error = await thrown(register(name, guess));
          // A taken name answers exactly as a free one: the invite is checked first.
          expect(error).toBeInstanceOf(InviteRequiredError);
          expect((error as Error).message).toBe(new InviteRequiredError().message);
        },
      ),
      { numRuns: 200 },
    );
    expect(hasher.calls.hash).toBe(hashesBefore);
    expect(backend.invites.writes).toBe(writesBefore);
    expect(await backend.users.getUser(parseUsername('free'))).toBeUndefined();
  });

  it('replaying a used invite is refused, for another name and for the same one', async () => {
    const { register, invites, hasher } = setup('invite');
    const code = await oneInvite(invites);
    await register('alice', code);
    const hashes = hasher.calls.hash;
    expect(await thrown(register('mallory', code))).toBeInstanceOf(InviteRequiredError);
    expect(await thrown(register('alice', code))).toBeInstanceOf(InviteRequiredError);
    expect(hasher.calls.hash).toBe(hashes);
  });

  it('refuses an expired invite and a revoked one', async () => {
    const { register, invites, backend } = setup('invite');
    const expiring = await oneInvite(invites, 60 * 60 * 1000);
    const revoked = await oneInvite(invites);
    await invites.revoke(revoked);
    backend.clock.advance(60 * 60 * 1000);
    expect(await thrown(register('alice', expiring))).toBeInstanceOf(InviteRequiredError);
    expect(await thrown(register('alice', revoked))).toBeInstanceOf(InviteRequiredError);
  });

  it('two registrations racing for one invite: exactly one account is created, the other gets 403 and leaves nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.boolean(), async (scheduler, sameName) => {
        let active: fc.Scheduler | undefined;
        const roundTrip = () => (active ? active.schedule(Promise.resolve()) : Promise.resolve());
        const backend = inMemoryBackend({
          config: { registration: 'invite' },
          hasher: new FakePasswordHasher({ roundTrip }),
          roundTrip,
        });
        const services = createServices(backend);
        const invite = await oneInvite(new InviteAdmin({ invites: backend.invites, clock: backend.clock }));
        active = scheduler;
        const names = sameName ? ['alice', 'alice'] : ['alice', 'bob'];
        const attempts = names.map((username) =>
          services.accounts.register(parseRegisterRequest({ username, password: PASSWORD, invite })).then(
            (result) => ({ ok: result.username }),
            (error: unknown) => ({ error }),
          ),
        );
        const outcomes = await scheduler.waitFor(Promise.all(attempts));
        active = undefined;
        const winners = outcomes.filter((outcome) => 'ok' in outcome);
        expect(winners).toHaveLength(1);
        const loser = outcomes.find((outcome) => 'error' in outcome) as { error: unknown };
        expect(loser.error instanceof InviteRequiredError || loser.error instanceof UsernameTakenError).toBe(true);
        const record = backend.invites.records.get(hashInviteCode(invite));
        expect(record?.claim).toBeUndefined();
        expect(record?.usedBy).toBe((winners[0] as { ok: string }).ok);
        const users = [];
        for await (const user of backend.users.listUsers()) users.push(user.username);
        expect(users).toEqual([(winners[0] as { ok: string }).ok]);
        // The loser's session was removed: only the winner's remains.
        expect(backend.sessions.size).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  it('a failed creation does not spend the invite: the name was taken meanwhile, or the table failed', async () => {
    const { register, invites, backend } = setup('invite');
    const code = await oneInvite(invites);
    backend.users.failNext('createUser', new UsernameTakenError());
    expect(await thrown(register('alice', code))).toBeInstanceOf(UsernameTakenError);
    backend.users.failNext('createUser');
    expect(await thrown(register('alice', code))).toBeInstanceOf(BackendUnavailableError);
    expect(backend.invites.records.get(hashInviteCode(code))?.claim).toBeUndefined();
    await expect(register('alice', code)).resolves.toMatchObject({ username: 'alice' });
  });

  it('a claim left by a crash holds the invite for the lease, then frees it; a claim whose account exists spends it', async () => {
    const { register, invites, backend } = setup('invite');
    const crashed = await oneInvite(invites);
    backend.users.failNext('createUser');
    backend.invites.failNext('release');
    expect(await thrown(register('alice', crashed))).toBeInstanceOf(BackendUnavailableError);
    expect(backend.invites.records.get(hashInviteCode(crashed))?.claim).toBeDefined();
    expect(await thrown(register('alice', crashed))).toBeInstanceOf(InviteRequiredError);
    backend.clock.advance(INVITE_CLAIM_LEASE_MS);
    await expect(register('alice', crashed)).resolves.toMatchObject({ username: 'alice' });

    const unmarked = await oneInvite(invites);
    backend.invites.failNext('markUsed');
    await expect(register('bob', unmarked)).resolves.toMatchObject({ username: 'bob' });
    expect(backend.invites.records.get(hashInviteCode(unmarked))?.usedBy).toBeUndefined();
    backend.clock.advance(INVITE_CLAIM_LEASE_MS);
    expect(await thrown(register('mallory', unmarked))).toBeInstanceOf(InviteRequiredError);
    expect(backend.invites.records.get(hashInviteCode(unmarked))?.usedBy).toBe('bob');
  });

  it('tvm-admin users create works without an invite', async () => {
    const { admin } = setup('invite');
    await expect(admin.createUser(parseUsername('carol'))).resolves.toMatchObject({ code: expect.any(String) });
  });
});

describe('the operator invites', () => {
  it('stores only hashes, lists states, and revokes by code or id; a used invite is not revoked', async () => {
    const { invites, backend, register } = setup('invite');
    const made = await invites.create(3, 7 * DAY);
    expect(made.codes).toHaveLength(3);
    expect(new Set(made.codes).size).toBe(3);
    for (const code of made.codes) expect(JSON.stringify([...backend.invites.records.values()])).not.toContain(code);
    await register('alice', made.codes[0]);
    await invites.revoke(made.ids[1]!);
    const listed = await invites.list();
    expect(listed.map((view) => view.state).sort()).toEqual(['unused', 'used']);
    expect(listed.find((view) => view.state === 'used')).toMatchObject({ usedBy: 'alice', id: made.ids[0] });
    expect(await thrown(invites.revoke(made.codes[0]!))).toBeInstanceOf(ValidationError);
    expect(await thrown(invites.revoke(newInviteCode()))).toBeInstanceOf(NotFoundError);
    await invites.revoke(made.codes[2]!);
    expect(await invites.list()).toHaveLength(1);
  });

  it('refuses counts and lifetimes outside their bounds with a clear message', () => {
    for (const bad of ['0', '-1', '1001', '1.5', 'ten', '']) expect(() => parseInviteCount(bad)).toThrow(/--count/);
    for (const bad of ['0d', '366d', '7', '7w', '-1d', '30m', ''])
      expect(() => parseInviteLifetime(bad)).toThrow(/--expires/);
    expect(parseInviteCount('1000')).toBe(1000);
    expect(parseInviteLifetime('7d')).toBe(7 * DAY);
    expect(parseInviteLifetime('1h')).toBe(60 * 60 * 1000);
  });
});

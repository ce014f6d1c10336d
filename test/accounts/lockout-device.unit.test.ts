/**
 * Lockout that cannot be used against the owner (ASVS 6.1.1, 6.3.1) and recovery under attack
 * (issue 14 items 6 and 9), on the in-memory fakes: trusted-device counters, the reset
 * counter, and what a never-registered name leaves behind.
 */
import { AccountAdmin } from '../../lambda/operator/account-admin';
import { AuthenticationError, TooManyAttemptsError, ValidationError } from '../../lambda/platform/errors';
import fc from 'fast-check';
import { DEVICE_IDLE_DAYS, MAX_TRUSTED_DEVICES } from '../../lambda/accounts/device-trust';
import {
  parseChangePasswordRequest,
  parseLoginRequest,
  parseRegisterRequest,
  parseResetPasswordRequest,
} from '../../lambda/accounts/requests';
import { createServices, type Services } from '../../lambda/services';
import { parseUsername } from '../../lambda/accounts/username';
import { thrown } from '../support/async';
import { FakePasswordHasher, inMemoryBackend, loginSession } from '../support/in-memory';

const PASSWORD = 'correct horse battery';
const WRONG = 'wrong password 1';
const NEW_PASSWORD = 'a brand new passphrase';

function setup() {
  const backend = inMemoryBackend();
  return { backend, service: createServices(backend), admin: new AccountAdmin(backend) };
}

const login = (service: Services, password: string, deviceToken?: string, username = 'alice') =>
  loginSession(service, parseLoginRequest({ username, password, ...(deviceToken ? { deviceToken } : {}) }));

async function lockOutUnknownDevices(service: Services): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++)
    expect(await thrown(login(service, WRONG))).toBeInstanceOf(AuthenticationError);
  expect(await thrown(login(service, PASSWORD))).toBeInstanceOf(TooManyAttemptsError);
}

describe('device tokens', () => {
  it('register and login return a device token; a login with a trusted one returns the same token', async () => {
    const { service } = setup();
    const registered = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    expect(registered.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(login(service, PASSWORD, registered.deviceToken)).resolves.toMatchObject({
      deviceToken: registered.deviceToken,
    });
    const other = await login(service, PASSWORD);
    expect(other.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(other.deviceToken).not.toBe(registered.deviceToken);
  });

  it('stores only SHA-256 hashes of device tokens, at most 10; logins beyond a full list get no token and evict nobody', async () => {
    const { backend, service } = setup();
    const registered = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await login(service, PASSWORD));
    const [user] = backend.users.all();
    expect(user?.trustedDevices).toHaveLength(MAX_TRUSTED_DEVICES);
    const tokens = answers.flatMap((answer) => (answer.deviceToken ? [answer.deviceToken] : []));
    expect(tokens).toHaveLength(MAX_TRUSTED_DEVICES - 1);
    expect(answers.slice(MAX_TRUSTED_DEVICES - 1).every((answer) => answer.deviceToken === undefined)).toBe(true);
    expect(JSON.stringify(user)).not.toContain(tokens.at(-1));
    // The first device is still trusted and keeps its token.
    await expect(login(service, PASSWORD, registered.deviceToken)).resolves.toMatchObject({
      deviceToken: registered.deviceToken,
    });
    await expect(login(service, PASSWORD, tokens.at(-1))).resolves.toMatchObject({ deviceToken: tokens.at(-1) });
  });

  it(`a full list gives a slot only from a device idle ${DEVICE_IDLE_DAYS} days, the longest-idle one; a device seen meanwhile stays`, async () => {
    const { backend, service } = setup();
    const owner = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const others: string[] = [];
    for (let i = 0; i < MAX_TRUSTED_DEVICES - 1; i++) others.push((await login(service, PASSWORD)).deviceToken!);
    backend.clock.advance(DEVICE_IDLE_DAYS * 24 * 60 * 60_000 - 60_000);
    // The owner logs in just before the others go idle: that refreshes its last login.
    await expect(login(service, PASSWORD, owner.deviceToken)).resolves.toMatchObject({
      deviceToken: owner.deviceToken,
    });
    expect((await login(service, PASSWORD)).deviceToken).toBeUndefined();
    backend.clock.advance(120_000);
    const fresh: string[] = [];
    for (let i = 0; i < MAX_TRUSTED_DEVICES; i++) {
      const token = (await login(service, PASSWORD)).deviceToken;
      if (token) fresh.push(token);
    }
    // The nine idle devices gave their slots, the owner's did not.
    expect(fresh).toHaveLength(MAX_TRUSTED_DEVICES - 1);
    await expect(login(service, PASSWORD, owner.deviceToken)).resolves.toMatchObject({
      deviceToken: owner.deviceToken,
    });
    // An evicted device is unknown again: the full list gives it no token.
    expect((await login(service, PASSWORD, others[0])).deviceToken).toBeUndefined();
  });

  it('parallel logins lose no device: every token handed out is trusted, and none is handed out unstored', async () => {
    const { service } = setup();
    const owner = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    // Four at a time: more parallel logins than the lockout threshold count as a burst (429).
    const answers = await Promise.all(Array.from({ length: 4 }, () => login(service, PASSWORD)));
    const tokens = answers.flatMap((answer) => (answer.deviceToken ? [answer.deviceToken] : []));
    const again = [];
    for (const token of [owner.deviceToken!, ...tokens])
      again.push((await login(service, PASSWORD, token)).deviceToken === token);
    expect(again).toEqual(again.map(() => true));
  });

  it("attack: a password thief's 20 logins, then 5 wrong guesses from elsewhere, leave the owner's trusted device able to log in", async () => {
    const { service } = setup();
    const owner = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    for (let i = 0; i < 20; i++) await login(service, PASSWORD);
    await lockOutUnknownDevices(service);
    await expect(login(service, PASSWORD, owner.deviceToken)).resolves.toMatchObject({
      username: 'alice',
      deviceToken: owner.deviceToken,
    });
  });

  it('property: whatever logins a thief interleaves, a device its owner uses at least every 89 days stays trusted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 25 }),
        async (steps) => {
          const { backend, service } = setup();
          const owner = await service.accounts.register(
            parseRegisterRequest({ username: 'alice', password: PASSWORD }),
          );
          let sinceOwner = 0;
          const ownerAnswers: (string | undefined)[] = [];
          for (const [ownerLogs, days] of steps) {
            backend.clock.advance(days * 24 * 60 * 60_000);
            sinceOwner += days;
            const byOwner = sinceOwner >= DEVICE_IDLE_DAYS - 1 || ownerLogs;
            const answer = await login(service, PASSWORD, byOwner ? owner.deviceToken : undefined);
            if (byOwner) {
              ownerAnswers.push(answer.deviceToken);
              sinceOwner = 0;
            }
          }
          expect(ownerAnswers.every((token) => token === owner.deviceToken)).toBe(true);
          await expect(login(service, PASSWORD, owner.deviceToken)).resolves.toMatchObject({
            deviceToken: owner.deviceToken,
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('ASVS 6.1.1: a stranger cannot lock the owner out', () => {
  it("issue 14: five wrong guesses from an unknown device lock unknown devices, but not the owner's trusted phone", async () => {
    const { service } = setup();
    const { deviceToken } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    await lockOutUnknownDevices(service);
    await expect(login(service, PASSWORD, deviceToken)).resolves.toMatchObject({ username: 'alice' });
    // The owner's success does not reopen the stranger's counter.
    expect(await thrown(login(service, WRONG))).toBeInstanceOf(TooManyAttemptsError);
  });

  it('a made-up or foreign device token counts as an unknown device', async () => {
    const { service } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const bob = await service.accounts.register(parseRegisterRequest({ username: 'bob', password: PASSWORD }));
    await lockOutUnknownDevices(service);
    expect(await thrown(login(service, PASSWORD, 'A'.repeat(43)))).toBeInstanceOf(TooManyAttemptsError);
    expect(await thrown(login(service, PASSWORD, bob.deviceToken))).toBeInstanceOf(TooManyAttemptsError);
  });

  it('a trusted device has its own cap: five wrong passwords from it lock only that device', async () => {
    const { backend, service } = setup();
    const phone = (await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD })))
      .deviceToken!;
    const laptop = (await login(service, PASSWORD)).deviceToken!;
    const hasher = backend.hasher as FakePasswordHasher;
    const checksBefore = hasher.checks;
    for (let attempt = 0; attempt < 5; attempt++)
      expect(await thrown(login(service, WRONG, phone))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(login(service, PASSWORD, phone))).toBeInstanceOf(TooManyAttemptsError);
    expect(hasher.checks - checksBefore).toBe(5);
    await expect(login(service, PASSWORD, laptop)).resolves.toBeDefined();
    await expect(login(service, PASSWORD)).resolves.toBeDefined();
  });

  it('a password change confirmed by a session is not blocked by a stranger lock, and has its own cap', async () => {
    const { service } = setup();
    const { session } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    await lockOutUnknownDevices(service);
    const change = (currentPassword: string) =>
      service.accounts.changePassword(
        session.token,
        parseChangePasswordRequest({ currentPassword, newPassword: NEW_PASSWORD }),
      );
    for (let attempt = 0; attempt < 5; attempt++)
      expect(await thrown(change(WRONG))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(change(PASSWORD))).toBeInstanceOf(TooManyAttemptsError);
  });

  it('a new password ends device trust: the old device tokens count as unknown devices again', async () => {
    const { backend, service } = setup();
    const { session, deviceToken } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    await service.accounts.changePassword(
      session.token,
      parseChangePasswordRequest({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    );
    expect(backend.users.all()[0]?.trustedDevices).toEqual([]);
    await expect(login(service, NEW_PASSWORD, deviceToken)).resolves.not.toMatchObject({ deviceToken });
  });
});

describe('issue 14 item 9: recovery under attack', () => {
  it("an operator's reset code works for a user a stranger locked out, and ends the stranger's lock", async () => {
    const { service, admin } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    await lockOutUnknownDevices(service);
    const { code } = await admin.issueResetCode(parseUsername('alice'));
    const reset = await service.accounts.resetPassword(
      parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: NEW_PASSWORD }),
    );
    expect(reset.username).toBe('alice');
    await expect(login(service, NEW_PASSWORD)).resolves.toBeDefined();
  });

  it('the reset stays rate-limited on its own counter: five wrong codes, then 429 even for the right one', async () => {
    const { service, admin } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(parseUsername('alice'));
    const reset = (resetCode: string) =>
      service.accounts.resetPassword(
        parseResetPasswordRequest({ username: 'alice', resetCode, newPassword: NEW_PASSWORD }),
      );
    for (let attempt = 0; attempt < 5; attempt++)
      expect(await thrown(reset('0000-0000-0000-0000'))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(reset(code))).toBeInstanceOf(TooManyAttemptsError);
    // Logins are not blocked by a reset guesser either.
    await expect(login(service, PASSWORD)).resolves.toBeDefined();
  });

  it('issue 14: a breached new password is refused at reset with a 400, and the code is not spent', async () => {
    const { backend, service, admin } = setup();
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const { code } = await admin.issueResetCode(parseUsername('alice'));
    const error = await thrown(
      service.accounts.resetPassword(
        parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: 'password1234' }),
      ),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(backend.resetCodes.has('alice')).toBe(true);
  });
});

describe('issue 14 item 9: write bounds for never-registered names', () => {
  it('failed logins and resets for a never-registered name leave only counters: no audit item, a log line instead', async () => {
    const { backend, service } = setup();
    for (let attempt = 0; attempt < 6; attempt++) await thrown(login(service, WRONG, undefined, 'mallory'));
    for (let attempt = 0; attempt < 6; attempt++) {
      await thrown(
        service.accounts.resetPassword(
          parseResetPasswordRequest({
            username: 'mallory',
            resetCode: '0000-0000-0000-0000',
            newPassword: NEW_PASSWORD,
          }),
        ),
      );
    }
    expect(backend.audit.events).toEqual([]);
    expect(backend.users.size).toBe(0);
    expect(backend.resetCodes.has('mallory')).toBe(false);
    expect(backend.lockout.keys().sort()).toEqual(['mallory', 'mallory#reset']);
    expect(backend.log.entries.filter((entry) => entry.message.startsWith('unregistered name:'))).toHaveLength(12);
  });

  it('issue 14 item 8: a never-registered name costs the same backend calls as a registered one, on login and on reset', async () => {
    const calls = async (username: string, action: (service: Services) => Promise<unknown>) => {
      const { backend, service, admin } = setup();
      await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
      await admin.issueResetCode(parseUsername('alice'));
      const count = () => ({
        users: [...backend.users.calls.values()].reduce((a, b) => a + b, 0),
        lockout: [...backend.lockout.calls.values()].reduce((a, b) => a + b, 0),
        resetCodes: [...backend.resetCodes.calls.values()].reduce((a, b) => a + b, 0),
        audit: [...backend.audit.calls.values()].reduce((a, b) => a + b, 0),
        checks: (backend.hasher as FakePasswordHasher).checks,
      });
      const before = count();
      await thrown(action(service));
      const after = count();
      return Object.fromEntries(
        Object.entries(after).map(([key, value]) => [key, value - before[key as keyof typeof before]]),
      );
    };
    const wrongLogin = (username: string) => (service: Services) => login(service, WRONG, undefined, username);
    expect(await calls('mallory', wrongLogin('mallory'))).toEqual(await calls('alice', wrongLogin('alice')));
    const wrongReset = (username: string) => (service: Services) =>
      service.accounts.resetPassword(
        parseResetPasswordRequest({ username, resetCode: '0000-0000-0000-0000', newPassword: NEW_PASSWORD }),
      );
    expect(await calls('mallory', wrongReset('mallory'))).toEqual(await calls('alice', wrongReset('alice')));
  });
});

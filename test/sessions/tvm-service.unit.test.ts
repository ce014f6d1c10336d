import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TvmConfig } from '../../lambda/platform/config';
import {
  AuthenticationError,
  BackendUnavailableError,
  TooManyAttemptsError,
  UsernameTakenError,
  ValidationError,
} from '../../lambda/platform/errors';
import type { Password, PasswordHasher } from '../../lambda/accounts/password';
import { BcryptPasswordHasher } from '../../lambda/accounts/password-hash';
import { bucketArn, renderSessionPolicy, serialiseSessionPolicy } from '../../lambda/credentials/policy';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { hashSessionToken } from '../../lambda/sessions/session-token';
import { createServices, type Services } from '../../lambda/services';
import { parseUsername } from '../../lambda/accounts/username';
import { CountingHasher, FakePasswordHasher, inMemoryBackend, loginSession } from '../support/in-memory';
import { thrown } from '../support/async';

const PASSWORD = 'correct horse battery';
const WRONG = 'wrong password 1';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function setup(options: { config?: Partial<TvmConfig>; hasher?: PasswordHasher } = {}) {
  const backend = inMemoryBackend(options);
  return { backend, service: createServices(backend) };
}

const register = (service: Services, username = 'alice', password = PASSWORD) =>
  service.accounts.register(parseRegisterRequest({ username, password }));
const login = (service: Services, username = 'alice', password = PASSWORD, device?: string) =>
  loginSession(service, parseLoginRequest({ username, password, ...(device ? { device } : {}) }));

describe('accounts and sessions services on in-memory fakes', () => {
  describe('register, login, token, logout', () => {
    it('register answers username, a 30-day session, credentials and storage, and stores the user', async () => {
      const { backend, service } = setup();
      const result = await register(service, 'Alice');
      expect(result.username).toBe('alice');
      expect(result.session.token).toMatch(/^alice\.[A-Za-z0-9_-]{43}$/);
      expect(result.session.expiresAt).toBe(new Date(backend.clock.now() + 30 * DAY).toISOString());
      expect(result.credentials).toEqual({
        accessKeyId: expect.any(String),
        secretAccessKey: expect.any(String),
        sessionToken: expect.any(String),
        expiration: new Date(backend.clock.now() + 3600_000).toISOString(),
      });
      expect(result.storage).toEqual({
        bucket: 'tvm-test-files',
        prefix: 'alice/',
        region: 'eu-west-1',
        usage: { bytes: 0, objects: 0, quotaBytes: null, overQuota: false },
      });
      expect(backend.users.all()).toEqual([
        {
          username: 'alice',
          userId: expect.any(String),
          passwordHash: expect.any(String),
          createdAt: backend.clock.now(),
          disabled: false,
          sessionGeneration: 0,
          trustedDevices: [{ hash: expect.stringMatching(/^[0-9a-f]{64}$/), seenAt: backend.clock.now() }],
        },
      ]);
    });

    it('storage carries the S3 endpoint only when one is configured (the sandbox)', async () => {
      const { service } = setup({ config: { s3Endpoint: 'http://127.0.0.1:4569' } });
      expect((await register(service)).storage.endpoint).toBe('http://127.0.0.1:4569');
    });

    it('rule 3: the stored password hash is not the password and the answer carries no hash', async () => {
      const { backend, service } = setup();
      const result = await register(service);
      const [user] = backend.users.all();
      expect(user?.passwordHash).not.toBe(PASSWORD);
      expect(user?.passwordHash).not.toContain(PASSWORD);
      expect(JSON.stringify(result)).not.toContain(user?.passwordHash);
    });

    it('rule 6: a session is stored only under the SHA-256 of its token; the token itself is stored nowhere', async () => {
      const { backend, service } = setup();
      const { session } = await register(service);
      const stored = backend.sessions.all();
      expect(stored).toHaveLength(1);
      expect(stored[0]?.tokenHash).toBe(hashSessionToken(session.token));
      expect(JSON.stringify(stored)).not.toContain(session.token);
    });

    it('login answers a new session, distinct from the registration one, with the device label stored', async () => {
      const { backend, service } = setup();
      const registered = await register(service);
      const loggedIn = await login(service, 'ALICE', PASSWORD, 'Pixel 9');
      expect(loggedIn.username).toBe('alice');
      expect(loggedIn.session.token).not.toBe(registered.session.token);
      expect(loggedIn.storage.prefix).toBe('alice/');
      const stored = backend.sessions.all().find((s) => s.tokenHash === hashSessionToken(loggedIn.session.token));
      expect(stored?.device).toBe('Pixel 9');
    });

    it('token vends fresh credentials and storage for a live session', async () => {
      const { backend, service } = setup();
      const { session, credentials } = await register(service);
      const vended = await service.sessions.token(session.token);
      expect(vended.storage).toEqual({
        bucket: 'tvm-test-files',
        prefix: 'alice/',
        region: 'eu-west-1',
        usage: { bytes: 0, objects: 0, quotaBytes: null, overQuota: false },
      });
      expect(vended.credentials.accessKeyId).not.toBe(credentials.accessKeyId);
      expect(backend.issuer.requests).toHaveLength(2);
    });

    it('token makes two sequential backend stages: the counted session use with the user read, then AssumeRole with the audit entry and the user count', async () => {
      // Every fake backend call waits one "round trip"; a stage starts when nothing was in flight.
      let inFlight = 0;
      let stages = 0;
      const roundTrip = async (): Promise<void> => {
        if (inFlight === 0) stages += 1;
        inFlight += 1;
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
      };
      const backend = inMemoryBackend({ roundTrip });
      const service = createServices(backend);
      const { session } = await register(service);
      const before = backend.audit.events.length;

      stages = 0;
      await service.sessions.token(session.token);
      expect(stages).toBe(2);
      expect(backend.issuer.requests).toHaveLength(2);
      expect(backend.audit.events.slice(before).map((event) => event.type)).toEqual(['token_issued']);
      const stored = () =>
        backend.sessions.all().find((record) => record.tokenHash === hashSessionToken(session.token))!;
      expect(stored().lastUsedAt).toBe(backend.clock.now());

      // A token issued before tokens named their user needs the session first: one stage more.
      const legacy = session.token.slice(session.token.indexOf('.') + 1);
      await backend.sessions.putSession({ ...stored(), tokenHash: hashSessionToken(legacy) });
      backend.clock.advance(DAY);
      stages = 0;
      await service.sessions.token(legacy);
      expect(stages).toBe(3);
    });

    it('refuses a token whose username was changed, and a session record that names another user than its token', async () => {
      const { backend, service } = setup();
      const alice = await register(service);
      await register(service, 'bob');
      const secret = alice.session.token.slice('alice.'.length);
      await expect(service.sessions.token(`bob.${secret}`)).rejects.toBeInstanceOf(AuthenticationError);
      // Even if a record were stored under the hash of "bob.<secret>", it names alice: refused.
      const aliceSession = backend.sessions
        .all()
        .find((record) => record.tokenHash === hashSessionToken(alice.session.token))!;
      await backend.sessions.putSession({ ...aliceSession, tokenHash: hashSessionToken(`bob.${secret}`) });
      await expect(service.sessions.token(`bob.${secret}`)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(service.sessions.token(alice.session.token)).resolves.toBeDefined();
    });

    it('rule 6: logout revokes the session: token and logout then answer 401', async () => {
      const { backend, service } = setup();
      const { session } = await register(service);
      await service.sessions.logout(session.token);
      expect(backend.sessions.size).toBe(0);
      await expect(service.sessions.token(session.token)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(service.sessions.logout(session.token)).rejects.toBeInstanceOf(AuthenticationError);
    });

    it('rule 6: logout revokes one session only; another session of the same user still works', async () => {
      const { service } = setup();
      const first = await register(service);
      const second = await login(service);
      await service.sessions.logout(first.session.token);
      await expect(service.sessions.token(second.session.token)).resolves.toBeDefined();
    });

    it('rule 6: refuses a missing token and a well-formed token that was never issued', async () => {
      const { service } = setup();
      await register(service);
      await expect(service.sessions.token(undefined)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(service.sessions.token('A'.repeat(43))).rejects.toBeInstanceOf(AuthenticationError);
      await expect(service.sessions.logout(undefined)).rejects.toBeInstanceOf(AuthenticationError);
    });

    it('rule 6: a session works until just before SESSION_DAYS and is refused at and after expiry, though still stored', async () => {
      // An inactivity timeout longer than the lifetime, so only the lifetime ends the session here.
      const { backend, service } = setup({ config: { sessionDays: 30, sessionIdleDays: 60 } });
      const { session } = await register(service);
      backend.clock.advance(30 * DAY - 1);
      await expect(service.sessions.token(session.token)).resolves.toBeDefined();
      backend.clock.advance(1);
      await expect(service.sessions.token(session.token)).rejects.toBeInstanceOf(AuthenticationError);
      backend.clock.advance(DAY);
      await expect(service.sessions.token(session.token)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(service.sessions.logout(session.token)).rejects.toBeInstanceOf(AuthenticationError);
      expect(backend.sessions.size).toBe(1);
    });

    it('a session whose user was deleted and re-registered (a different userId) is refused; the new one works', async () => {
      const { backend, service } = setup();
      const old = await register(service);
      expect(backend.users.remove('alice')).toBe(true);
      await expect(service.sessions.token(old.session.token)).rejects.toBeInstanceOf(AuthenticationError);
      const renewed = await register(service, 'alice', 'another password');
      await expect(service.sessions.token(old.session.token)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(service.sessions.token(renewed.session.token)).resolves.toBeDefined();
    });
  });

  describe('rule 1: usernames are unique', () => {
    it('rule 1: a taken name gets UsernameTakenError (409), in any case, and the first user is unchanged', async () => {
      const { backend, service } = setup();
      await register(service, 'alice');
      const before = backend.users.all();
      const error = await thrown(register(service, 'ALICE', 'other password'));
      expect(error).toBeInstanceOf(UsernameTakenError);
      expect((error as UsernameTakenError).status).toBe(409);
      expect(backend.users.all()).toEqual(before);
      expect(backend.sessions.size).toBe(1);
    });

    it('rule 1: of 10 parallel registrations of one name exactly one wins, and the losers leave no session behind', async () => {
      const { backend, service } = setup();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => register(service, 'alice', `password ${i}`)),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(losers).toHaveLength(9);
      expect(losers.every((reason) => reason instanceof UsernameTakenError)).toBe(true);
      expect(backend.users.size).toBe(1);
      expect(backend.sessions.size).toBe(1);
    });
  });

  describe('rule 4: unknown user and wrong password look the same', () => {
    it('rule 4: both throw AuthenticationError with the same status, code and message', async () => {
      const { service } = setup();
      await register(service);
      const unknown = await thrown(login(service, 'mallory', PASSWORD));
      const wrong = await thrown(login(service, 'alice', WRONG));
      expect(unknown).toBeInstanceOf(AuthenticationError);
      expect(wrong).toBeInstanceOf(AuthenticationError);
      const shape = (e: unknown) => {
        const error = e as AuthenticationError;
        return { status: error.status, code: error.code, message: error.publicMessage };
      };
      expect(shape(unknown)).toEqual(shape(wrong));
    });

    it('rule 4: an unknown user costs one password check against the dummy hash, a wrong password one real check', async () => {
      const hasher = new FakePasswordHasher();
      const { service } = setup({ hasher });
      await register(service);
      await thrown(login(service, 'mallory', PASSWORD));
      expect(hasher.calls).toMatchObject({ verify: 0, verifyAgainstDummy: 1 });
      await thrown(login(service, 'alice', WRONG));
      expect(hasher.calls).toMatchObject({ verify: 1, verifyAgainstDummy: 1 });
    });
  });

  describe('rule 5: lockout', () => {
    it('rule 5: 5 wrong passwords, then the 6th attempt gets TooManyAttemptsError with Retry-After about 900 s', async () => {
      const { service } = setup();
      await register(service);
      for (let i = 0; i < 5; i++)
        await expect(login(service, 'alice', WRONG)).rejects.toBeInstanceOf(AuthenticationError);
      const error = await thrown(login(service, 'alice', WRONG));
      expect(error).toBeInstanceOf(TooManyAttemptsError);
      expect((error as TooManyAttemptsError).retryAfterSeconds).toBeGreaterThanOrEqual(899);
      expect((error as TooManyAttemptsError).retryAfterSeconds).toBeLessThanOrEqual(900);
    });

    it('rule 5: the right password is refused while locked and accepted once the clock moves 15 minutes', async () => {
      const hasher = new FakePasswordHasher();
      const { backend, service } = setup({ hasher });
      await register(service);
      for (let i = 0; i < 5; i++) await thrown(login(service, 'alice', WRONG));
      const checks = hasher.checks;
      await expect(login(service)).rejects.toBeInstanceOf(TooManyAttemptsError);
      backend.clock.advance(14 * MINUTE + 59_000);
      const late = await thrown(login(service));
      expect(late).toBeInstanceOf(TooManyAttemptsError);
      expect((late as TooManyAttemptsError).retryAfterSeconds).toBe(1);
      expect(hasher.checks).toBe(checks); // refused without running a password check
      backend.clock.advance(1_000);
      await expect(login(service)).resolves.toMatchObject({ username: 'alice' });
    });

    it('rule 5: a successful login resets the count: 4 wrong, 1 right, 4 wrong is not locked', async () => {
      const { service } = setup();
      await register(service);
      for (let i = 0; i < 4; i++) await thrown(login(service, 'alice', WRONG));
      await login(service);
      for (let i = 0; i < 4; i++)
        await expect(login(service, 'alice', WRONG)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(login(service)).resolves.toBeDefined();
    });

    it('rule 5: after the cool-down the count starts again: 5 more wrong passwords lock again', async () => {
      const { backend, service } = setup();
      await register(service);
      for (let i = 0; i < 5; i++) await thrown(login(service, 'alice', WRONG));
      backend.clock.advance(15 * MINUTE);
      for (let i = 0; i < 5; i++)
        await expect(login(service, 'alice', WRONG)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(login(service)).rejects.toBeInstanceOf(TooManyAttemptsError);
    });

    it('rule 5: the threshold and cool-down follow the configuration (3 failures, 2 minutes)', async () => {
      const { backend, service } = setup({ config: { lockoutThreshold: 3, lockoutMinutes: 2 } });
      await register(service);
      for (let i = 0; i < 3; i++) await thrown(login(service, 'alice', WRONG));
      const error = await thrown(login(service));
      expect((error as TooManyAttemptsError).retryAfterSeconds).toBe(120);
      backend.clock.advance(2 * MINUTE);
      await expect(login(service)).resolves.toBeDefined();
    });

    it('rule 4 and 5: an unknown username locks after 5 failures exactly like a known one', async () => {
      const { service } = setup();
      for (let i = 0; i < 5; i++)
        await expect(login(service, 'mallory', WRONG)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(login(service, 'mallory', WRONG)).rejects.toBeInstanceOf(TooManyAttemptsError);
    });

    it("rule 5: one user's lockout does not lock another", async () => {
      const { service } = setup();
      await register(service, 'alice');
      await register(service, 'bob');
      for (let i = 0; i < 5; i++) await thrown(login(service, 'alice', WRONG));
      await expect(login(service, 'bob')).resolves.toBeDefined();
    });

    it('rule 5: 50 parallel wrong guesses (real bcrypt, cost 10) run at most 5 password checks', async () => {
      const hasher = new CountingHasher(new BcryptPasswordHasher(10));
      const { service } = setup({ hasher });
      await register(service);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => login(service, 'alice', WRONG)));
      expect(hasher.checks).toBeLessThanOrEqual(5);
      const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : r.value));
      expect(reasons.filter((r) => r instanceof AuthenticationError).length).toBe(hasher.checks);
      expect(reasons.filter((r) => r instanceof TooManyAttemptsError).length).toBe(50 - hasher.checks);
    });

    it('rule 5: 50 parallel guesses for an unknown user run at most 5 dummy checks', async () => {
      const hasher = new FakePasswordHasher();
      const { service } = setup({ hasher });
      await Promise.allSettled(Array.from({ length: 50 }, () => login(service, 'mallory', WRONG)));
      expect(hasher.checks).toBeLessThanOrEqual(5);
    });

    it('rule 5: 50 parallel guesses on a stale counter (after the cool-down) still run at most 5 checks', async () => {
      const hasher = new FakePasswordHasher();
      const { backend, service } = setup({ hasher });
      await register(service);
      for (let i = 0; i < 5; i++) await thrown(login(service, 'alice', WRONG));
      backend.clock.advance(15 * MINUTE);
      const before = hasher.checks;
      await Promise.allSettled(Array.from({ length: 50 }, () => login(service, 'alice', WRONG)));
      expect(hasher.checks - before).toBeLessThanOrEqual(5);
    });

    it('rule 5: a correct login that clears the counter while the threshold-th wrong guess is still checked does not lock the account beyond one cool-down', async () => {
      // The fourth attempt (right password) and the fifth (wrong) are both inside their checks;
      // the right one finishes first and clears the counter, then the wrong one locks.
      const gated = new GatedHasher();
      const { backend, service } = setup({ hasher: gated });
      await register(service);
      for (let i = 0; i < 3; i++) await thrown(login(service, 'alice', WRONG));
      gated.hold = true;
      const right = login(service);
      await gated.waitForHeld(1);
      const wrong = thrown(login(service, 'alice', WRONG));
      await gated.waitForHeld(2);
      gated.release(0);
      await expect(right).resolves.toBeDefined();
      gated.release(1);
      expect(await wrong).toBeInstanceOf(AuthenticationError);
      gated.hold = false;
      backend.clock.advance(15 * MINUTE + 1_000);
      await expect(login(service)).resolves.toMatchObject({ username: 'alice' });
    });
  });

  describe('rule 7: AssumeRole gets the rendered session policy', () => {
    it('rule 7: the issuer receives exactly the username, the serialised session policy and CREDENTIAL_SECONDS', async () => {
      const { backend, service } = setup({
        config: { credentialSeconds: 900, partition: 'aws-cn', bucketName: 'cn-files' },
      });
      const { session } = await register(service, 'Al');
      await login(service, 'al');
      await service.sessions.token(session.token);
      const al = parseUsername('al');
      const expected = {
        username: 'al',
        sessionPolicy: serialiseSessionPolicy(renderSessionPolicy(bucketArn('cn-files', 'aws-cn'), al)),
        durationSeconds: 900,
      };
      expect(backend.issuer.requests).toEqual([expected, expected, expected]);
      const policy = JSON.parse(expected.sessionPolicy);
      expect(policy.Statement[0].Resource).toBe('arn:aws-cn:s3:::cn-files/al/*');
      expect(JSON.stringify(policy)).not.toContain('__');
    });

    it('rule 7: the policy sent equals the template in policies/ filled for the user', async () => {
      const { backend, service } = setup();
      await register(service, 'bob');
      const template = readFileSync(join(__dirname, '..', '..', 'policies', 'session-policy.json'), 'utf8');
      const expected = JSON.parse(template, (_key, value: unknown) =>
        typeof value === 'string'
          ? value.split('__BUCKET_ARN__').join('arn:aws:s3:::tvm-test-files').split('__USERNAME__').join('bob')
          : value,
      );
      expect(JSON.parse(backend.issuer.requests[0]?.sessionPolicy ?? 'null')).toEqual(expected);
    });
  });

  describe('rule 9: a backend fault changes nothing and leaves nothing half-written', () => {
    it('rule 9: when the issuer throws BackendUnavailableError during register, no user and no session are stored', async () => {
      const { backend, service } = setup();
      backend.issuer.failNext();
      await expect(register(service)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(backend.users.size).toBe(0);
      expect(backend.sessions.size).toBe(0);
      await expect(register(service)).resolves.toBeDefined();
    });

    it('rule 9: when createUser fails, the session written just before is removed and the error surfaces', async () => {
      const { backend, service } = setup();
      backend.users.failNext('createUser');
      await expect(register(service)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(backend.users.size).toBe(0);
      expect(backend.sessions.size).toBe(0);
    });

    it('rule 9: when createUser fails and removing the session fails too, the original error surfaces and a warning is logged', async () => {
      const { backend, service } = setup();
      backend.users.failNext('createUser');
      backend.sessions.failNext('deleteSession');
      await expect(register(service)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(backend.users.size).toBe(0);
      expect(backend.log.entries.some((e) => e.level === 'warn')).toBe(true);
    });

    it('rule 9: when putSession fails during register, no user is stored', async () => {
      const { backend, service } = setup();
      backend.sessions.failNext('putSession');
      await expect(register(service)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(backend.users.size).toBe(0);
    });

    it('rule 9: when the issuer fails during login, no session is stored', async () => {
      const { backend, service } = setup();
      await register(service);
      const sessionsBefore = backend.sessions.size;
      backend.issuer.failNext();
      await expect(login(service)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(backend.sessions.size).toBe(sessionsBefore);
    });

    it('rule 9: when the issuer fails during token, the session survives and works afterwards', async () => {
      const { backend, service } = setup();
      const { session } = await register(service);
      backend.issuer.failNext();
      await expect(service.sessions.token(session.token)).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(service.sessions.token(session.token)).resolves.toBeDefined();
    });

    it('rule 9: when the lockout store fails, login answers 503 without checking the password', async () => {
      const hasher = new FakePasswordHasher();
      const { backend, service } = setup({ hasher });
      await register(service);
      backend.lockout.failNext('tryReserve');
      await expect(login(service)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(hasher.checks).toBe(0);
    });

    it('rule 9: bad input is refused before the service runs, so nothing is written', () => {
      expect(() => parseRegisterRequest({ username: 'al*', password: PASSWORD })).toThrow(ValidationError);
    });
  });

  describe('rule 8: nothing secret is logged', () => {
    it('rule 8: logs of register, login (right and wrong), token and logout contain no password, token, hash or STS secret', async () => {
      const { backend, service } = setup();
      const registered = await register(service);
      const loggedIn = await login(service);
      await thrown(login(service, 'alice', WRONG));
      await thrown(login(service, 'mallory', PASSWORD));
      const vended = await service.sessions.token(loggedIn.session.token);
      await service.sessions.logout(loggedIn.session.token);
      const text = backend.log.text();
      expect(backend.log.entries.length).toBeGreaterThan(0);
      const secrets = [
        PASSWORD,
        WRONG,
        registered.session.token,
        loggedIn.session.token,
        hashSessionToken(loggedIn.session.token),
        backend.users.all()[0]?.passwordHash ?? 'missing',
        registered.credentials.secretAccessKey,
        registered.credentials.sessionToken,
        vended.credentials.secretAccessKey,
        vended.credentials.sessionToken,
      ];
      for (const secret of secrets) expect(text).not.toContain(secret);
    });
  });
});

/**
 * A fast hasher whose checks can be held open and released one by one, to force an exact
 * interleaving of concurrent logins. Passwords are "hashed" as `fake:<password>`.
 */
class GatedHasher implements PasswordHasher {
  hold = false;
  private readonly held: Array<() => void> = [];
  private waiters: Array<() => void> = [];

  async hash(password: Password): Promise<string> {
    return `fake:${[...password].reverse().join('')}`;
  }
  async verify(password: Password, hash: string): Promise<boolean> {
    await this.gate();
    return hash === (await this.hash(password));
  }
  async verifyAgainstDummy(_password: Password): Promise<false> {
    await this.gate();
    return false;
  }
  needsRehash(_hash: string): boolean {
    return false;
  }
  async waitForHeld(count: number): Promise<void> {
    while (this.held.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(index: number): void {
    this.held[index]?.();
  }
  private gate(): Promise<void> {
    if (!this.hold) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.held.push(resolve);
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }
}

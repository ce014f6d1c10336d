/** The in-memory fakes behave like the DynamoDB adapter, so tests built on them mean something. */
import { BackendUnavailableError, UsernameTakenError } from '../../lambda/platform/errors';
import { parseUsername } from '../../lambda/accounts/username';
import {
  InMemoryCredentialIssuer,
  InMemoryLockoutStore,
  InMemorySessionStore,
  InMemoryUserStore,
  ManualClock,
} from '../support/in-memory';

const alice = parseUsername('alice');
const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

describe('in-memory fakes (same semantics as the stores in lambda/adapters/dynamo/)', () => {
  it('createUser is a conditional write: the second user with a name gets UsernameTakenError and the first stays', async () => {
    const users = new InMemoryUserStore();
    await users.createUser({
      username: alice,
      userId: 'one',
      passwordHash: 'h1',
      createdAt: NOW,
      disabled: false,
      sessionGeneration: 0,
    });
    await expect(
      users.createUser({
        username: alice,
        userId: 'two',
        passwordHash: 'h2',
        createdAt: NOW,
        disabled: false,
        sessionGeneration: 0,
      }),
    ).rejects.toBeInstanceOf(UsernameTakenError);
    await expect(users.getUser(alice)).resolves.toMatchObject({ userId: 'one', passwordHash: 'h1' });
  });

  it('of 20 parallel createUser calls for one name exactly one wins', async () => {
    const users = new InMemoryUserStore();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        users.createUser({
          username: alice,
          userId: `id${i}`,
          passwordHash: 'h',
          createdAt: NOW,
          disabled: false,
          sessionGeneration: 0,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(users.size).toBe(1);
  });

  it('returns copies, so callers cannot change what is stored', async () => {
    const sessions = new InMemorySessionStore();
    await sessions.putSession({
      tokenHash: 'h',
      sessionId: 's',
      generation: 0,
      username: alice,
      userId: 'u',
      createdAt: NOW,
      expiresAt: NOW + DAY,
    });
    const read = (await sessions.getSession('h')) as { expiresAt: number };
    read.expiresAt = NOW + 100 * DAY;
    await expect(sessions.getSession('h')).resolves.toMatchObject({ expiresAt: NOW + DAY });
  });

  it('returns expired sessions (like DynamoDB before TTL deletes them) and deletes idempotently', async () => {
    const sessions = new InMemorySessionStore();
    await sessions.putSession({
      tokenHash: 'h',
      sessionId: 's',
      generation: 0,
      username: alice,
      userId: 'u',
      createdAt: NOW - 2 * DAY,
      expiresAt: NOW - DAY,
    });
    await expect(sessions.getSession('h')).resolves.toBeDefined();
    await sessions.deleteSession('h');
    await sessions.deleteSession('h');
    await expect(sessions.getSession('h')).resolves.toBeUndefined();
  });

  it('tryReserve is atomic: 50 parallel reservations against threshold 5 reserve exactly attempts 1 to 5', async () => {
    const lockout = new InMemoryLockoutStore();
    const results = await Promise.all(Array.from({ length: 50 }, () => lockout.tryReserve(alice, 5, NOW, NOW + DAY)));
    const reserved = results.flatMap((r) => (r.reserved ? [r.attempts] : []));
    expect(reserved.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(results.filter((r) => !r.reserved)).toHaveLength(45);
    expect(lockout.state(alice)).toEqual({ attempts: 5, expiresAt: NOW + DAY });
  });

  it('tryReserve refuses a locked, full or stale counter and reports its state', async () => {
    const lockout = new InMemoryLockoutStore();
    await lockout.tryReserve(alice, 5, NOW, NOW + DAY);
    await lockout.lock(alice, NOW + 1000, NOW + DAY);
    await expect(lockout.tryReserve(alice, 5, NOW, NOW + DAY)).resolves.toEqual({
      reserved: false,
      state: { attempts: 1, lockedUntil: NOW + 1000, expiresAt: NOW + DAY },
    });
    await lockout.clear(alice);
    await lockout.tryReserve(alice, 5, NOW, NOW + 10);
    await expect(lockout.tryReserve(alice, 5, NOW + 10, NOW + DAY)).resolves.toEqual({
      reserved: false,
      state: { attempts: 1, expiresAt: NOW + 10 },
    });
  });

  it('restart is a compare-and-set: only one of several callers that saw the same state wins', async () => {
    const lockout = new InMemoryLockoutStore();
    await lockout.tryReserve(alice, 5, NOW, NOW + 10);
    const seen = lockout.state(alice);
    const wins = await Promise.all(Array.from({ length: 10 }, () => lockout.restart(alice, seen, NOW + DAY)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(lockout.state(alice)).toEqual({ attempts: 1, expiresAt: NOW + DAY });
    await expect(lockout.restart(alice, undefined, NOW + DAY)).resolves.toBe(false);
    await lockout.clear(alice);
    await expect(lockout.restart(alice, undefined, NOW + DAY)).resolves.toBe(true);
  });

  it("lock on a missing counter (cleared by a success meanwhile) leaves it cleared, as the adapter's condition does", async () => {
    const lockout = new InMemoryLockoutStore();
    await lockout.lock(alice, NOW + 1000, NOW + DAY);
    expect(lockout.state(alice)).toBeUndefined();
    const result = await lockout.tryReserve(alice, 5, NOW + 2000, NOW + DAY);
    expect(result).toEqual({ reserved: true, attempts: 1 });
  });

  it('failNext makes the next call of one method fail once', async () => {
    const users = new InMemoryUserStore();
    users.failNext('getUser');
    await expect(users.getUser(alice)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(users.getUser(alice)).resolves.toBeUndefined();
  });

  it('the issuer records each request and answers credentials expiring after the requested duration', async () => {
    const clock = new ManualClock(NOW);
    const issuer = new InMemoryCredentialIssuer(clock);
    const credentials = await issuer.issue({ username: alice, sessionPolicy: '{}', durationSeconds: 900 });
    expect(credentials.expiration).toBe(new Date(NOW + 900_000).toISOString());
    expect(issuer.requests).toEqual([{ username: alice, sessionPolicy: '{}', durationSeconds: 900 }]);
  });
});

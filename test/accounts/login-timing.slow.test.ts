/**
 * Issue 14 item 8, measured: with the real hasher (bcryptjs), a wrong-password login for a
 * registered name, whether its hash is current or weaker (an older cost), takes as long as a
 * login for a name nobody registered. Many interleaved samples per case and a Mann-Whitney U
 * test, not a fixed threshold: the test fails when the timings are distinguishable (p < 0.001).
 * A negative control (a hasher without the padding) shows the test does detect the oracle
 * the issue reported.
 */
import bcrypt from 'bcryptjs';
import { AuthenticationError } from '../../lambda/platform/errors';
import type { Password, PasswordHasher } from '../../lambda/accounts/password';
import { BcryptPasswordHasher } from '../../lambda/accounts/password-hash';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { createServices } from '../../lambda/services';
import { inMemoryBackend, loginSession } from '../support/in-memory';
import { mannWhitney } from './mann-whitney';

const COST = 10;
const WEAKER_COST = 9;
const PASSWORD = 'correct horse battery';
const WRONG = 'not the right password';
/** Below this p-value two cases count as distinguishable. */
const ALPHA = 0.001;

/** The hasher before issue 14: a weaker hash is simply compared, so a wrong password against it is faster. */
class UnpaddedHasher implements PasswordHasher {
  private readonly current = new BcryptPasswordHasher(COST);
  hash(password: Password): Promise<string> {
    return bcrypt.hash(password, COST);
  }
  verify(password: Password, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash);
  }
  verifyAgainstDummy(password: Password): Promise<false> {
    return this.current.verifyAgainstDummy(password);
  }
  needsRehash(): boolean {
    return false;
  }
}

async function timedService(hasher: PasswordHasher) {
  // A high threshold: these samples measure the password check, not the lockout.
  const backend = inMemoryBackend({
    hasher,
    config: { bcryptCost: COST, lockoutThreshold: 100 },
    yieldEachCall: false,
  });
  const service = createServices(backend);
  await service.accounts.register(parseRegisterRequest({ username: 'current', password: PASSWORD }));
  await service.accounts.register(parseRegisterRequest({ username: 'weaker', password: PASSWORD }));
  const weaker = backend.users.all().find((user) => user.username === 'weaker')!;
  await backend.users.updateUser(weaker.username, weaker.userId, {
    passwordHash: await bcrypt.hash(PASSWORD, WEAKER_COST),
  });
  let unknown = 0;
  const names: Record<string, () => string> = {
    current: () => 'current',
    weaker: () => 'weaker',
    // A fresh name each time, as an enumerating attacker would send.
    unknown: () => `nobody${(unknown += 1)}`,
  };
  const sample = async (kind: string): Promise<number> => {
    const start = process.hrtime.bigint();
    const error = await loginSession(service, parseLoginRequest({ username: names[kind]!(), password: WRONG })).catch(
      (e: unknown) => e,
    );
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (!(error instanceof AuthenticationError)) throw new Error(`expected a 401 for ${kind}`);
    return elapsed;
  };
  return { sample };
}

/** Samples every kind `rounds` times, in a new random order each round, so drift in machine load hits all alike. */
async function measure(sample: (kind: string) => Promise<number>, kinds: readonly string[], rounds: number) {
  const times: Record<string, number[]> = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (const kind of kinds) await sample(kind); // warm-up: dummy hashes, JIT
  for (let round = 0; round < rounds; round++) {
    const order = [...kinds].sort(() => Math.random() - 0.5);
    for (const kind of order) times[kind]!.push(await sample(kind));
  }
  return times;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('issue 14 item 8: no timing oracle on login (real bcrypt, Mann-Whitney U)', () => {
  it('a wrong password for a current hash, for a weaker hash and for an unknown name are indistinguishable (p >= 0.001)', async () => {
    const { sample } = await timedService(new BcryptPasswordHasher(COST));
    const times = await measure(sample, ['unknown', 'current', 'weaker'], 24);
    const report = Object.fromEntries(
      Object.entries(times).map(([kind, values]) => [kind, `${median(values).toFixed(1)} ms median`]),
    );
    const currentVsUnknown = mannWhitney(times.current!, times.unknown!);
    const weakerVsUnknown = mannWhitney(times.weaker!, times.unknown!);
    expect({ report, p: currentVsUnknown.p > ALPHA }).toEqual({ report, p: true });
    expect({ report, p: weakerVsUnknown.p > ALPHA }).toEqual({ report, p: true });
  }, 120_000);

  it('negative control: without the padding, a weaker hash (cost 9 under 10) is told apart from an unknown name (p < 0.001)', async () => {
    const { sample } = await timedService(new UnpaddedHasher());
    const times = await measure(sample, ['unknown', 'weaker'], 15);
    expect(median(times.weaker!)).toBeLessThan(median(times.unknown!));
    expect(mannWhitney(times.weaker!, times.unknown!).p).toBeLessThan(ALPHA);
  }, 120_000);
});

describe('mannWhitney', () => {
  it('gives p near 1 for identical samples and a tiny p for separated ones', () => {
    const same = Array.from({ length: 20 }, (_, i) => i);
    expect(mannWhitney(same, same).p).toBeGreaterThan(0.9);
    const low = Array.from({ length: 20 }, (_, i) => i);
    const high = low.map((value) => value + 100);
    expect(mannWhitney(low, high).p).toBeLessThan(1e-6);
    expect(mannWhitney(low, high).u).toBe(0);
  });
});

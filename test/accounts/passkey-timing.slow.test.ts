/**
 * Issue 21 item 4, measured: a forged passwordless passkey answer carrying a registered
 * credential id takes as long as one carrying an id nobody registered (the unknown id is
 * checked against a dummy key), and gets the same refusal. Interleaved samples and a
 * Mann-Whitney U test, as for login and reset: the test fails when the timings are
 * distinguishable (p < 0.001). A negative control (an unknown id refused without a signature
 * check, as before issue 21) shows the test detects the oracle the issue reported.
 */
import { randomBytes } from 'node:crypto';
import { parsePasskeyAdd } from '../../lambda/second-factor/requests';
import { AuthenticationError } from '../../lambda/platform/errors';
import { hashChallengeToken } from '../../lambda/second-factor/challenge';
import { PASSKEY_REFUSED_MESSAGE } from '../../lambda/second-factor/mfa-login';
import { passkeyIdOf } from '../../lambda/second-factor/passkeys';
import { createServices } from '../../lambda/services';
import type { Password } from '../../lambda/accounts/password';
import { parseRegisterRequest } from '../../lambda/accounts/requests';
import { inMemoryBackend } from '../support/in-memory';
import { InMemoryMfaStore } from '../support/in-memory-mfa';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { mannWhitney } from './mann-whitney';

const PASSWORD = 'correct horse battery';
const ORIGIN = 'http://localhost:3000';
const ALPHA = 0.001;

async function timedPasskeyLogin() {
  const backend = inMemoryBackend({ yieldEachCall: false });
  const store = new InMemoryMfaStore();
  const service = createServices({ ...backend, factors: store, challenges: store });
  const { mfa } = service;
  const alice = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
  const aliceKey = new SoftAuthenticator();
  const options = (await mfa.passkeyOptions(alice.session.token, { currentPassword: PASSWORD as Password })) as {
    challenge: string;
    rp: { id?: string };
  };
  const { credential, name } = parsePasskeyAdd({
    credential: JSON.stringify(aliceKey.register(options, ORIGIN)),
    name: 'key',
  });
  await mfa.addPasskey(alice.session.token, credential, name);
  const forger = new SoftAuthenticator();

  /** The pre-issue-21 refusal of an unknown id: the owner lookup, and no signature check. */
  const withoutDummy = async (token: string, answer: unknown) => {
    await store.takeChallengeAttempt(hashChallengeToken(token), 3, backend.clock.now());
    const owner = await store.passkeyOwner(passkeyIdOf(answer) ?? '');
    if (!owner) throw new AuthenticationError('unknown');
  };

  const sample = async (kind: string): Promise<number> => {
    const { challenge, passkeyOptions } = await service.mfaLogin.passkeyLoginOptions();
    const webauthnChallenge = (passkeyOptions as { challenge: string }).challenge;
    // Both forged by a key that is not the owner's; only the id they claim differs.
    const answer = forger.assert(
      webauthnChallenge,
      ORIGIN,
      kind === 'registered' ? { id: aliceKey.id } : { id: randomBytes(16).toString('base64url') },
    );
    const start = process.hrtime.bigint();
    const error = await (kind === 'unguarded'
      ? withoutDummy(challenge.token, answer)
      : service.mfaLogin.passkeyLogin(challenge.token, answer)
    ).catch((e: unknown) => e);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (!(error instanceof AuthenticationError)) throw new Error(`expected a 401 for ${kind}`);
    if (kind !== 'unguarded' && error.message !== PASSKEY_REFUSED_MESSAGE)
      throw new Error(`a different refusal for ${kind}: ${error.message}`);
    return elapsed;
  };
  return { sample };
}

async function measure(sample: (kind: string) => Promise<number>, kinds: readonly string[], rounds: number) {
  const times: Record<string, number[]> = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (const kind of kinds) await sample(kind); // warm-up: the library's first load, JIT, the dummy key
  for (let round = 0; round < rounds; round++) {
    const order = [...kinds].sort(() => Math.random() - 0.5);
    for (const kind of order) times[kind]!.push(await sample(kind));
  }
  return times;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('issue 21 item 4: no oracle on passkey sign-in (real signatures, Mann-Whitney U)', () => {
  it('a forged answer for a registered credential id and one for an unknown id are indistinguishable (p >= 0.001)', async () => {
    const { sample } = await timedPasskeyLogin();
    const times = await measure(sample, ['registered', 'unknown'], 48);
    const report = Object.fromEntries(
      Object.entries(times).map(([kind, values]) => [kind, `${median(values).toFixed(2)} ms median`]),
    );
    const { p } = mannWhitney(times.registered!, times.unknown!);
    expect({ report, p: p > ALPHA }).toEqual({ report, p: true });
  }, 120_000);

  it('negative control: an unknown id refused without a signature check is told apart from a registered one (p < 0.001)', async () => {
    const { sample } = await timedPasskeyLogin();
    const times = await measure(sample, ['registered', 'unguarded'], 24);
    expect(median(times.unguarded!)).toBeLessThan(median(times.registered!));
    expect(mannWhitney(times.registered!, times.unguarded!).p).toBeLessThan(ALPHA);
  }, 120_000);
});

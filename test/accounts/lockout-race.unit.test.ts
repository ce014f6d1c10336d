/**
 * Rule 5 under every interleaving fast-check can find: each in-memory store call and each
 * password check is a scheduling point, and fast-check's scheduler picks their order.
 */
import fc from 'fast-check';
import { AuthenticationError, TooManyAttemptsError } from '../../lambda/platform/errors';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { createServices } from '../../lambda/services';
import { FakePasswordHasher, inMemoryBackend, loginSession } from '../support/in-memory';

const PASSWORD = 'correct horse battery';

function raceBackend() {
  let scheduler: fc.Scheduler | undefined;
  const roundTrip = () => (scheduler ? scheduler.schedule(Promise.resolve()) : Promise.resolve());
  const hasher = new FakePasswordHasher({ roundTrip });
  const backend = inMemoryBackend({ hasher, roundTrip });
  return {
    backend,
    hasher,
    service: createServices(backend),
    useScheduler: (next: fc.Scheduler | undefined) => {
      scheduler = next;
    },
  };
}

describe('rule 5: the lockout is atomic under any interleaving', () => {
  it('rule 5 (property): a burst of 6-25 parallel wrong guesses, in any order, gets at most 5 password checks, and the right password works after the cool-down', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 6, max: 25 }), fc.boolean(), async (s, guesses, knownUser) => {
        const { backend, hasher, service, useScheduler } = raceBackend();
        if (knownUser) await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
        const username = knownUser ? 'alice' : 'mallory';
        const before = hasher.checks;
        useScheduler(s);
        const burst = Promise.allSettled(
          Array.from({ length: guesses }, (_, i) =>
            loginSession(service, parseLoginRequest({ username, password: `wrong guess ${i}` })),
          ),
        );
        const results = await s.waitFor(burst);
        useScheduler(undefined);
        expect(hasher.checks - before).toBeLessThanOrEqual(5);
        const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : new Error('a wrong guess succeeded')));
        expect(reasons.every((r) => r instanceof AuthenticationError || r instanceof TooManyAttemptsError)).toBe(true);
        expect(reasons.filter((r) => r instanceof AuthenticationError)).toHaveLength(hasher.checks - before);
        backend.clock.advance(15 * 60_000);
        const after = await loginSession(service, parseLoginRequest({ username, password: PASSWORD })).then(
          () => 'accepted',
          (error: unknown) => (error instanceof AuthenticationError ? 'refused' : String(error)),
        );
        // A known user gets in with the right password; an unknown one is refused normally (not locked).
        expect(after).toBe(knownUser ? 'accepted' : 'refused');
      }),
      { numRuns: 60 },
    );
  });

  it('rule 5 (property): a burst on a counter whose cool-down just ended (restart race) still gets at most 5 checks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 6, max: 20 }), async (s, guesses) => {
        const { backend, hasher, service, useScheduler } = raceBackend();
        for (let i = 0; i < 5; i++) {
          await loginSession(service, parseLoginRequest({ username: 'mallory', password: 'first wave' })).catch(
            () => undefined,
          );
        }
        backend.clock.advance(15 * 60_000);
        const before = hasher.checks;
        useScheduler(s);
        const burst = Promise.allSettled(
          Array.from({ length: guesses }, () =>
            loginSession(service, parseLoginRequest({ username: 'mallory', password: 'second wave' })),
          ),
        );
        await s.waitFor(burst);
        useScheduler(undefined);
        expect(hasher.checks - before).toBeLessThanOrEqual(5);
      }),
      { numRuns: 60 },
    );
  });
});

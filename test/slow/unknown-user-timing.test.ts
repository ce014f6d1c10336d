/**
 * With the real hasher, an unknown username and a wrong password cost comparable time: the
 * unknown name is checked against a dummy hash of the same cost. Timing-based, so it lives
 * in the slow tier, away from the unit tests (which count hash calls instead).
 */
import { BcryptPasswordHasher } from '../../lambda/core/password';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/core/requests';
import { TvmService } from '../../lambda/core/tvm-service';
import { thrown } from '../support/async';
import { inMemoryBackend } from '../support/in-memory';

const PASSWORD = 'correct horse battery';
const WRONG = 'wrong password 1';

test('with real bcrypt (cost 10) an unknown user and a wrong password take comparable time', async () => {
  const service = new TvmService(inMemoryBackend({ hasher: new BcryptPasswordHasher(10) }));
  await service.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
  const attempt = (username: string) => service.login(parseLoginRequest({ username, password: WRONG }));
  await thrown(attempt('warmup')); // builds the dummy hash once
  const time = async (username: string) => {
    const start = performance.now();
    await thrown(attempt(username));
    return performance.now() - start;
  };
  // Alternate the two so machine load drifts over both alike; compare medians of 4 (under the lockout threshold of 5).
  const unknownTimes: number[] = [];
  const wrongTimes: number[] = [];
  for (const name of ['mallory', 'trudy', 'oscar', 'peggy']) {
    unknownTimes.push(await time(name));
    wrongTimes.push(await time('alice'));
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return ((sorted[1] ?? 0) + (sorted[2] ?? 0)) / 2;
  };
  const ratio = median(unknownTimes) / median(wrongTimes);
  // A skipped check would be near 0, a hash-then-compare near 2.
  expect(ratio).toBeGreaterThan(0.5);
  expect(ratio).toBeLessThan(1.8);
});

/**
 * Issue 14 item 8 on the reset path, measured against a real DynamoDB implementation
 * (dynalite): a wrong reset code for a registered name and for a name nobody registered take
 * the same backend calls, so their times are indistinguishable (Mann-Whitney U, p >= 0.001).
 * The negative control puts back the old shortcut (no redemption call for an unknown name,
 * one DynamoDB call less) and shows the test detects it (p < 0.001), as the issue did.
 */
import { dynamoStores, type DynamoStores } from '../../lambda/adapters/dynamo/stores';
import { AuthenticationError } from '../../lambda/platform/errors';
import { systemClock } from '../../lambda/platform/clock';
import { type ResetCodeStore } from '../../lambda/accounts/ports';
import { parseRegisterRequest, parseResetPasswordRequest } from '../../lambda/accounts/requests';
import { createServices } from '../../lambda/services';
import type { Username } from '../../lambda/accounts/username';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { inMemoryBackend } from '../support/in-memory';
import { mannWhitney } from './mann-whitney';

const TABLE = 'tvm-reset-timing';
const ALPHA = 0.001;
/** Samples per kind: one DynamoDB call (about a millisecond here) needs this many to show. */
const ROUNDS = 150;
const WRONG_CODE = '0000-0000-0000-0000';
let dynamo: TestDynamoDb;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
}, 30_000);

afterAll(async () => {
  await dynamo.stop();
});

/** The shortcut issue 14 found: an unknown name skipped the redemption call. */
function skippingUnknownNames(store: DynamoStores['resetCodes']): ResetCodeStore {
  return {
    putResetCode: (...args) => store.putResetCode(...args),
    restoreResetCode: (...args) => store.restoreResetCode(...args),
    deleteResetCode: (...args) => store.deleteResetCode(...args),
    redeemResetCode: async (username: Username, codeHash: string, now: number) =>
      username.startsWith('nobody') ? false : store.redeemResetCode(username, codeHash, now),
  };
}

async function timedResets(withShortcut: boolean, prefix: string, rounds = ROUNDS) {
  const store = dynamoStores(dynamo.client, TABLE);
  const backend = inMemoryBackend({ config: { lockoutThreshold: 1000 }, yieldEachCall: false });
  const service = createServices({
    ...backend,
    users: store.users,
    sessions: store.sessions,
    sessionWithUser: store.sessionWithUser,
    lockout: store.lockout,
    resetCodes: withShortcut ? skippingUnknownNames(store.resetCodes) : store.resetCodes,
    audit: store.audit,
    clock: systemClock,
  });
  const known = `${prefix}known`;
  await service.accounts.register(parseRegisterRequest({ username: known, password: 'correct horse battery' }));
  let unknown = 0;
  const sample = async (kind: 'known' | 'unknown'): Promise<number> => {
    const username = kind === 'known' ? known : `nobody${prefix}${(unknown += 1)}`;
    const request = parseResetPasswordRequest({
      username,
      resetCode: WRONG_CODE,
      newPassword: 'a brand new passphrase',
    });
    const start = process.hrtime.bigint();
    const error = await service.accounts.resetPassword(request).catch((e: unknown) => e);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (!(error instanceof AuthenticationError)) throw new Error(`expected a 401 for ${kind}`);
    return elapsed;
  };
  const times = { known: [] as number[], unknown: [] as number[] };
  // Warm-up: the SDK's first calls, JIT, and the common-password list's first read.
  for (let warm = 0; warm < 5; warm++) {
    await sample('known');
    await sample('unknown');
  }
  for (let round = 0; round < rounds; round++) {
    const order: Array<'known' | 'unknown'> = Math.random() < 0.5 ? ['known', 'unknown'] : ['unknown', 'known'];
    for (const kind of order) times[kind].push(await sample(kind));
  }
  return times;
}

describe('issue 14 item 8: no timing oracle on POST /password/reset (dynalite, Mann-Whitney U)', () => {
  it('a wrong code for a registered name and for an unknown one are indistinguishable (p >= 0.001)', async () => {
    const times = await timedResets(false, 'a');
    const { p } = mannWhitney(times.known, times.unknown);
    expect({ p, distinguishable: p < ALPHA }).toEqual({ p, distinguishable: false });
  }, 120_000);

  it('negative control: skipping the redemption call for unknown names is detected (p < 0.001)', async () => {
    // More rounds than the real test: the control must show power even on a busy machine.
    const times = await timedResets(true, 'b', ROUNDS * 3);
    const { p } = mannWhitney(times.known, times.unknown);
    expect({ p, distinguishable: p < ALPHA }).toEqual({ p, distinguishable: true });
  }, 120_000);
});

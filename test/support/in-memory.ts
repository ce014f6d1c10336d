/**
 * The port-level fakes for pure domain tests: a whole in-memory backend for lambda/services.ts,
 * built from the fakes of each capability (in-memory-accounts.ts, in-memory-sessions.ts,
 * in-memory-credentials.ts, in-memory-hashers.ts, in-memory-platform.ts, in-memory-mfa.ts),
 * which this module also re-exports, and the login helpers tests use.
 *
 * Every fake first yields to the event loop (like a network call would) and then checks its
 * condition and writes in one synchronous step, which is what makes it atomic: parallel
 * callers really interleave between operations, never inside one.
 */
import type { PasswordHasher } from '../../lambda/accounts/password';
import { NewPasswordPolicy } from '../../lambda/accounts/password-policy';
import { GzipCommonPasswordList } from '../../lambda/adapters/common-passwords';
import type { MfaChallengeResult, SessionResult } from '../../lambda/contract/wire';
import type { LoginRequest } from '../../lambda/accounts/requests';
import type { TvmConfig } from '../../lambda/platform/config';
import type { ServiceDependencies, Services } from '../../lambda/services';
import { InMemoryLockoutStore, InMemoryResetCodeStore, InMemoryUserStore } from './in-memory-accounts';
import { FakePasswordHasher } from './in-memory-hashers';
import { InMemoryCredentialIssuer } from './in-memory-credentials';
import { InMemoryMfaStore } from './in-memory-mfa';
import { InMemoryAuditTrail, ManualClock, MemoryLog, type FakeOptions } from './in-memory-platform';
import { InMemorySessionStore, InMemoryUsageTotals, inMemorySessionWithUser } from './in-memory-sessions';
import { InMemoryInviteStore } from './in-memory-signup';

export { InMemoryLockoutStore, InMemoryResetCodeStore, InMemoryUserStore } from './in-memory-accounts';
export { CountingHasher, FakePasswordHasher } from './in-memory-hashers';
export { InMemoryCredentialIssuer } from './in-memory-credentials';
export { InMemoryAuditTrail, ManualClock, MemoryLog, type FakeOptions, type LogEntry } from './in-memory-platform';
export { InMemorySessionStore, InMemoryUsageTotals, inMemorySessionWithUser } from './in-memory-sessions';

/** A complete, valid configuration with the documented defaults and the minimum bcrypt cost. */
export function testConfig(overrides: Partial<TvmConfig> = {}): TvmConfig {
  return {
    tableName: 'tvm-test-users',
    bucketName: 'tvm-test-files',
    vendingRoleArn: 'arn:aws:iam::123456789012:role/tvm-vending',
    region: 'eu-west-1',
    partition: 'aws',
    bcryptCost: 10,
    sessionDays: 30,
    sessionIdleDays: 14,
    maxSessions: 50,
    passwordMinCharacters: 8,
    credentialSeconds: 3600,
    lockoutThreshold: 5,
    lockoutMinutes: 15,
    auditRetentionDays: 90,
    allowedOrigins: ['*'],
    passkeyRpId: 'localhost',
    passkeyOrigins: ['http://localhost:3000'],
    passkeys: true,
    oidcProviders: [],
    vendsPerSessionPerMinute: 6,
    vendsPerUserPerMinute: 30,
    defaultQuotaBytes: 0,
    registration: 'open',
    ...overrides,
  };
}

/** Everything the services need (lambda/services.ts), in memory, with the concrete fake types exposed. */
export interface InMemoryBackend extends ServiceDependencies {
  readonly users: InMemoryUserStore;
  readonly sessions: InMemorySessionStore;
  readonly lockout: InMemoryLockoutStore;
  readonly resetCodes: InMemoryResetCodeStore;
  readonly audit: InMemoryAuditTrail;
  readonly issuer: InMemoryCredentialIssuer;
  /** The meter's totals: set a folder's bytes to put its user over quota. */
  readonly usage: InMemoryUsageTotals;
  readonly clock: ManualClock;
  readonly log: MemoryLog;
  /** One store for both second-factor ports, as in DynamoDB. */
  readonly factors: InMemoryMfaStore;
  readonly challenges: InMemoryMfaStore;
  readonly invites: InMemoryInviteStore;
}

/** The real list, loaded once per test file on first use. */
const sharedCommonPasswords = new GzipCommonPasswordList();

/** Builds a full in-memory backend; pass a hasher (e.g. BcryptPasswordHasher(10)) or get the fast fake. */
export function inMemoryBackend(
  options: { config?: Partial<TvmConfig>; hasher?: PasswordHasher; clock?: ManualClock } & FakeOptions = {},
): InMemoryBackend {
  const clock = options.clock ?? new ManualClock();
  const fakeOptions: FakeOptions = {
    yieldEachCall: options.yieldEachCall ?? true,
    ...(options.roundTrip ? { roundTrip: options.roundTrip } : {}),
  };
  const users = new InMemoryUserStore(fakeOptions);
  const sessions = new InMemorySessionStore(fakeOptions);
  const mfa = new InMemoryMfaStore();
  const usage = new InMemoryUsageTotals((username) => users.userIdOf(username));
  return {
    config: testConfig(options.config),
    users,
    sessions,
    sessionWithUser: inMemorySessionWithUser(sessions, users, usage),
    usage,
    lockout: new InMemoryLockoutStore(fakeOptions),
    resetCodes: new InMemoryResetCodeStore(fakeOptions),
    audit: new InMemoryAuditTrail(fakeOptions),
    issuer: new InMemoryCredentialIssuer(clock, fakeOptions),
    hasher: options.hasher ?? new FakePasswordHasher(fakeOptions),
    passwordPolicy: new NewPasswordPolicy(options.config?.passwordMinCharacters ?? 8, sharedCommonPasswords),
    clock,
    log: new MemoryLog(),
    factors: mfa,
    challenges: mfa,
    invites: new InMemoryInviteStore(fakeOptions),
  };
}

/** A login that must open a session: its result, or a failure if a second factor was asked for instead. */
export async function loginSession(
  services: Pick<Services, 'sessions'>,
  request: LoginRequest,
  origin?: Parameters<Services['sessions']['login']>[1],
): Promise<SessionResult> {
  const outcome = await services.sessions.login(request, origin);
  if (outcome.kind !== 'session') throw new Error('expected a session, got a second-factor challenge');
  return outcome.result;
}

/** A login that must stop at its second factor: the challenge, or a failure if a session was opened. */
export async function loginChallenge(
  services: Pick<Services, 'sessions'>,
  request: LoginRequest,
  origin?: Parameters<Services['sessions']['login']>[1],
): Promise<MfaChallengeResult> {
  const outcome = await services.sessions.login(request, origin);
  if (outcome.kind !== 'second-factor-required') throw new Error('expected a second-factor challenge, got a session');
  return outcome.result;
}

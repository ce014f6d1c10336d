import fc from 'fast-check';
import { parseRegisterRequest, parseLoginRequest } from '../../lambda/accounts/requests';
import { VEND_WINDOW_MS, secondsLeftInWindow, vendWindow } from '../../lambda/credentials/vend-limits';
import { throttledRetryAfterSeconds } from '../../lambda/adapters/sts-issuer';
import type { TvmConfig } from '../../lambda/platform/config';
import {
  AuthenticationError,
  BackendThrottledError,
  BackendUnavailableError,
  RateLimitedError,
  toErrorResponse,
} from '../../lambda/platform/errors';
import { hashSessionToken } from '../../lambda/sessions/session-token';
import { createServices } from '../../lambda/services';
import { inMemoryBackend, inMemorySessionWithUser, loginSession } from '../support/in-memory';
import { thrown } from '../support/async';

const PASSWORD = 'correct horse battery';
const DAY = 24 * 60 * 60_000;

async function setup(config: Partial<TvmConfig> = {}) {
  const backend = inMemoryBackend({ config });
  // Start on a window's first millisecond, so "the rest of this minute" is the whole minute.
  backend.clock.set(Math.ceil(backend.clock.now() / VEND_WINDOW_MS) * VEND_WINDOW_MS);
  const service = createServices(backend);
  const registered = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
  const ledger = backend.sessionWithUser as ReturnType<typeof inMemorySessionWithUser>;
  return { backend, service, token: registered.session.token, ledger };
}

const newSession = async (service: Awaited<ReturnType<typeof setup>>['service']) =>
  (await loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD }))).session.token;

describe('vend limits: a fair share of STS per session and per user', () => {
  it('a session gets vendsPerSessionPerMinute vends a minute, then 429 rate_limited with Retry-After until its minute ends', async () => {
    const { backend, service, token } = await setup({ vendsPerSessionPerMinute: 6 });
    for (let call = 0; call < 6; call++) await service.sessions.token(token);
    backend.clock.advance(15_000);
    const refused = await thrown(service.sessions.token(token));
    expect(refused).toBeInstanceOf(RateLimitedError);
    const response = toErrorResponse(refused);
    expect(response.status).toBe(429);
    expect(response.body.error.code).toBe('rate_limited');
    expect(response.headers['Retry-After']).toBe('45');
    // STS was not asked for the refused vend.
    expect(backend.issuer.requests).toHaveLength(1 + 6);
    backend.clock.advance(45_000);
    await expect(service.sessions.token(token)).resolves.toBeDefined();
  });

  it('refused attempts count: a session that keeps calling stays refused for the rest of its minute, then gets its share again', async () => {
    const { backend, service, token } = await setup({ vendsPerSessionPerMinute: 2 });
    await service.sessions.token(token);
    await service.sessions.token(token);
    for (let call = 0; call < 20; call++) {
      backend.clock.advance(1_000);
      await expect(service.sessions.token(token)).rejects.toBeInstanceOf(RateLimitedError);
    }
    backend.clock.advance(40_000);
    await service.sessions.token(token);
    await service.sessions.token(token);
    await expect(service.sessions.token(token)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('one session at its limit does not slow another session of the same user', async () => {
    const { service, token } = await setup({ vendsPerSessionPerMinute: 1 });
    const other = await newSession(service);
    await service.sessions.token(token);
    await expect(service.sessions.token(token)).rejects.toBeInstanceOf(RateLimitedError);
    await expect(service.sessions.token(other)).resolves.toBeDefined();
  });

  it('a user gets vendsPerUserPerMinute vends a minute across all their sessions', async () => {
    const { backend, service, token } = await setup({ vendsPerSessionPerMinute: 6, vendsPerUserPerMinute: 3 });
    const sessions = [token, await newSession(service), await newSession(service), await newSession(service)];
    for (const session of sessions.slice(0, 3)) await service.sessions.token(session);
    const refused = await thrown(service.sessions.token(sessions[3]!));
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(60);
    backend.clock.advance(VEND_WINDOW_MS);
    await expect(service.sessions.token(sessions[3]!)).resolves.toBeDefined();
  });

  it('parallel vends of many sessions deliver at most vendsPerUserPerMinute; the losers of the race get 429 and their audit entries say token_failed', async () => {
    const { backend, service } = await setup({ vendsPerSessionPerMinute: 6, vendsPerUserPerMinute: 3 });
    const sessions: string[] = [];
    for (let index = 0; index < 8; index++) sessions.push(await newSession(service));
    const before = backend.audit.events.length;
    const issuedBefore = backend.issuer.requests.length;
    const results = await Promise.allSettled(sessions.map((session) => service.sessions.token(session)));
    const delivered = results.filter((result) => result.status === 'fulfilled');
    expect(delivered).toHaveLength(3);
    const refusals = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(refusals.every((reason) => reason instanceof RateLimitedError)).toBe(true);
    const entries = backend.audit.events.slice(before);
    expect(entries.filter((event) => event.type === 'token_issued')).toHaveLength(3);
    // Each AssumeRole whose credentials were dropped (the user's count was full by then) is on record as failed.
    expect(entries.filter((event) => event.type === 'token_failed')).toHaveLength(
      backend.issuer.requests.length - issuedBefore - 3,
    );
    for (const event of entries.filter((candidate) => candidate.type === 'token_failed'))
      expect(event.details?.reason).toBe('user_rate_limited');
  });

  it('a stranger without a live session touches no counter: 401, and the user still gets their whole share', async () => {
    const { backend, service, token, ledger } = await setup({ vendsPerUserPerMinute: 2 });
    const issuedBefore = backend.issuer.requests.length;
    for (let call = 0; call < 10; call++)
      await expect(service.sessions.token(`alice.${String(call).padStart(43, 'x')}`)).rejects.toBeInstanceOf(
        AuthenticationError,
      );
    expect(ledger.userVendCalls.count).toBe(0);
    await service.sessions.token(token);
    await service.sessions.token(await newSession(service));
    // The login vended once, and each of the two vends once.
    expect(backend.issuer.requests.length - issuedBefore).toBe(3);
    expect(ledger.userVendCalls.count).toBe(2);
  });

  it('an idle session is not revived by /token: 401, and its last use is left as it was', async () => {
    const { backend, service, token } = await setup({ sessionIdleDays: 1 });
    const stored = () => backend.sessions.all().find((record) => record.tokenHash === hashSessionToken(token))!;
    const lastUse = stored().lastUsedAt;
    backend.clock.advance(DAY + 1);
    await expect(service.sessions.token(token)).rejects.toBeInstanceOf(AuthenticationError);
    expect(stored().lastUsedAt).toBe(lastUse);
  });

  it('a failed AssumeRole leaves no claim: the audit entry written alongside it is rewritten as token_failed before the 503', async () => {
    const { backend, service, token } = await setup();
    const before = backend.audit.events.length;
    backend.issuer.failNext();
    await expect(service.sessions.token(token)).rejects.toBeInstanceOf(BackendUnavailableError);
    const entries = backend.audit.events.slice(before);
    expect(entries.map((event) => [event.type, event.details?.reason])).toEqual([
      ['token_failed', 'backend_unavailable'],
    ]);
  });

  it('STS throttling is a 503 with a Retry-After of 1 to 4 s, and the audit entry says backend_throttled', async () => {
    const { backend, service, token } = await setup();
    const before = backend.audit.events.length;
    backend.issuer.failNext(new BackendThrottledError('STS', 3));
    const refused = await thrown(service.sessions.token(token));
    const response = toErrorResponse(refused);
    expect([response.status, response.body.error.code, response.headers['Retry-After']]).toEqual([
      503,
      'service_unavailable',
      '3',
    ]);
    expect(backend.audit.events.slice(before).map((event) => event.details?.reason)).toEqual(['backend_throttled']);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (random) => {
        const seconds = throttledRetryAfterSeconds(() => random);
        return Number.isInteger(seconds) && seconds >= 1 && seconds <= 4;
      }),
    );
  });

  it('matches a per-minute counting model for any calling pattern (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 25 }),
        async (limit, gaps) => {
          const { backend, service, token } = await setup({ vendsPerSessionPerMinute: limit });
          const attempts = new Map<number, number>();
          for (const gap of gaps) {
            backend.clock.advance(gap);
            const window = vendWindow(backend.clock.now()).index;
            const count = (attempts.get(window) ?? 0) + 1;
            attempts.set(window, count);
            const outcome = await service.sessions.token(token).then(
              () => undefined,
              (error: unknown) => error,
            );
            const expected = count <= limit ? undefined : secondsLeftInWindow(backend.clock.now());
            const got = outcome instanceof RateLimitedError ? outcome.retryAfterSeconds : outcome;
            expect(got).toBe(expected);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

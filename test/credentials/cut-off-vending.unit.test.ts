/**
 * The vending routes never hand out credentials a cut-off already denies: while the user's
 * cut-off instant (carried on the user record) lies ahead, they wait when it is a few seconds
 * away and answer 503 with Retry-After otherwise. Pure domain logic on in-memory fakes.
 */
import fc from 'fast-check';
import { AccountAdmin } from '../../lambda/operator/account-admin';
import { CutOffPendingError, toErrorResponse } from '../../lambda/platform/errors';
import { parseLoginRequest, parseRegisterRequest, parseResetPasswordRequest } from '../../lambda/accounts/requests';
import { parseMfaLogin, parseTotpConfirm, parseTotpStart } from '../../lambda/second-factor/requests';
import {
  SECOND_RESOLUTION_MS,
  VEND_WAIT_MAX_MS,
  credentialsIssuedAt,
  cutOffDelayMs,
  provisionalCutOff,
  cutOffInstant,
} from '../../lambda/credentials/revocation';
import { totpCode } from '../../lambda/second-factor/totp';
import { createServices, type Services } from '../../lambda/services';
import { parseUsername } from '../../lambda/accounts/username';
import { thrown } from '../support/async';
import {
  InMemoryCredentialIssuer,
  inMemoryBackend,
  type InMemoryBackend,
  loginChallenge,
  loginSession,
} from '../support/in-memory';
import { InMemoryMfaStore } from '../support/in-memory-mfa';

const PASSWORD = 'correct horse battery';
const alice = parseUsername('alice');

/** A backend whose sleeps move its clock, and whose STS clock may trail the functions' by `stsLagMs`. */
function setup(stsLagMs = 0) {
  const backend = inMemoryBackend();
  const slept: number[] = [];
  const issuer = new InMemoryCredentialIssuer({ now: () => backend.clock.now() - stsLagMs });
  const deps: InMemoryBackend = {
    ...backend,
    issuer,
    sleep: async (ms: number) => {
      slept.push(ms);
      backend.clock.advance(ms);
    },
  };
  return { backend: deps, service: createServices(deps), admin: new AccountAdmin(deps), slept, issuer };
}

async function registered(service: Services) {
  return service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
}

/** Puts a cut-off `aheadMs` from now on alice's record, as a revocation's commit does. */
async function cutOffAhead(backend: InMemoryBackend, aheadMs: number): Promise<number> {
  const user = (await backend.users.getUser(alice))!;
  const cutOffAt = Math.ceil((backend.clock.now() + aheadMs) / 1000) * 1000;
  await backend.users.updateUser(alice, user.userId, { cutOffAt });
  return cutOffAt;
}

const issuedAtOf = (expiration: string) => credentialsIssuedAt(expiration, 3600);

describe('vending while a cut-off instant lies ahead', () => {
  it('/token answers 503 with Retry-After, and calls no STS, when the cut-off is more than a few seconds ahead', async () => {
    const { backend, service, issuer } = setup();
    const { session } = await registered(service);
    const calls = issuer.requests.length;
    const cutOffAt = await cutOffAhead(backend, 20_000);
    const error = await thrown(service.sessions.token(session.token));
    expect(error).toBeInstanceOf(CutOffPendingError);
    const retryAfter = (error as CutOffPendingError).retryAfterSeconds;
    expect(retryAfter).toBe(Math.ceil((cutOffAt + SECOND_RESOLUTION_MS - backend.clock.now()) / 1000));
    expect(toErrorResponse(error)).toEqual({
      status: 503,
      headers: { 'Retry-After': String(retryAfter) },
      body: { error: { code: 'service_unavailable', message: expect.stringContaining('cut off') } },
    });
    expect(issuer.requests.length).toBe(calls);
  });

  it('/token after Retry-After has passed vends credentials the cut-off does not deny', async () => {
    const { backend, service } = setup();
    const { session } = await registered(service);
    const cutOffAt = await cutOffAhead(backend, 20_000);
    const error = (await thrown(service.sessions.token(session.token))) as CutOffPendingError;
    backend.clock.advance(error.retryAfterSeconds * 1000);
    const { credentials } = await service.sessions.token(session.token);
    expect(issuedAtOf(credentials.expiration)).toBeGreaterThanOrEqual(cutOffAt + SECOND_RESOLUTION_MS);
  });

  it('/token waits out a cut-off a few seconds ahead instead of answering 503', async () => {
    const { backend, service, slept } = setup();
    const { session } = await registered(service);
    const cutOffAt = await cutOffAhead(backend, 1_500);
    const { credentials } = await service.sessions.token(session.token);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeLessThanOrEqual(VEND_WAIT_MAX_MS);
    expect(issuedAtOf(credentials.expiration)).toBeGreaterThanOrEqual(cutOffAt + SECOND_RESOLUTION_MS);
  });

  it('a passed cut-off costs nothing: no wait', async () => {
    const { backend, service, slept } = setup();
    const { session } = await registered(service);
    await cutOffAhead(backend, -60_000);
    await service.sessions.token(session.token);
    expect(slept).toEqual([]);
  });

  it('login and password reset follow the same rule as /token', async () => {
    const { backend, service, admin } = setup();
    await registered(service);
    await cutOffAhead(backend, 30_000);
    expect(
      await thrown(loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD }))),
    ).toBeInstanceOf(CutOffPendingError);
    const { code } = await admin.issueResetCode(alice);
    const reset = service.accounts.resetPassword(
      parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: 'another long passphrase' }),
    );
    expect(await thrown(reset)).toBeInstanceOf(CutOffPendingError);
    // The code was given back: the reset works once the instant has passed.
    backend.clock.advance(31_000);
    const result = await service.accounts.resetPassword(
      parseResetPasswordRequest({ username: 'alice', resetCode: code, newPassword: 'another long passphrase' }),
    );
    expect(result.username).toBe('alice');
  });

  it('when STS stamps credentials before the cut-off (its clock trailing), they are dropped and asked for again', async () => {
    const { backend, service, slept, issuer } = setup(800);
    const { session } = await registered(service);
    const cutOffAt = await cutOffAhead(backend, 2_000);
    const before = issuer.requests.length;
    const { credentials } = await service.sessions.token(session.token);
    expect(issuer.requests.length - before).toBe(2);
    expect(slept).toHaveLength(2);
    expect(issuedAtOf(credentials.expiration)).toBeGreaterThanOrEqual(cutOffAt + SECOND_RESOLUTION_MS);
  });

  it('whatever the cut-off and however far STS trails, a vend returns undenied credentials or a 503 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -5_000, max: 40_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        async (aheadMs, stsLagMs) => {
          const { backend, service } = setup(stsLagMs);
          const { session } = await registered(service);
          const cutOffAt = await cutOffAhead(backend, aheadMs);
          const outcome = await service.sessions.token(session.token).then(
            ({ credentials }) => ({ issuedAt: issuedAtOf(credentials.expiration) }),
            (error: unknown) => ({ error }),
          );
          // The deny matches aws:TokenIssueTime < cutOffAt; Expiration's second resolution is allowed for.
          const undenied = 'issuedAt' in outcome && outcome.issuedAt - SECOND_RESOLUTION_MS >= cutOffAt;
          const pending =
            'error' in outcome && outcome.error instanceof CutOffPendingError && outcome.error.retryAfterSeconds > 0;
          expect(undenied || pending).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('an operator revocation stores its instant on the user record, and never moves it back', async () => {
    const { backend, service, admin } = setup();
    await registered(service);
    const later = backend.clock.now() + 30_000;
    await admin.revokeSessions(alice, 'all', later);
    expect((await backend.users.getUser(alice))?.cutOffAt).toBe(later);
    await admin.recordCredentialsRevoked(alice, later - 10_000);
    expect((await backend.users.getUser(alice))?.cutOffAt).toBe(later);
    await admin.recordCredentialsRevoked(alice, later + 5_000);
    expect((await backend.users.getUser(alice))?.cutOffAt).toBe(later + 5_000);
  });

  it('disable carries the instant in the same write that disables', async () => {
    const { backend, service, admin } = setup();
    await registered(service);
    const at = backend.clock.now() + 12_000;
    await admin.disable(alice, at);
    const user = await backend.users.getUser(alice);
    expect(user).toMatchObject({ disabled: true, cutOffAt: at, sessionGeneration: 1 });
  });
});

describe('the cut-off arithmetic', () => {
  it('a provisional instant is the post-commit one shifted by the commit allowance', () => {
    expect(provisionalCutOff(1_000_000, 10_000)).toBe(cutOffInstant(1_002_000, 10_000));
  });

  it('cutOffDelayMs is 0 without a cut-off and once issue time clears the instant by the resolution', () => {
    expect(cutOffDelayMs(undefined, 5)).toBe(0);
    expect(cutOffDelayMs(10_000, 11_000)).toBe(0);
    expect(cutOffDelayMs(10_000, 10_500)).toBe(500);
  });
});

describe('the second-factor login while a cut-off instant lies ahead', () => {
  it('answers 503 before the code or the challenge is used up, so the same code logs in once the instant has passed', async () => {
    const backend = inMemoryBackend();
    const store = new InMemoryMfaStore();
    const service = createServices({
      ...backend,
      factors: store,
      challenges: store,
      sleep: async (ms) => backend.clock.advance(ms),
    });
    const { mfa } = service;
    const { session } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    const { secret } = await mfa.startTotp(session.token, parseTotpStart({ currentPassword: PASSWORD }));
    await mfa.confirmTotp(session.token, parseTotpConfirm({ code: totpCode(secret, backend.clock.now()) }));
    backend.clock.advance(30_000);
    const challenged = await loginChallenge(service, parseLoginRequest({ username: 'alice', password: PASSWORD }));
    expect(challenged.mfaRequired).toBe(true);
    const challenge = challenged.challenge.token;
    // A revocation commits now, with its instant 10 s ahead.
    const cutOffAt = await cutOffAhead(backend, 10_000);
    const code = totpCode(secret, backend.clock.now());
    expect(await thrown(service.mfaLogin.completeLogin(parseMfaLogin({ challenge, code })))).toBeInstanceOf(
      CutOffPendingError,
    );
    backend.clock.advance(cutOffAt + SECOND_RESOLUTION_MS - backend.clock.now());
    const result = await service.mfaLogin.completeLogin(parseMfaLogin({ challenge, code }));
    expect(issuedAtOf(result.credentials.expiration)).toBeGreaterThanOrEqual(cutOffAt + SECOND_RESOLUTION_MS);
  });
});

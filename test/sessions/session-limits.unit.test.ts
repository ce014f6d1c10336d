/**
 * Session management beyond the lifetime (ASVS 7.1.1, 7.1.2, 7.3.1, 7.3.2): the inactivity
 * timeout and the cap on live sessions per user, on the in-memory fakes.
 */
import type { TvmConfig } from '../../lambda/platform/config';
import { AuthenticationError } from '../../lambda/platform/errors';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { createServices, type Services } from '../../lambda/services';
import { thrown } from '../support/async';
import { inMemoryBackend, loginSession } from '../support/in-memory';

const PASSWORD = 'correct horse battery';
const DAY = 24 * 60 * 60 * 1000;

function setup(config: Partial<TvmConfig> = {}) {
  const backend = inMemoryBackend({ config });
  return { backend, service: createServices(backend) };
}

const login = (service: Services, device?: string) =>
  loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD, ...(device ? { device } : {}) }));

describe('inactivity timeout (ASVS 7.3.1; default 14 days)', () => {
  it('a session unused for 14 days is refused, though its 30-day lifetime has not ended', async () => {
    const { backend, service } = setup();
    const { session } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    backend.clock.advance(14 * DAY - 1);
    const other = await login(service);
    backend.clock.advance(1);
    expect(await thrown(service.sessions.token(session.token))).toBeInstanceOf(AuthenticationError);
    expect(await thrown(service.sessions.logout(session.token))).toBeInstanceOf(AuthenticationError);
    await expect(service.sessions.token(other.session.token)).resolves.toBeDefined();
  });

  it('each use moves the timeout: a session used every 13 days lives until its absolute lifetime (ASVS 7.3.2)', async () => {
    const { backend, service } = setup();
    const { session } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    for (let day = 13; day < 30; day += 13) {
      backend.clock.advance(13 * DAY);
      await expect(service.sessions.token(session.token)).resolves.toBeDefined();
    }
    backend.clock.advance(4 * DAY); // day 30
    expect(await thrown(service.sessions.token(session.token))).toBeInstanceOf(AuthenticationError);
  });

  it('the timeout is configurable (SESSION_IDLE_DAYS)', async () => {
    const { backend, service } = setup({ sessionIdleDays: 1 });
    const { session } = await service.accounts.register(
      parseRegisterRequest({ username: 'alice', password: PASSWORD }),
    );
    backend.clock.advance(DAY);
    expect(await thrown(service.sessions.token(session.token))).toBeInstanceOf(AuthenticationError);
  });

  it('idle sessions drop out of GET /sessions', async () => {
    const { backend, service } = setup({ sessionIdleDays: 2 });
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    backend.clock.advance(DAY);
    const recent = await login(service, 'phone');
    backend.clock.advance(DAY);
    expect((await service.sessions.listSessions(recent.session.token)).map((session) => session.device)).toEqual([
      'phone',
    ]);
  });
});

describe('live sessions per user (ASVS 7.1.1, 7.1.2; default 50)', () => {
  it('issue 14: 150 logins leave 50 live sessions, the newest; the oldest were ended', async () => {
    const { backend, service } = setup();
    const first = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    let last = first;
    for (let i = 0; i < 150; i++) {
      backend.clock.advance(1000);
      last = await login(service, `device ${i}`);
    }
    const live = await service.sessions.listSessions(last.session.token);
    expect(live).toHaveLength(50);
    expect(live[0]?.device).toBe('device 100');
    expect(live.at(-1)).toMatchObject({ device: 'device 149', current: true });
    expect(await thrown(service.sessions.token(first.session.token))).toBeInstanceOf(AuthenticationError);
  });

  it('the user can see which sessions the cap ended: one audit event each, with the session id', async () => {
    const { backend, service } = setup({ maxSessions: 2 });
    const first = await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    const [registered] = await service.sessions.listSessions(first.session.token);
    backend.clock.advance(1000);
    await login(service);
    backend.clock.advance(1000);
    await login(service);
    const ended = backend.audit.events.filter((event) => event.type === 'session_ended_over_cap');
    expect(ended).toEqual([expect.objectContaining({ details: { sessionId: registered?.id, maxSessions: 2 } })]);
  });

  it('a failure while ending sessions over the cap does not fail the login', async () => {
    const { backend, service } = setup({ maxSessions: 1 });
    await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
    backend.sessions.failNext('listSessions');
    await expect(login(service)).resolves.toBeDefined();
    expect(backend.log.entries.some((entry) => entry.message.startsWith('Could not end sessions over the cap'))).toBe(
      true,
    );
  });
});

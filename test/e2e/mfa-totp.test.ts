/**
 * TOTP end to end against the sandbox (the real handlers on function threads, dynalite, the
 * local STS): enrolment with step-up, login with a challenge, replay and recovery codes, the
 * reset rule, removal, and tvm-admin's `mfa show` and `mfa reset`. Codes are computed here as
 * an authenticator app would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { totpCode, totpStep } from '../../lambda/core/mfa/totp';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { postJson, register, runAdmin, s3ClientFor, sandboxForThisFile, type VendResponse } from './helpers';

const PASSWORD = 'correct horse battery';
const sandbox = sandboxForThisFile('tvm-mfa-e2e-');

const api = (path: string) => `${sandbox().apiUrl}${path}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

// The answers are checked field by field with expect; a loose type keeps that readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function send(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(api(path), {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(token ? bearer(token) : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** An authenticator app: each code it gives is for a later step than the last one (the server refuses replays). */
class Authenticator {
  private lastStep = -1;
  constructor(readonly secret: string) {}
  async code(): Promise<string> {
    let step = Math.max(totpStep(Date.now()), this.lastStep + 1);
    // The server accepts one step ahead; beyond that, wait for the clock.
    while (step > totpStep(Date.now()) + 1) await sleep(500);
    step = Math.max(step, totpStep(Date.now()));
    this.lastStep = step;
    return totpCode(this.secret, step * 30_000);
  }
  /** A code that is none of the ones the server would accept now. */
  wrongCode(): string {
    const near = [-1, 0, 1].map((delta) => totpCode(this.secret, Date.now() + delta * 30_000));
    return ['000000', '111111', '222222', '333333'].find((code) => !near.includes(code))!;
  }
}

async function enrol(username: string): Promise<{ session: VendResponse; app: Authenticator; recoveryCodes: string[] }> {
  const session = await register(sandbox().apiUrl, username, PASSWORD);
  const started = await send('POST', '/mfa/totp', { currentPassword: PASSWORD }, session.session.token);
  expect(started.status).toBe(200);
  const app = new Authenticator(started.body.secret);
  const confirmed = await send('POST', '/mfa/totp/confirm', { code: await app.code() }, session.session.token);
  expect(confirmed.status).toBe(200);
  return { session, app, recoveryCodes: confirmed.body.recoveryCodes };
}

async function challenge(username: string): Promise<string> {
  const { status, body } = await postJson(api('/login'), { username, password: PASSWORD });
  expect(status).toBe(200);
  return (body as { challenge: { token: string } }).challenge.token;
}

const admin = (...args: string[]) => runAdmin(args);

it('enrols TOTP after the current password, and then login answers a challenge with no session or credentials', async () => {
  const session = await register(sandbox().apiUrl, 'mfa-alice', PASSWORD);
  const token = session.session.token;
  expect((await send('POST', '/mfa/totp', { currentPassword: 'not the password' }, token)).status).toBe(401);
  expect((await send('POST', '/mfa/totp', { currentPassword: PASSWORD })).status).toBe(401);
  const started = await send('POST', '/mfa/totp', { currentPassword: PASSWORD }, token);
  expect(started.status).toBe(200);
  expect(started.body.secret).toMatch(/^[A-Z2-7]{32}$/);
  expect(started.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/.*mfa-alice.*secret=/);
  expect((await send('GET', '/mfa', undefined, token)).body).toEqual({ totp: { enrolled: false }, recoveryCodesLeft: 0, passkeys: [] });

  const app = new Authenticator(started.body.secret);
  expect((await send('POST', '/mfa/totp/confirm', { code: 'abcdef' }, token)).status).toBe(400);
  const confirmed = await send('POST', '/mfa/totp/confirm', { code: await app.code() }, token);
  expect(confirmed.status).toBe(200);
  expect(confirmed.body.recoveryCodes).toHaveLength(10);
  expect((await send('GET', '/mfa', undefined, token)).body).toMatchObject({ totp: { enrolled: true }, recoveryCodesLeft: 10 });

  const login = await postJson(api('/login'), { username: 'mfa-alice', password: PASSWORD });
  expect(login.status).toBe(200);
  expect(login.body).toEqual({
    mfaRequired: true,
    challenge: { token: expect.any(String), expiresAt: expect.any(String) },
    methods: ['totp', 'recovery_code'],
    deviceToken: expect.any(String),
  });
  expect(login.body).not.toHaveProperty('session');
  expect(login.body).not.toHaveProperty('credentials');
  expect(Date.parse((login.body as { challenge: { expiresAt: string } }).challenge.expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);

  const wrongPassword = await postJson(api('/login'), { username: 'mfa-alice', password: 'not the password' });
  const unknown = await postJson(api('/login'), { username: 'mfa-nobody', password: 'not the password' });
  expect(wrongPassword).toEqual(unknown);
});

it('completes a login with a code, refuses the same code again, and the vended credentials reach the user\'s folder', async () => {
  const { app } = await enrol('mfa-bob');
  const code = await app.code();
  const first = await postJson(api('/login/mfa'), { challenge: await challenge('mfa-bob'), code });
  expect(first.status).toBe(200);
  const vended = first.body as VendResponse;
  expect(vended).toMatchObject({ username: 'mfa-bob', session: { token: expect.any(String) }, storage: { prefix: 'mfa-bob/' } });
  await expect(s3ClientFor(vended).send(new ListObjectsV2Command({ Bucket: vended.storage.bucket, Prefix: vended.storage.prefix }))).resolves.toBeDefined();

  const replay = await postJson(api('/login/mfa'), { challenge: await challenge('mfa-bob'), code });
  expect(replay.status).toBe(401);
  expect((await postJson(api('/login/mfa'), { challenge: 'x'.repeat(43), code: '123456' })).status).toBe(401);
  expect((await postJson(api('/login/mfa'), { challenge: await challenge('mfa-bob') })).status).toBe(400);
});

it('accepts a recovery code once', async () => {
  const { recoveryCodes } = await enrol('mfa-carol');
  expect((await postJson(api('/login/mfa'), { challenge: await challenge('mfa-carol'), recoveryCode: recoveryCodes[0] })).status).toBe(200);
  expect((await postJson(api('/login/mfa'), { challenge: await challenge('mfa-carol'), recoveryCode: recoveryCodes[0] })).status).toBe(401);
});

it('a reset code alone does not reset an enrolled user\'s password; with a code from the app it does', async () => {
  const { app } = await enrol('mfa-dave');
  const issued = await admin('--json', 'reset-code', 'mfa-dave');
  expect(issued.code).toBe(0);
  const resetCode = (JSON.parse(issued.out) as { code: string }).code;
  const alone = await postJson(api('/password/reset'), { username: 'mfa-dave', resetCode, newPassword: 'a new long passphrase' });
  expect(alone.status).toBe(401);
  expect(alone.body).toMatchObject({ error: { code: 'second_factor_required' } });
  const withCode = await postJson(api('/password/reset'), { username: 'mfa-dave', resetCode, newPassword: 'a new long passphrase', code: await app.code() });
  expect(withCode.status).toBe(200);
});

it('removes TOTP only with a fresh code, after which login needs only the password', async () => {
  const { session, app } = await enrol('mfa-erin');
  const token = session.session.token;
  expect((await send('DELETE', '/mfa/totp', {}, token)).status).toBe(400);
  expect((await send('DELETE', '/mfa/totp', { code: app.wrongCode() }, token)).status).toBe(401);
  expect((await send('DELETE', '/mfa/totp', { code: await app.code() }, token)).status).toBe(204);
  const login = await postJson(api('/login'), { username: 'mfa-erin', password: PASSWORD });
  expect(login.status).toBe(200);
  expect(login.body).toMatchObject({ username: 'mfa-erin', session: { token: expect.any(String) } });
});

it('tvm-admin shows a user\'s factors and resets them, audited', async () => {
  await enrol('mfa-frank');
  const shown = await admin('--json', 'mfa', 'show', 'mfa-frank');
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.out)).toMatchObject({ username: 'mfa-frank', totp: { enrolled: true }, recoveryCodesLeft: 10 });
  expect(shown.out).not.toMatch(/secret/i);
  expect((await admin('mfa', 'reset', 'mfa-frank')).code).toBe(0);
  const login = await postJson(api('/login'), { username: 'mfa-frank', password: PASSWORD });
  expect(login.body).toMatchObject({ session: { token: expect.any(String) } });
  const audit = await admin('--json', 'audit', 'mfa-frank');
  const types = (JSON.parse(audit.out) as Array<{ type: string }>).map((event) => event.type);
  expect(types).toEqual(expect.arrayContaining(['totp_pending', 'totp_enrolled', 'mfa_reset']));
  expect((await admin('mfa', 'show', 'nobody-here')).code).toBe(1);
});

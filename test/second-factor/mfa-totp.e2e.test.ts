/**
 * TOTP end to end against the sandbox (the real handlers on function threads, dynalite, the
 * local STS): enrolment with step-up, login with a challenge, replay and recovery codes, the
 * reset rule, removal, and tvm-admin's `mfa show` and `mfa reset`. Codes are computed here as
 * an authenticator app would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { totpCode, totpStep } from '../../lambda/second-factor/totp';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { postJson, register, runAdmin, s3ClientFor, sandboxForThisFile, type VendResponse } from '../support/e2e';

const PASSWORD = 'correct horse battery';
const sandbox = sandboxForThisFile('tvm-mfa-e2e-');

const api = (path: string) => `${sandbox().apiUrl}${path}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

// The answers are checked field by field with expect; a loose type keeps that readable.
async function send(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
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

async function enrol(
  username: string,
): Promise<{ session: VendResponse; app: Authenticator; recoveryCodes: string[] }> {
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
  expect((await send('GET', '/mfa', undefined, token)).body).toEqual({
    totp: { enrolled: false },
    recoveryCodesLeft: 0,
    passkeys: [],
  });

  const app = new Authenticator(started.body.secret);
  expect((await send('POST', '/mfa/totp/confirm', { code: 'abcdef' }, token)).status).toBe(400);
  const confirmed = await send('POST', '/mfa/totp/confirm', { code: await app.code() }, token);
  expect(confirmed.status).toBe(200);
  expect(confirmed.body.recoveryCodes).toHaveLength(10);
  expect((await send('GET', '/mfa', undefined, token)).body).toMatchObject({
    totp: { enrolled: true },
    recoveryCodesLeft: 10,
  });

  const login = await postJson(api('/login'), { username: 'mfa-alice', password: PASSWORD });
  expect(login.status).toBe(200);
  expect(login.body).toEqual({
    mfaRequired: true,
    challenge: { token: expect.any(String), expiresAt: expect.any(String) },
    methods: ['totp', 'recovery_code'],
  });
  // The right password alone earns no device token: only the completed second factor does.
  expect(login.body).not.toHaveProperty('deviceToken');
  expect(login.body).not.toHaveProperty('session');
  expect(login.body).not.toHaveProperty('credentials');
  expect(
    Date.parse((login.body as { challenge: { expiresAt: string } }).challenge.expiresAt) - Date.now(),
  ).toBeLessThanOrEqual(5 * 60_000);

  const wrongPassword = await postJson(api('/login'), { username: 'mfa-alice', password: 'not the password' });
  const unknown = await postJson(api('/login'), { username: 'mfa-nobody', password: 'not the password' });
  expect(wrongPassword).toEqual(unknown);
});

it("completes a login with a code, refuses the same code again, and the vended credentials reach the user's folder", async () => {
  const { app } = await enrol('mfa-bob');
  const code = await app.code();
  const first = await postJson(api('/login/mfa'), { challenge: await challenge('mfa-bob'), code });
  expect(first.status).toBe(200);
  const vended = first.body as VendResponse;
  expect(vended).toMatchObject({
    username: 'mfa-bob',
    session: { token: expect.any(String) },
    storage: { prefix: 'mfa-bob/' },
  });
  await expect(
    s3ClientFor(vended).send(
      new ListObjectsV2Command({ Bucket: vended.storage.bucket, Prefix: vended.storage.prefix }),
    ),
  ).resolves.toBeDefined();

  const replay = await postJson(api('/login/mfa'), { challenge: await challenge('mfa-bob'), code });
  expect(replay.status).toBe(401);
  expect((await postJson(api('/login/mfa'), { challenge: 'x'.repeat(43), code: '123456' })).status).toBe(401);
  expect((await postJson(api('/login/mfa'), { challenge: await challenge('mfa-bob') })).status).toBe(400);
});

it('accepts a recovery code once', async () => {
  const { recoveryCodes } = await enrol('mfa-carol');
  expect(
    (await postJson(api('/login/mfa'), { challenge: await challenge('mfa-carol'), recoveryCode: recoveryCodes[0] }))
      .status,
  ).toBe(200);
  expect(
    (await postJson(api('/login/mfa'), { challenge: await challenge('mfa-carol'), recoveryCode: recoveryCodes[0] }))
      .status,
  ).toBe(401);
});

it("a reset code alone does not reset an enrolled user's password; with a code from the app it does", async () => {
  const { app } = await enrol('mfa-dave');
  const issued = await admin('--json', 'reset-code', 'mfa-dave');
  expect(issued.code).toBe(0);
  const resetCode = (JSON.parse(issued.out) as { code: string }).code;
  const alone = await postJson(api('/password/reset'), {
    username: 'mfa-dave',
    resetCode,
    newPassword: 'a new long passphrase',
  });
  expect(alone.status).toBe(401);
  expect(alone.body).toMatchObject({ error: { code: 'second_factor_required' } });
  const withCode = await postJson(api('/password/reset'), {
    username: 'mfa-dave',
    resetCode,
    newPassword: 'a new long passphrase',
    code: await app.code(),
  });
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

it("tvm-admin shows a user's factors and resets them, audited", async () => {
  await enrol('mfa-frank');
  const shown = await admin('--json', 'mfa', 'show', 'mfa-frank');
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.out)).toMatchObject({
    username: 'mfa-frank',
    totp: { enrolled: true },
    recoveryCodesLeft: 10,
  });
  expect(shown.out).not.toMatch(/secret/i);
  expect((await admin('mfa', 'reset', 'mfa-frank')).code).toBe(0);
  const login = await postJson(api('/login'), { username: 'mfa-frank', password: PASSWORD });
  expect(login.body).toMatchObject({ session: { token: expect.any(String) } });
  const audit = await admin('--json', 'audit', 'mfa-frank');
  const types = (JSON.parse(audit.out) as Array<{ type: string }>).map((event) => event.type);
  expect(types).toEqual(expect.arrayContaining(['totp_pending', 'totp_enrolled', 'mfa_reset']));
  expect((await admin('mfa', 'show', 'nobody-here')).code).toBe(1);
});

describe('issue 21: attackers against the sandbox', () => {
  const origin = () => `http://localhost:${new URL(sandbox().apiUrl).port}`;

  /** Registers a passkey held by `key` for `token` after `proof`; the answer's status and body. */
  async function addPasskey(token: string, key: SoftAuthenticator, proof: object) {
    const options = await send('POST', '/mfa/passkeys/options', proof, token);
    if (options.status !== 200) return options;
    return send(
      'POST',
      '/mfa/passkeys',
      { credential: JSON.stringify(key.register(options.body, origin())), name: 'key' },
      token,
    );
  }

  async function passwordless(key: SoftAuthenticator, as: Parameters<SoftAuthenticator['assert']>[2] = {}) {
    const started = await send('POST', '/login/passkey/options');
    const answer = key.assert(started.body.passkeyOptions.challenge, origin(), as);
    return send('POST', '/login/passkey', {
      challenge: started.body.challenge.token,
      credential: JSON.stringify(answer),
    });
  }

  it("a password thief's wrong codes and a stranger's forged passkey answers never lock the owner's trusted device", async () => {
    // Recovery codes where a code would make the test wait for the next time step.
    const { session, app, recoveryCodes } = await enrol('mfa-grace');
    const key = new SoftAuthenticator();
    expect((await addPasskey(session.session.token, key, { recoveryCode: recoveryCodes[0] })).status).toBe(201);
    // The owner's device earns its token by completing the second factor.
    const ownerLogin = await postJson(api('/login'), { username: 'mfa-grace', password: PASSWORD });
    const owned = await send('POST', '/login/mfa', {
      challenge: (ownerLogin.body as { challenge: { token: string } }).challenge.token,
      recoveryCode: recoveryCodes[1],
    });
    expect(owned.status).toBe(200);
    const deviceToken: string = owned.body.deviceToken;
    expect(deviceToken).toMatch(/^[\w-]{43}$/);
    // The thief: ten password-only logins (no token earned) and five wrong codes; then 429.
    for (let i = 0; i < 10; i++)
      expect((await postJson(api('/login'), { username: 'mfa-grace', password: PASSWORD })).body).not.toHaveProperty(
        'deviceToken',
      );
    for (let i = 0; i < 5; i++)
      expect(
        (await send('POST', '/login/mfa', { challenge: await challenge('mfa-grace'), code: app.wrongCode() })).status,
      ).toBe(401);
    expect(
      (await send('POST', '/login/mfa', { challenge: await challenge('mfa-grace'), code: app.wrongCode() })).status,
    ).toBe(429);
    // The stranger, no password: forged answers carrying the owner's credential id.
    const forger = new SoftAuthenticator();
    for (let i = 0; i < 6; i++) expect((await passwordless(forger, { id: key.id })).status).toBe(401);
    // The owner, on the trusted device, with the password and a code; and with the passkey alone.
    const back = await postJson(api('/login'), { username: 'mfa-grace', password: PASSWORD, deviceToken });
    expect(
      (
        await send('POST', '/login/mfa', {
          challenge: (back.body as { challenge: { token: string } }).challenge.token,
          code: await app.code(),
        })
      ).status,
    ).toBe(200);
    expect((await passwordless(key)).status).toBe(200);
  });

  it("another account cannot take a passkey's credential id, and a forged answer for it reads as one for an unknown id", async () => {
    const alice = await register(sandbox().apiUrl, 'mfa-heidi', PASSWORD);
    const key = new SoftAuthenticator();
    expect((await addPasskey(alice.session.token, key, { currentPassword: PASSWORD })).status).toBe(201);
    const mallory = await register(sandbox().apiUrl, 'mfa-mallory', PASSWORD);
    const taken = await addPasskey(mallory.session.token, new SoftAuthenticator({ id: key.id }), {
      currentPassword: PASSWORD,
    });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'already_enrolled' } } });
    const forger = new SoftAuthenticator();
    const registered = await passwordless(forger, { id: key.id });
    const unknown = await passwordless(forger);
    expect(registered).toEqual(unknown);
    expect((await passwordless(key)).body).toMatchObject({ username: 'mfa-heidi' });
  });

  it("a stolen session with the phished password cannot add a passkey, end the owner's sessions or change the password", async () => {
    const { session, app, recoveryCodes } = await enrol('mfa-ivan');
    const other = await send('POST', '/login/mfa', {
      challenge: await challenge('mfa-ivan'),
      recoveryCode: recoveryCodes[0],
    });
    const stolen = other.body.session.token as string;
    const refused = { status: 401, body: { error: { code: 'second_factor_required' } } };
    expect(await send('POST', '/mfa/passkeys/options', { currentPassword: PASSWORD }, stolen)).toMatchObject(refused);
    const sessions = await send('GET', '/sessions', undefined, stolen);
    const ownerId = (sessions.body.sessions as Array<{ id: string; current: boolean }>).find(
      (entry) => !entry.current,
    )!.id;
    expect(await send('DELETE', `/sessions/${ownerId}`, { currentPassword: PASSWORD }, stolen)).toMatchObject(refused);
    expect(
      await send('POST', '/password', { currentPassword: PASSWORD, newPassword: "the thief's new password" }, stolen),
    ).toMatchObject(refused);
    expect((await send('GET', '/mfa', undefined, session.session.token)).status).toBe(200);
    // The owner, with a code, changes the password.
    expect(
      (
        await send(
          'POST',
          '/password',
          { currentPassword: PASSWORD, newPassword: "the owner's new password", code: await app.code() },
          session.session.token,
        )
      ).status,
    ).toBe(200);
  });

  it('passwordless sign-in is no oracle: a registered id (with or without userHandle) and an unknown id get the same status, body and headers', async () => {
    const owner = await register(sandbox().apiUrl, 'mfa-olivia', PASSWORD);
    const key = new SoftAuthenticator();
    expect((await addPasskey(owner.session.token, key, { currentPassword: PASSWORD })).status).toBe(201);
    const shape = async (as: Parameters<SoftAuthenticator['assert']>[2]) => {
      const started = await send('POST', '/login/passkey/options');
      const answer = new SoftAuthenticator().assert(started.body.passkeyOptions.challenge, origin(), as);
      const response = await fetch(api('/login/passkey'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ challenge: started.body.challenge.token, credential: JSON.stringify(answer) }),
      });
      // Per-response values (date, request ids) differ for any two requests; everything else must not.
      const headers = [...response.headers.entries()].filter(
        ([name]) => !/^(date|x-amzn-requestid|x-request-id|apigw-requestid)$/i.test(name),
      );
      return {
        status: response.status,
        body: await response.text(),
        headers: headers.map(([name, value]) => (name === 'content-length' ? [name, ''] : [name, value])),
      };
    };
    const unknown = await shape({});
    expect(unknown.status).toBe(401);
    expect(await shape({ id: key.id })).toEqual(unknown);
    expect(await shape({ id: key.id, userHandle: 'someone else' })).toEqual(unknown);
    expect(await shape({ userHandle: 'someone else' })).toEqual(unknown);
  });

  it("password-only account: a thief's 20 logins, then 5 wrong guesses, leave the owner's trusted device able to log in", async () => {
    const owner = (await send('POST', '/register', { username: 'mfa-peggy', password: PASSWORD })).body as {
      deviceToken: string;
    };
    const thiefTokens = [];
    for (let i = 0; i < 20; i++)
      thiefTokens.push((await send('POST', '/login', { username: 'mfa-peggy', password: PASSWORD })).body.deviceToken);
    expect(thiefTokens.filter((token) => token !== undefined)).toHaveLength(9);
    for (let i = 0; i < 5; i++)
      expect((await send('POST', '/login', { username: 'mfa-peggy', password: 'a wrong guess here' })).status).toBe(
        401,
      );
    expect((await send('POST', '/login', { username: 'mfa-peggy', password: PASSWORD })).status).toBe(429);
    const back = await send('POST', '/login', {
      username: 'mfa-peggy',
      password: PASSWORD,
      deviceToken: owner.deviceToken,
    });
    expect(back).toMatchObject({ status: 200, body: { username: 'mfa-peggy', deviceToken: owner.deviceToken } });
  });

  it('one passkey step-up answer sent to three routes at once proves one change', async () => {
    const owner = await register(sandbox().apiUrl, 'mfa-rupert', PASSWORD);
    const key = new SoftAuthenticator({ withoutCounter: true });
    expect((await addPasskey(owner.session.token, key, { currentPassword: PASSWORD })).status).toBe(201);
    const started = await send('POST', '/login/passkey/options');
    const proof = {
      challenge: started.body.challenge.token,
      passkey: JSON.stringify(key.assert(started.body.passkeyOptions.challenge, origin())),
    };
    const statuses = await Promise.all([
      send('POST', '/mfa/totp', proof, owner.session.token),
      send('POST', '/mfa/passkeys/options', proof, owner.session.token),
      send('POST', '/mfa/totp', proof, owner.session.token),
    ]).then((answers) => answers.map((answer) => answer.status));
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
  });

  it('refuses passwords and labels with a lone surrogate (400), where they used to equal U+FFFD', async () => {
    const refused = await postJson(api('/register'), { username: 'mfa-judy', password: '\ud800X long password' });
    expect(refused).toMatchObject({ status: 400, body: { error: { field: 'password' } } });
    await register(sandbox().apiUrl, 'mfa-judy', '\ufffdX long password');
    expect(await postJson(api('/login'), { username: 'mfa-judy', password: '\udfffX long password' })).toMatchObject({
      status: 400,
    });
    expect(
      await postJson(api('/login'), {
        username: 'mfa-judy',
        password: '\ufffdX long password',
        device: 'phone \udc00',
      }),
    ).toMatchObject({ status: 400, body: { error: { field: 'device' } } });
  });
});

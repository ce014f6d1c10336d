/**
 * Accounts against dynalite: password change and reset, device sessions, disabled users and
 * the audit trail, through the real handlers; operator actions through AccountAdmin on the
 * same table, as tvm-admin runs them.
 */
import '../support/handler-env';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { accountAdmin } from '../../admin/operations';
import type { AccountAdmin } from '../../lambda/operator/account-admin';
import { parseUsername } from '../../lambda/accounts/username';
import { bearerPost, bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { fakeDateOnly } from '../support/async';

const TABLE = 'tvm-accounts-users';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'new staple battery horse';
const sts = mockClient(STSClient);
const context = lambdaContext();
let dynamo: TestDynamoDb;
let admin: AccountAdmin;
const handlers: Record<string, Handler> = {};
let counter = 0;
const newUsername = () => `acct-${++counter}-${Date.now().toString(36)}`;

type SessionBody = { session: { token: string } };

function withOrigin(event: APIGatewayProxyEvent, sourceIp: string, userAgent: string): APIGatewayProxyEvent {
  return {
    ...event,
    headers: { ...event.headers, 'User-Agent': userAgent },
    requestContext: { identity: { sourceIp } } as APIGatewayProxyEvent['requestContext'],
  };
}

function bearerRequest(
  method: string,
  path: string,
  token: string,
  pathParameters?: Record<string, string>,
): APIGatewayProxyEvent {
  return { ...bearerPost(path, token), httpMethod: method, pathParameters: pathParameters ?? null };
}

async function registerUser(username: string): Promise<string> {
  const result = await handlers.register!(jsonPost('/register', { username, password: PASSWORD }), context);
  expect(result.statusCode).toBe(201);
  return bodyOf<SessionBody>(result).session.token;
}

async function loginUser(username: string, password = PASSWORD, device?: string) {
  return handlers.login!(jsonPost('/login', { username, password, ...(device ? { device } : {}) }), context);
}

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  for (const name of [
    'register',
    'login',
    'token',
    'logout',
    'password',
    'password-reset',
    'sessions-list',
    'session-revoke',
  ]) {
    handlers[name] = (await import(`../../lambda/handlers/${name}`)).handler as Handler;
  }
  // The same AccountAdmin tvm-admin builds for a target.
  admin = accountAdmin(
    { dynamo: dynamo.client, tableName: TABLE },
    { info: () => undefined, warn: () => undefined, error: () => undefined },
  );
});

beforeEach(() => {
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: 'ASIAACCOUNTS',
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
});

afterEach(() => jest.useRealTimers());

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await dynamo.stop();
});

describe('POST /password', () => {
  it('changes the password, revokes every other session and the old token, and returns a new session', async () => {
    const username = newUsername();
    const first = await registerUser(username);
    const second = bodyOf<SessionBody>(await loginUser(username)).session.token;
    const changed = await handlers.password!(
      {
        ...jsonPost('/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${first}` },
      },
      context,
    );
    expect(changed.statusCode).toBe(200);
    const fresh = bodyOf<SessionBody>(changed).session.token;
    expect((await handlers.token!(bearerPost('/token', second), context)).statusCode).toBe(401);
    expect((await handlers.token!(bearerPost('/token', first), context)).statusCode).toBe(401);
    expect((await handlers.token!(bearerPost('/token', fresh), context)).statusCode).toBe(200);
    expect((await loginUser(username)).statusCode).toBe(401);
    expect((await loginUser(username, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('refuses a wrong current password with 401 and changes nothing', async () => {
    const username = newUsername();
    const token = await registerUser(username);
    const refused = await handlers.password!(
      {
        ...jsonPost('/password', { currentPassword: 'not my password', newPassword: NEW_PASSWORD }),
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      },
      context,
    );
    expect(refused.statusCode).toBe(401);
    expect((await handlers.token!(bearerPost('/token', token), context)).statusCode).toBe(200);
    expect((await loginUser(username)).statusCode).toBe(200);
  });
});

describe('POST /password/reset', () => {
  const reset = (username: string, resetCode: string, newPassword = NEW_PASSWORD) =>
    handlers['password-reset']!(jsonPost('/password/reset', { username, resetCode, newPassword }), context);

  it('accepts an operator code once, revokes old sessions, and answers like login', async () => {
    const username = newUsername();
    const oldToken = await registerUser(username);
    const { code } = await admin.issueResetCode(parseUsername(username));
    const redeemed = await reset(username, code.toLowerCase());
    expect(redeemed.statusCode).toBe(200);
    expect(bodyOf(redeemed)).toMatchObject({
      username,
      session: { token: expect.any(String) },
      storage: { prefix: `${username}/` },
    });
    expect((await handlers.token!(bearerPost('/token', oldToken), context)).statusCode).toBe(401);
    expect((await loginUser(username, NEW_PASSWORD)).statusCode).toBe(200);
    const again = await reset(username, code, 'yet another new password');
    expect(again.statusCode).toBe(401);
    expect((await loginUser(username, 'yet another new password')).statusCode).toBe(401);
  });

  it('refuses a code after its hour is up', async () => {
    const start = Date.now();
    fakeDateOnly(start);
    const username = newUsername();
    await registerUser(username);
    const { code } = await admin.issueResetCode(parseUsername(username));
    jest.setSystemTime(start + 60 * 60_000 + 1_000);
    expect((await reset(username, code)).statusCode).toBe(401);
    expect((await loginUser(username)).statusCode).toBe(200);
  });

  it('vends before it commits: with STS failing it answers 503 and the old password and the code stay valid', async () => {
    const username = newUsername();
    await registerUser(username);
    const { code } = await admin.issueResetCode(parseUsername(username));
    sts.on(AssumeRoleCommand).rejects(new Error('STS is down'));
    expect((await reset(username, code)).statusCode).toBe(503);
    sts.reset();
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAAGAIN',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date(Date.now() + 3_600_000),
      },
    });
    expect((await loginUser(username)).statusCode).toBe(200);
    expect((await reset(username, code)).statusCode).toBe(200);
    expect((await loginUser(username, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('counts wrong codes in the lockout like logins: the sixth attempt gets 429', async () => {
    const username = newUsername();
    await registerUser(username);
    await admin.issueResetCode(parseUsername(username));
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++)
      statuses.push((await reset(username, 'AAAA-BBBB-CCCC-DDDD')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});

describe('GET /sessions and DELETE /sessions/{id}', () => {
  it("lists the caller's sessions with device, times and the current flag", async () => {
    const username = newUsername();
    await registerUser(username);
    const phone = bodyOf<SessionBody>(await loginUser(username, PASSWORD, 'Phone')).session.token;
    await handlers.token!(bearerPost('/token', phone), context);
    const listed = await handlers['sessions-list']!(bearerRequest('GET', '/sessions', phone), context);
    expect(listed.statusCode).toBe(200);
    const { sessions } = bodyOf<{
      sessions: Array<{ id: string; device?: string; current: boolean; lastUsedAt?: string }>;
    }>(listed);
    expect(sessions).toHaveLength(2);
    const current = sessions.find((session) => session.current)!;
    expect(current.device).toBe('Phone');
    expect(current.lastUsedAt).toEqual(expect.any(String));
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
  });

  it("revokes one of the caller's own sessions and answers 404 for anyone else's", async () => {
    const alice = newUsername();
    const bob = newUsername();
    const aliceFirst = await registerUser(alice);
    const aliceSecond = bodyOf<SessionBody>(await loginUser(alice)).session.token;
    const bobToken = await registerUser(bob);
    const { sessions } = bodyOf<{ sessions: Array<{ id: string; current: boolean }> }>(
      await handlers['sessions-list']!(bearerRequest('GET', '/sessions', aliceFirst), context),
    );
    const secondId = sessions.find((session) => !session.current)!.id;
    const byBob = await handlers['session-revoke']!(
      bearerRequest('DELETE', `/sessions/${secondId}`, bobToken, { id: secondId }),
      context,
    );
    expect(byBob.statusCode).toBe(404);
    expect((await handlers.token!(bearerPost('/token', aliceSecond), context)).statusCode).toBe(200);
    const withoutStepUp = await handlers['session-revoke']!(
      bearerRequest('DELETE', `/sessions/${secondId}`, aliceFirst, { id: secondId }),
      context,
    );
    expect(withoutStepUp.statusCode).toBe(400);
    const stepUp = JSON.stringify({ currentPassword: PASSWORD });
    const own = await handlers['session-revoke']!(
      { ...bearerRequest('DELETE', `/sessions/${secondId}`, aliceFirst, { id: secondId }), body: stepUp },
      context,
    );
    expect(own.statusCode).toBe(204);
    expect((await handlers.token!(bearerPost('/token', aliceSecond), context)).statusCode).toBe(401);
    expect((await handlers.token!(bearerPost('/token', aliceFirst), context)).statusCode).toBe(200);
  });
});

describe('disabled accounts', () => {
  it("refuses a disabled user's login and existing sessions, and lets them back after enable", async () => {
    const username = newUsername();
    const token = await registerUser(username);
    await admin.disable(parseUsername(username));
    const refused = await loginUser(username);
    expect(refused.statusCode).toBe(401);
    expect((await handlers.token!(bearerPost('/token', token), context)).statusCode).toBe(401);
    await admin.enable(parseUsername(username));
    expect((await loginUser(username)).statusCode).toBe(200);
    // Sessions revoked by the disable stay revoked.
    expect((await handlers.token!(bearerPost('/token', token), context)).statusCode).toBe(401);
  });
});

describe('deleted accounts', () => {
  it('answers a registration of a held name exactly as for a taken one, and frees it when the hold ends', async () => {
    const start = Date.now();
    fakeDateOnly(start);
    const taken = newUsername();
    await registerUser(taken);
    const asTaken = await handlers.register!(jsonPost('/register', { username: taken, password: PASSWORD }), context);
    const username = parseUsername(newUsername());
    await registerUser(username);
    await admin.disable(username);
    await admin.deleteUser(username, start + 3_600_000);
    const held = await handlers.register!(jsonPost('/register', { username, password: PASSWORD }), context);
    expect({ status: held.statusCode, body: bodyOf(held) }).toEqual({
      status: asTaken.statusCode,
      body: bodyOf(asTaken),
    });
    expect(held.statusCode).toBe(409);
    expect((await loginUser(username)).statusCode).toBe(401);
    expect((await admin.listUsers()).map((user) => user.username)).not.toContain(username);
    jest.setSystemTime(start + 3_600_001);
    const freed = await handlers.register!(jsonPost('/register', { username, password: NEW_PASSWORD }), context);
    expect(freed.statusCode).toBe(201);
    expect(await admin.nameHeldUntil(username)).toBeUndefined();
  });
});

describe('audit trail', () => {
  it('records each event in order, newest first, with source IP and user agent', async () => {
    const username = newUsername();
    const registered = await handlers.register!(
      withOrigin(jsonPost('/register', { username, password: PASSWORD }), '198.51.100.7', 'PhotoApp/1.0'),
      context,
    );
    const token = bodyOf<SessionBody>(registered).session.token;
    await handlers.login!(
      withOrigin(jsonPost('/login', { username, password: 'wrong password' }), '203.0.113.9', 'curl/8'),
      context,
    );
    await handlers.token!(bearerPost('/token', token), context);
    await handlers.logout!(bearerPost('/logout', token), context);
    await admin.disable(parseUsername(username));
    const trail = await admin.audit(parseUsername(username));
    expect(trail.map((event) => event.type)).toEqual([
      'disabled',
      'logout',
      'token_issued',
      'login_failed',
      'registered',
    ]);
    expect(trail[4]).toMatchObject({ sourceIp: '198.51.100.7', userAgent: 'PhotoApp/1.0' });
    expect(trail[3]).toMatchObject({
      sourceIp: '203.0.113.9',
      userAgent: 'curl/8',
      details: { attempts: 1, reason: 'password' },
    });
    expect(trail[0]).toMatchObject({ sourceIp: 'operator', userAgent: 'tvm-admin' });
  });
});

describe('trusted devices on DynamoDB', () => {
  it("a password thief's 12 logins fill the list without pushing out the owner's device, which still logs in after 5 wrong guesses", async () => {
    const username = newUsername();
    const registered = await handlers.register!(jsonPost('/register', { username, password: PASSWORD }), context);
    const { deviceToken } = bodyOf<{ deviceToken: string }>(registered);
    const tokens = [];
    for (let i = 0; i < 12; i++) tokens.push(bodyOf<{ deviceToken?: string }>(await loginUser(username)).deviceToken);
    expect(tokens.filter((token) => token !== undefined)).toHaveLength(9);
    for (let i = 0; i < 5; i++) expect((await loginUser(username, 'wrong password')).statusCode).toBe(401);
    expect((await loginUser(username)).statusCode).toBe(429);
    const owner = await handlers.login!(jsonPost('/login', { username, password: PASSWORD, deviceToken }), context);
    expect(owner.statusCode).toBe(200);
    expect(bodyOf<{ deviceToken: string }>(owner).deviceToken).toBe(deviceToken);
  });

  it('parallel logins from eight new devices: every device token handed out is one the account trusts (no lost write)', async () => {
    const username = newUsername();
    const registered = await handlers.register!(jsonPost('/register', { username, password: PASSWORD }), context);
    const { deviceToken: first } = bodyOf<{ deviceToken: string }>(registered);
    const answers = await Promise.all(Array.from({ length: 8 }, () => loginUser(username)));
    const tokens = answers.flatMap((answer) => bodyOf<{ deviceToken?: string }>(answer).deviceToken ?? []);
    for (const token of [first, ...tokens]) {
      const again = await handlers.login!(
        jsonPost('/login', { username, password: PASSWORD, deviceToken: token }),
        context,
      );
      expect(bodyOf<{ deviceToken: string }>(again).deviceToken).toBe(token);
    }
  });
});

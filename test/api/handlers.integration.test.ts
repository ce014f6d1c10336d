/**
 * The handlers against dynalite (the real DynamoDB API, in memory). STS is mocked with
 * aws-sdk-client-mock: it is not what these tests are about. A fault proxy between the
 * handlers and dynalite breaks chosen operations.
 */
import '../support/handler-env';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import bcrypt from 'bcryptjs';
import { bearerPost, bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { startFaultProxy, type FaultProxy } from '../../local/fault-proxy';
import { fakeDateOnly } from '../support/async';

const TABLE = 'tvm-integration-users';
const PASSWORD = 'correct horse battery';
const sts = mockClient(STSClient);
let dynamo: TestDynamoDb;
let faults: FaultProxy;
let register: Handler;
let login: Handler;
let token: Handler;
let logout: Handler;
let userCounter = 0;

/** A fresh username per test, so tests do not share lockout counters. */
const newUsername = () => `user-${++userCounter}-${Date.now().toString(36)}`;
const context = lambdaContext();

/** Every item in the table, for "nothing written" checks. */
async function tableItems(): Promise<Record<string, unknown>[]> {
  const result = await dynamo.client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return (result.Items ?? []).map((item) => ({ pk: item.pk?.S, sk: item.sk?.S, sessionOwner: item.sessionOwner?.S }));
}

function stubSts(): void {
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: 'ASIATESTTESTTESTTEST',
      SecretAccessKey: 'sts-secret',
      SessionToken: 'sts-session-token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
}

async function registerUser(username: string): Promise<string> {
  const result = await register(jsonPost('/register', { username, password: PASSWORD }), context);
  expect(result.statusCode).toBe(201);
  return bodyOf<{ session: { token: string } }>(result).session.token;
}

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  faults = await startFaultProxy(dynamo.endpoint);
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = faults.endpoint;
  ({ handler: register } = await import('../../lambda/handlers/register'));
  ({ handler: login } = await import('../../lambda/handlers/login'));
  ({ handler: token } = await import('../../lambda/handlers/token'));
  ({ handler: logout } = await import('../../lambda/handlers/logout'));
});

beforeEach(() => {
  stubSts();
  faults.rule = () => 'pass';
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await faults.stop();
  await dynamo.stop();
});

describe('rule 1: usernames are unique by conditional write', () => {
  it('gives exactly one 201 for 20 parallel registrations of one name, and stores one user and one session', async () => {
    const username = newUsername();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => register(jsonPost('/register', { username, password: PASSWORD }), context)),
    );
    const statuses = results.map((result) => result.statusCode).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    // Every loser is told the name is taken; on a loaded machine some may instead get a 503:
    // here 20 bcrypt hashes and dynalite share one event loop (a Lambda instance serves one
    // request at a time), so a DynamoDB call can outlive its 2 s timeout. Either way nothing
    // of theirs stays behind, which the table below shows.
    expect(statuses.filter((status) => status !== 201 && status !== 409 && status !== 503)).toEqual([]);
    const created = bodyOf<{ session: { token: string } }>(results.find((result) => result.statusCode === 201)!);
    const items = await tableItems();
    expect(items.filter((item) => item.pk === `USER#${username}` && item.sk === 'PROFILE')).toHaveLength(1);
    expect(items.filter((item) => item.sessionOwner === `USER#${username}`)).toHaveLength(1);
    // Losers' sessions are removed: only the winner's session still answers.
    expect((await token(bearerPost('/token', created.session.token), context)).statusCode).toBe(200);
  });

  it('treats a name that differs only in case as taken (409)', async () => {
    const username = newUsername();
    await registerUser(username);
    const result = await register(
      jsonPost('/register', { username: username.toUpperCase(), password: PASSWORD }),
      context,
    );
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toEqual({ error: { code: 'username_taken', message: 'That username is already taken.' } });
  });
});

describe('rule 5: lockout', () => {
  it('answers 401 to five wrong passwords and 429 with Retry-After to the sixth', async () => {
    const username = newUsername();
    await registerUser(username);
    const statuses: number[] = [];
    let last;
    for (let attempt = 0; attempt < 6; attempt++) {
      last = await login(jsonPost('/login', { username, password: 'wrong password' }), context);
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(Number(last!.headers?.['Retry-After'])).toBeGreaterThan(890);
    expect(Number(last!.headers?.['Retry-After'])).toBeLessThanOrEqual(900);
    expect(bodyOf(last!)).toMatchObject({ error: { code: 'too_many_attempts' } });
  });

  it('refuses the right password while locked and accepts it after the 15-minute cool-down', async () => {
    const start = Date.now();
    fakeDateOnly(start);
    const username = newUsername();
    await registerUser(username);
    for (let attempt = 0; attempt < 5; attempt++) {
      await login(jsonPost('/login', { username, password: 'wrong password' }), context);
    }
    const whileLocked = await login(jsonPost('/login', { username, password: PASSWORD }), context);
    expect(whileLocked.statusCode).toBe(429);
    jest.setSystemTime(start + 14 * 60_000);
    expect((await login(jsonPost('/login', { username, password: PASSWORD }), context)).statusCode).toBe(429);
    jest.setSystemTime(start + 15 * 60_000 + 1_000);
    const afterCooldown = await login(jsonPost('/login', { username, password: PASSWORD }), context);
    expect(afterCooldown.statusCode).toBe(200);
  });

  it('lets 50 parallel wrong guesses cost at most LOCKOUT_THRESHOLD (5) password checks', async () => {
    const username = newUsername();
    await registerUser(username);
    const compare = jest.spyOn(bcrypt, 'compare');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => login(jsonPost('/login', { username, password: 'wrong password' }), context)),
    );
    expect(compare.mock.calls.length).toBeLessThanOrEqual(5);
    expect(results.filter((result) => result.statusCode === 401).length).toBe(compare.mock.calls.length);
    expect(results.filter((result) => result.statusCode === 429).length).toBe(50 - compare.mock.calls.length);
  });

  it('resets the failure count after a successful login', async () => {
    const username = newUsername();
    await registerUser(username);
    for (let attempt = 0; attempt < 4; attempt++) {
      await login(jsonPost('/login', { username, password: 'wrong password' }), context);
    }
    expect((await login(jsonPost('/login', { username, password: PASSWORD }), context)).statusCode).toBe(200);
    for (let attempt = 0; attempt < 4; attempt++) {
      expect((await login(jsonPost('/login', { username, password: 'wrong password' }), context)).statusCode).toBe(401);
    }
  });
});

describe('rule 4: unknown user and wrong password look the same', () => {
  it('gives byte-identical responses for an unknown user and a wrong password', async () => {
    const username = newUsername();
    await registerUser(username);
    const wrongPassword = await login(jsonPost('/login', { username, password: 'wrong password' }), context);
    const unknownUser = await login(
      jsonPost('/login', { username: newUsername(), password: 'wrong password' }),
      context,
    );
    expect(unknownUser.statusCode).toBe(401);
    expect(unknownUser.statusCode).toBe(wrongPassword.statusCode);
    expect(unknownUser.body).toBe(wrongPassword.body);
    expect(unknownUser.headers).toEqual(wrongPassword.headers);
  });

  it('runs one bcrypt comparison for an unknown user, as for a known one', async () => {
    const compare = jest.spyOn(bcrypt, 'compare');
    await login(jsonPost('/login', { username: newUsername(), password: 'wrong password' }), context);
    expect(compare).toHaveBeenCalledTimes(1);
  });
});

describe('rule 6: sessions', () => {
  it('refuses a session after SESSION_DAYS (30) have passed', async () => {
    const start = Date.now();
    fakeDateOnly(start);
    const sessionToken = await registerUser(newUsername());
    // Used every 13 days, within the 14-day inactivity timeout, so only the lifetime ends it.
    for (const day of [13, 26, 29]) {
      jest.setSystemTime(start + day * 86_400_000);
      expect((await token(bearerPost('/token', sessionToken), context)).statusCode).toBe(200);
    }
    jest.setSystemTime(start + 30 * 86_400_000 + 1);
    const expired = await token(bearerPost('/token', sessionToken), context);
    expect(expired.statusCode).toBe(401);
    expect(bodyOf(expired)).toMatchObject({ error: { code: 'invalid_credentials' } });
  });

  it('revokes the session on logout: 204, then the token and a second logout get 401', async () => {
    const sessionToken = await registerUser(newUsername());
    const loggedOut = await logout(bearerPost('/logout', sessionToken), context);
    expect(loggedOut.statusCode).toBe(204);
    expect(loggedOut.body).toBe('');
    expect((await token(bearerPost('/token', sessionToken), context)).statusCode).toBe(401);
    expect((await logout(bearerPost('/logout', sessionToken), context)).statusCode).toBe(401);
  });

  it('stores the session token only as its SHA-256 hash', async () => {
    const sessionToken = await registerUser(newUsername());
    const scan = await dynamo.client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
    expect(JSON.stringify(scan.Items)).not.toContain(sessionToken);
  });

  it('logs in with a device label and vends credentials on /token with the new session', async () => {
    const username = newUsername();
    await registerUser(username);
    const loggedIn = await login(jsonPost('/login', { username, password: PASSWORD, device: 'Pixel 9' }), context);
    expect(loggedIn.statusCode).toBe(200);
    const body = bodyOf<{ session: { token: string }; storage: { prefix: string } }>(loggedIn);
    expect(body.storage.prefix).toBe(`${username}/`);
    const vended = await token(bearerPost('/token', body.session.token), context);
    expect(vended.statusCode).toBe(200);
    expect(bodyOf(vended)).toEqual({
      credentials: expect.objectContaining({ accessKeyId: 'ASIATESTTESTTESTTEST' }),
      storage: {
        bucket: 'tvm-test-files',
        prefix: `${username}/`,
        region: 'eu-west-1',
        usage: { bytes: 0, objects: 0, quotaBytes: null, overQuota: false },
      },
    });
  });
});

describe('rule 9: bad input changes nothing', () => {
  const badRequests: Array<[string, ReturnType<typeof jsonPost>]> = [
    ['malformed JSON', jsonPost('/register', '{"username": "x"')],
    [
      'a wrong content type',
      jsonPost('/register', 'username=alice', { 'Content-Type': 'application/x-www-form-urlencoded' }),
    ],
    ['a number as username', jsonPost('/register', { username: 42, password: PASSWORD })],
    ['a missing password', jsonPost('/register', { username: 'valid-name' })],
    ['an extra field', jsonPost('/register', { username: 'valid-name', password: PASSWORD, admin: true })],
    ['a body over 4 KiB', jsonPost('/register', { username: 'valid-name', password: PASSWORD.padEnd(5000, 'x') })],
    ['an array body', jsonPost('/register', [])],
    ['a username with a wildcard', jsonPost('/register', { username: 'al*', password: PASSWORD })],
    ['a short password', jsonPost('/register', { username: 'valid-name', password: 'short' })],
  ];

  it.each(badRequests)('answers 400 with a clear reason and writes nothing for %s', async (_label, event) => {
    const before = await tableItems();
    const result = await register(event, context);
    expect(result.statusCode).toBe(400);
    const body = bodyOf<{ error: { code: string; message: string } }>(result);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(await tableItems()).toEqual(before);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });
});

describe('rule 9: a failing backend gives 503 and leaves nothing half-written', () => {
  it('writes no user and no session when STS fails during register', async () => {
    sts.reset();
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('Rate exceeded for AssumeRole'), { name: 'Throttling' }));
    const username = newUsername();
    const before = await tableItems();
    const result = await register(jsonPost('/register', { username, password: PASSWORD }), context);
    expect(result.statusCode).toBe(503);
    // Throttling: a Retry-After of 1 to 4 s, drawn for each refusal so a crowd spreads out.
    expect(['1', '2', '3', '4']).toContain(result.headers?.['Retry-After']);
    expect(result.body).not.toContain('Rate exceeded');
    expect(await tableItems()).toEqual(before);
    stubSts();
    expect((await register(jsonPost('/register', { username, password: PASSWORD }), context)).statusCode).toBe(201);
  });

  it('removes the new session when writing the user fails, so a retry can register the name', async () => {
    const username = newUsername();
    faults.rule = (operation, body) =>
      operation === 'PutItem' && body.includes(`"USER#${username}"`) ? 'fail' : 'pass';
    const before = await tableItems();
    const result = await register(jsonPost('/register', { username, password: PASSWORD }), context);
    expect(result.statusCode).toBe(503);
    expect(faults.refused).toContain('PutItem');
    expect(await tableItems()).toEqual(before);
    faults.rule = () => 'pass';
    expect((await register(jsonPost('/register', { username, password: PASSWORD }), context)).statusCode).toBe(201);
  });

  it('answers 503 with Retry-After when DynamoDB throttles a login, and recovers when it stops', async () => {
    const username = newUsername();
    await registerUser(username);
    faults.rule = () => 'throttle';
    const throttled = await login(jsonPost('/login', { username, password: PASSWORD }), context);
    expect(throttled.statusCode).toBe(503);
    expect(throttled.headers?.['Retry-After']).toBe('2');
    expect(bodyOf(throttled)).toEqual({
      error: { code: 'service_unavailable', message: 'The service is temporarily unavailable. Please retry shortly.' },
    });
    faults.rule = () => 'pass';
    expect((await login(jsonPost('/login', { username, password: PASSWORD }), context)).statusCode).toBe(200);
  });

  it('keeps the session usable when STS fails on /token, and vends once STS is back', async () => {
    const sessionToken = await registerUser(newUsername());
    sts.reset();
    sts.on(AssumeRoleCommand).rejects(new Error('connect ECONNREFUSED'));
    const failed = await token(bearerPost('/token', sessionToken), context);
    expect(failed.statusCode).toBe(503);
    expect(failed.body).not.toContain('ECONNREFUSED');
    stubSts();
    expect((await token(bearerPost('/token', sessionToken), context)).statusCode).toBe(200);
  });
});

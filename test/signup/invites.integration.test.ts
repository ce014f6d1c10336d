/**
 * Invites on dynalite, through the real `POST /register` handler (REGISTRATION=invite) and
 * `tvm-admin invites` and `users create` with the CLI's own wiring: codes printed once and
 * stored only as hashes, a stranger's guesses refused, a replayed invite refused, parallel
 * registrations racing for one invite (exactly one account), revoke by code and by id, and
 * --dry-run changing nothing.
 */
import '../support/handler-env';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../admin/cli';
import type { AdminTarget } from '../../admin/target';
import { hashInviteCode, inviteId } from '../../lambda/signup/invite-code';
import { bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-invites';
const PASSWORD = 'correct horse battery';
const sts = mockClient(STSClient);
const context = lambdaContext();
let dynamo: TestDynamoDb;
let register: Handler;
let counter = 0;
const newName = () => `inv-${++counter}-${Date.now().toString(36)}`;

function target(): AdminTarget {
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by these commands')) });
  return {
    description: `dynalite table ${TABLE}`,
    apiUrl: 'http://127.0.0.1:1',
    tableName: TABLE,
    bucketName: 'unused',
    region: 'eu-west-1',
    partition: 'aws',
    vendingRoleName: 'unused',
    maxCredentialSeconds: 3600,
    vendingRolePolicy: { Version: '2012-10-17', Statement: [] } as never,
    cutOffMarginMs: 1000,
    propagationMs: 0,
    clockSkewMs: 0,
    dynamo: dynamo.client,
    s3: unused as never,
    iam: unused as never,
    close: () => undefined,
  };
}

async function admin(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(
    args,
    { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) },
    async () => target(),
  );
  return {
    code,
    out,
    errors: err.split('\n').filter((line) => line !== '' && !line.startsWith('tvm-admin: acting on ')),
  };
}

async function createInvites(count: number): Promise<string[]> {
  const made = await admin('--json', 'invites', 'create', '--count', String(count), '--expires', '2d');
  expect(made.errors).toEqual([]);
  return (JSON.parse(made.out) as { codes: string[] }).codes;
}

const registerWith = (username: string, invite?: string) =>
  register(
    jsonPost('/register', { username, password: PASSWORD, ...(invite !== undefined ? { invite } : {}) }),
    context,
  );

/** Every item of the table, as text: no invite code may appear in it. */
async function tableText(): Promise<string> {
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  return JSON.stringify((await documents.send(new ScanCommand({ TableName: TABLE }))).Items ?? []);
}

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.REGISTRATION = 'invite';
  register = (await import('../../lambda/handlers/register')).handler as Handler;
});

beforeEach(() => {
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: 'ASIAINVITES',
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  delete process.env.REGISTRATION;
  await dynamo.stop();
});

describe('invites on DynamoDB', () => {
  it('invites create prints codes once; the table holds only their hashes; a code registers once', async () => {
    const codes = await createInvites(3);
    expect(codes).toHaveLength(3);
    const text = await tableText();
    for (const code of codes) {
      expect(text).not.toContain(code);
      expect(text).toContain(hashInviteCode(code));
    }
    const name = newName();
    const created = await registerWith(name, codes[0]);
    expect(created.statusCode).toBe(201);
    const listed = await admin('--json', 'invites', 'list');
    const views = JSON.parse(listed.out) as Array<{ id: string; state: string; usedBy?: string }>;
    expect(views.find((view) => view.id === inviteId(hashInviteCode(codes[0]!)))).toMatchObject({
      state: 'used',
      usedBy: name,
    });
    expect(listed.out).not.toContain(codes[1]);
  });

  it('refuses no invite, a stranger guess and a replayed invite with 403 invite_required, without STS', async () => {
    const [code] = await createInvites(1);
    expect((await registerWith(newName(), code)).statusCode).toBe(201);
    sts.reset();
    for (const invite of [undefined, 'AAAAAAAAAAAAAAAAAAAAAA', code]) {
      const refused = await registerWith(newName(), invite);
      expect(refused.statusCode).toBe(403);
      expect(bodyOf<{ error: { code: string } }>(refused).error.code).toBe('invite_required');
    }
    expect(sts.calls()).toHaveLength(0);
    const malformed = await registerWith(newName(), 'short');
    expect(malformed.statusCode).toBe(400);
  });

  it('five registrations racing for one invite: exactly one account is created, the others get 403', async () => {
    const [code] = await createInvites(1);
    const names = Array.from({ length: 5 }, newName);
    const results = await Promise.all(names.map((name) => registerWith(name, code)));
    const statuses = results.map((result) => result.statusCode).sort();
    expect(statuses).toEqual([201, 403, 403, 403, 403]);
    const winner = names[results.findIndex((result) => result.statusCode === 201)];
    const views = JSON.parse((await admin('--json', 'invites', 'list')).out) as Array<{ id: string; usedBy?: string }>;
    expect(views.find((view) => view.id === inviteId(hashInviteCode(code!)))?.usedBy).toBe(winner);
    const users = JSON.parse((await admin('--json', 'users', 'list')).out) as Array<{ username: string }>;
    for (const name of names) expect(users.some((user) => user.username === name)).toBe(name === winner);
  });

  it('a registration whose name is taken leaves the invite unspent', async () => {
    const [code] = await createInvites(1);
    const taken = newName();
    const [first] = await createInvites(1);
    expect((await registerWith(taken, first)).statusCode).toBe(201);
    expect((await registerWith(taken, code)).statusCode).toBe(409);
    expect((await registerWith(newName(), code)).statusCode).toBe(201);
  });

  it('revokes by code and by id; a revoked invite is refused; a used one is not revoked; --dry-run changes nothing', async () => {
    const [byCode, byId, used] = await createInvites(3);
    expect((await registerWith(newName(), used)).statusCode).toBe(201);
    const before = await tableText();
    const rehearsal = await admin('--dry-run', 'invites', 'revoke', byCode!);
    expect(rehearsal.code).toBe(0);
    expect(rehearsal.out).toContain('would');
    expect(await admin('--dry-run', 'invites', 'create', '--count', '5')).toMatchObject({ code: 0 });
    expect(await tableText()).toBe(before);
    expect(await admin('invites', 'revoke', byCode!)).toMatchObject({ code: 0 });
    expect(await admin('invites', 'revoke', inviteId(hashInviteCode(byId!)))).toMatchObject({ code: 0 });
    for (const code of [byCode, byId]) expect((await registerWith(newName(), code)).statusCode).toBe(403);
    const refused = await admin('invites', 'revoke', used!);
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/already used by/);
  });

  it('refuses a bad --count or --expires with a clear error and makes nothing', async () => {
    const before = await tableText();
    for (const args of [
      ['--count', '0'],
      ['--count', '1001'],
      ['--expires', '400d'],
      ['--expires', 'soon'],
    ]) {
      const result = await admin('invites', 'create', ...args);
      expect(result.code).toBe(1);
      expect(result.errors.join('\n')).toMatch(/--count|--expires/);
    }
    expect(await tableText()).toBe(before);
  });

  it('users create works under invite registration and prints a reset code; a taken name is refused', async () => {
    const name = newName();
    const created = await admin('--json', 'users', 'create', name);
    expect(created.errors).toEqual([]);
    expect(JSON.parse(created.out)).toMatchObject({ username: name, created: true, resetCode: expect.any(String) });
    expect((await admin('users', 'create', name)).code).toBe(1);
  });
});

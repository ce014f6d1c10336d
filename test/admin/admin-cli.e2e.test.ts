/**
 * tvm-admin against the running sandbox, and the account routes over HTTP: every command,
 * the reset code used once, device sessions (one user cannot revoke another's), the audit
 * trail, the credential cut-off enforced by the sandbox's S3 gate while other users'
 * credentials keep working, and `users delete --delete-files` leaving no unfinished upload.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { runCli } from '../../admin/cli';
import { STATE_CHANGING_COMMANDS } from '../../admin/dry-run';
import { localTarget } from '../../admin/target';
import { join, resolve } from 'node:path';
import { SessionStore } from '../../local/sts/session-store';
import { DynamoIdentityStore } from '../../lambda/adapters/dynamo/identity-store';
import { dynamoStores } from '../../lambda/adapters/dynamo/stores';
import { identityId } from '../../lambda/identities/identity-id';
import { parseUsername } from '../../lambda/accounts/username';
import {
  login,
  passInstant,
  postJson,
  register,
  runAdmin,
  s3ClientFor,
  s3ErrorCode,
  sandboxForThisFile,
  type VendResponse,
} from '../support/e2e';

const PASSWORD = 'correct horse battery';
const runningSandbox = sandboxForThisFile('tvm-admin-e2e-');
/** The sandbox's data folder, which sandboxForThisFile names in TVM_DATA_DIR. */
const dataDir = () => process.env.TVM_DATA_DIR as string;

/** Runs tvm-admin --local in-process, with a one-second cut-off margin so fresh logins need not wait long. */
const admin = (...args: string[]) => runAdmin(args, { cutOffMarginMs: 1000 });

async function adminJson<T>(...args: string[]): Promise<T> {
  const result = await admin('--json', ...args);
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.out) as T;
}

async function request(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${runningSandbox().apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('account routes over HTTP', () => {
  it("lists the caller's sessions and revokes one of them by id at DELETE /sessions/{id}", async () => {
    const first = await register(runningSandbox().apiUrl, 'http-sessions', PASSWORD);
    const second = await login(runningSandbox().apiUrl, 'http-sessions', PASSWORD);
    const listed = await request('GET', '/sessions', first.session.token);
    expect(listed.status).toBe(200);
    const sessions = (listed.body as { sessions: Array<{ id: string; current: boolean }> }).sessions;
    expect(sessions).toHaveLength(2);
    const other = sessions.find((session) => !session.current)!;
    // Another session than the caller's takes a step-up (docs/mfa.md).
    expect((await request('DELETE', `/sessions/${other.id}`, first.session.token)).status).toBe(400);
    expect(
      (await request('DELETE', `/sessions/${other.id}`, first.session.token, { currentPassword: PASSWORD })).status,
    ).toBe(204);
    expect(
      (
        await postJson(`${runningSandbox().apiUrl}/token`, undefined, {
          Authorization: `Bearer ${second.session.token}`,
        })
      ).status,
    ).toBe(401);
  });

  it('changes the password at POST /password and hands back a new session', async () => {
    const user = await register(runningSandbox().apiUrl, 'http-password', PASSWORD);
    const changed = await postJson(
      `${runningSandbox().apiUrl}/password`,
      { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
      { Authorization: `Bearer ${user.session.token}` },
    );
    expect(changed.status).toBe(200);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${user.session.token}` }))
        .status,
    ).toBe(401);
    const token = (changed.body as { session: { token: string } }).session.token;
    expect(
      (await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${token}` })).status,
    ).toBe(200);
  });
});

describe('tvm-admin --local', () => {
  it('lists and shows users, disables, enables and unlocks them', async () => {
    await register(runningSandbox().apiUrl, 'cli-carol', PASSWORD);
    const users = await adminJson<Array<{ username: string; disabled: boolean }>>('users', 'list');
    expect(users).toContainEqual(expect.objectContaining({ username: 'cli-carol', disabled: false }));
    expect((await admin('users', 'disable', 'cli-carol')).code).toBe(0);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-carol', password: PASSWORD })).status,
    ).toBe(401);
    expect(await adminJson('users', 'show', 'cli-carol')).toMatchObject({ disabled: true, liveSessions: 0 });
    const enabled = await admin('users', 'enable', 'cli-carol');
    expect(enabled.code).toBe(0);
    // The cut-off instant of the disable lies a few seconds ahead: one line says how long it waits.
    expect(enabled.errors).toEqual([expect.stringMatching(/^waiting [1-9]\d* s for the cut-off instant to pass/)]);
    for (let attempt = 0; attempt < 5; attempt++)
      await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-carol', password: 'wrong guess' });
    expect(await adminJson('users', 'show', 'cli-carol')).toMatchObject({ locked: true });
    const unlocked = await admin('users', 'unlock', 'cli-carol');
    expect(unlocked).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^cli-carol: was locked until \S+Z, 5 failed attempt\(s\) counted; unlocked/),
    });
    expect((await admin('users', 'unlock', 'cli-carol')).out).toBe('cli-carol: was not locked; nothing to do\n');
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-carol', password: PASSWORD })).status,
    ).toBe(200);
    const table = await admin('users', 'list');
    expect(table.out).toMatch(/^USER\s+CREATED\s+DISABLED\s+LOCKED/);
  });

  it('issues a reset code that works once, over HTTP', async () => {
    await register(runningSandbox().apiUrl, 'cli-dave', PASSWORD);
    const { code } = await adminJson<{ code: string }>('reset-code', 'cli-dave');
    const body = { username: 'cli-dave', resetCode: code, newPassword: 'reset to this one' };
    expect((await postJson(`${runningSandbox().apiUrl}/password/reset`, body)).status).toBe(200);
    expect((await postJson(`${runningSandbox().apiUrl}/password/reset`, body)).status).toBe(401);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-dave', password: 'reset to this one' }))
        .status,
    ).toBe(200);
  });

  it('lists and revokes sessions, one or all', async () => {
    await register(runningSandbox().apiUrl, 'cli-erin', PASSWORD);
    const phone = await login(runningSandbox().apiUrl, 'cli-erin', PASSWORD);
    const sessions = await adminJson<Array<{ id: string }>>('sessions', 'list', 'cli-erin');
    expect(sessions).toHaveLength(2);
    expect((await admin('sessions', 'revoke', 'cli-erin', sessions[1]!.id)).code).toBe(0);
    expect(await adminJson<unknown[]>('sessions', 'list', 'cli-erin')).toHaveLength(1);
    expect((await admin('sessions', 'revoke', 'cli-erin', '--all')).code).toBe(0);
    expect(
      (
        await postJson(`${runningSandbox().apiUrl}/token`, undefined, {
          Authorization: `Bearer ${phone.session.token}`,
        })
      ).status,
    ).toBe(401);
    expect(await adminJson<unknown[]>('sessions', 'list', 'cli-erin')).toEqual([]);
  });

  it('prints the audit trail newest first, each event in order', async () => {
    const user = await register(runningSandbox().apiUrl, 'cli-frank', PASSWORD);
    await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-frank', password: 'wrong guess' });
    await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${user.session.token}` });
    await postJson(`${runningSandbox().apiUrl}/logout`, undefined, { Authorization: `Bearer ${user.session.token}` });
    const events = await adminJson<Array<{ type: string; sourceIp?: string }>>('audit', 'cli-frank');
    expect(events.map((event) => event.type)).toEqual(['logout', 'token_issued', 'login_failed', 'registered']);
    expect(events[3]?.sourceIp).toBe('127.0.0.1');
  });

  it('prints the exact session policy the token was issued with', async () => {
    const user = await register(runningSandbox().apiUrl, 'cli-grace', PASSWORD);
    const printed = await adminJson<unknown>('policy', 'cli-grace');
    const store = new SessionStore(SessionStore.fileIn(dataDir()));
    store.open();
    try {
      const issued = store.get(user.credentials.accessKeyId);
      expect(issued?.sessionPolicy).toBeDefined();
      expect(JSON.parse(issued!.sessionPolicy!)).toEqual(printed);
    } finally {
      store.close();
    }
  });

  it("counts usage per folder and deletes a user's files only with --delete-files", async () => {
    const user = await register(runningSandbox().apiUrl, 'cli-heidi', PASSWORD);
    const s3 = s3ClientFor(user);
    await s3.send(
      new PutObjectCommand({ Bucket: user.storage.bucket, Key: `${user.storage.prefix}a.txt`, Body: 'hello' }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: user.storage.bucket, Key: `${user.storage.prefix}b.txt`, Body: 'world!' }),
    );
    expect(await adminJson('usage', 'cli-heidi')).toEqual([{ folder: 'cli-heidi/', objects: 2, bytes: 11 }]);
    expect(await adminJson<Array<{ folder: string }>>('usage', '--all')).toContainEqual({
      folder: 'cli-heidi/',
      objects: 2,
      bytes: 11,
    });
    const refused = await admin('users', 'delete', 'cli-heidi');
    expect(refused.code).toBe(1);
    expect(refused.errors).toHaveLength(1);
    expect(refused.err).toContain('--delete-files');
    expect((await admin('users', 'delete', 'cli-heidi', '--delete-files', '--yes')).code).toBe(0);
    expect(await adminJson('usage', 'cli-heidi')).toEqual([{ folder: 'cli-heidi/', objects: 0, bytes: 0 }]);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-heidi', password: PASSWORD })).status,
    ).toBe(401);
    s3.destroy();
  });

  it("cuts off a revoked user's issued credentials at the S3 gate while other users' keep working", async () => {
    const ivan: VendResponse = await register(runningSandbox().apiUrl, 'cli-ivan', PASSWORD);
    const judy: VendResponse = await register(runningSandbox().apiUrl, 'cli-judy', PASSWORD);
    const ivanS3 = s3ClientFor(ivan);
    const judyS3 = s3ClientFor(judy);
    const ivanKey = `${ivan.storage.prefix}photo.jpg`;
    await ivanS3.send(new PutObjectCommand({ Bucket: ivan.storage.bucket, Key: ivanKey, Body: 'ivan' }));
    const revoked = await admin('--json', 'revoke-credentials', 'cli-ivan');
    expect(revoked.code).toBe(0);
    const { credentialsIssuedBefore } = JSON.parse(revoked.out) as { credentialsIssuedBefore: string };
    expect(await s3ErrorCode(ivanS3.send(new GetObjectCommand({ Bucket: ivan.storage.bucket, Key: ivanKey })))).toBe(
      'AccessDenied',
    );
    expect(
      await s3ErrorCode(
        ivanS3.send(new ListObjectsV2Command({ Bucket: ivan.storage.bucket, Prefix: ivan.storage.prefix })),
      ),
    ).toBe('AccessDenied');
    await expect(
      judyS3.send(
        new PutObjectCommand({ Bucket: judy.storage.bucket, Key: `${judy.storage.prefix}ok.txt`, Body: 'fine' }),
      ),
    ).resolves.toBeDefined();
    expect(
      (await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${ivan.session.token}` }))
        .status,
    ).toBe(401);
    // Credentials issued once the cut-off instant has passed work again.
    await passInstant(credentialsIssuedBefore);
    const again = await login(runningSandbox().apiUrl, 'cli-ivan', PASSWORD);
    const freshS3 = s3ClientFor(again);
    const object = await freshS3.send(new GetObjectCommand({ Bucket: again.storage.bucket, Key: ivanKey }));
    expect(await object.Body?.transformToString()).toBe('ivan');
    expect(await adminJson<Array<{ username: string }>>('revocations')).toContainEqual(
      expect.objectContaining({ username: 'cli-ivan', credentialsIssuedBefore }),
    );
    const trail = await adminJson<Array<{ type: string }>>('audit', 'cli-ivan');
    expect(trail.slice(0, 3).map((event) => event.type)).toEqual([
      'login_ok',
      'credentials_revoked',
      'session_revoked',
    ]);
    const persisted = JSON.parse(readFileSync(join(dataDir(), 'role-policies.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(persisted)).toEqual(['tvm-revoked-users']);
    [ivanS3, judyS3, freshS3].forEach((client) => client.destroy());
  });

  it('fails with exit 1 and one line for an unknown user, an unknown command and a bad username', async () => {
    for (const args of [['users', 'show', 'nobody-here'], ['frobnicate'], ['users', 'show', 'Bad/Name']]) {
      const result = await admin(...args);
      expect(result.code).toBe(1);
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatch(/^tvm-admin: /);
    }
  });

  it('names the sandbox it acts on, on stderr, before every command', async () => {
    const result = await admin('users', 'list');
    expect(result.err.split('\n')[0]).toBe(`tvm-admin: acting on local sandbox (${dataDir()})`);
  });
});

/**
 * The sandbox's own count of the requests made to its bucket (access-log processing: the
 * per-user daily counts and the markers of log objects counted), which every request moves,
 * a dry run's reads included. They record requests; no command changes them.
 */
function countsRequests(item: Record<string, AttributeValue>): boolean {
  const pk = item.pk?.S ?? '';
  return pk.startsWith('USAGEDAY#') || pk.startsWith('ACCESSLOG#');
}

/** Everything tvm-admin could change: every table item but the request counts, every object in the bucket, and the role's policies. */
async function sandboxState(): Promise<{
  items: Array<Record<string, AttributeValue>>;
  objects: string[];
  rolePolicies: string;
}> {
  const target = localTarget();
  try {
    const items: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await target.dynamo.send(
        new ScanCommand({ TableName: target.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []).filter((item) => !countsRequests(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    const listed = await target.s3.send(new ListObjectsV2Command({ Bucket: target.bucketName }));
    const objects = (listed.Contents ?? []).map((object) => `${object.Key} ${object.Size} ${object.ETag}`);
    const policies = join(dataDir(), 'role-policies.json');
    const sort = (item: Record<string, AttributeValue>) => JSON.stringify([item.pk, item.sk]);
    return {
      items: items.sort((a, b) => sort(a).localeCompare(sort(b))),
      objects: objects.sort(),
      rolePolicies: existsSync(policies) ? readFileSync(policies, 'utf8') : '',
    };
  } finally {
    target.close();
  }
}

/** Runs a command with `input` on its stdin, without blocking this process (the sandbox answers from it). */
function runWithInput(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  input: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** tvm-admin --local in-process, as on a terminal where the operator answers `answer`. */
async function adminOnTerminal(
  answer: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string; asked: string[] }> {
  let out = '';
  let err = '';
  const asked: string[] = [];
  const code = await runCli(
    ['--local', ...args],
    {
      out: (text) => (out += `${text}\n`),
      err: (text) => (err += `${text}\n`),
      ask: async (question) => (asked.push(question), answer),
    },
    async () => ({ ...localTarget(), cutOffMarginMs: 1000 }),
  );
  return { code, out, err, asked };
}

describe('tvm-admin rehearsals: --dry-run and the delete confirmation', () => {
  it('every state-changing command with --dry-run prints its plan and leaves the table, the bucket and the role policy exactly as they were', async () => {
    const kim = await register(runningSandbox().apiUrl, 'cli-kim', PASSWORD);
    await login(runningSandbox().apiUrl, 'cli-kim', PASSWORD);
    const s3 = s3ClientFor(kim);
    await s3.send(
      new PutObjectCommand({ Bucket: kim.storage.bucket, Key: `${kim.storage.prefix}plan.txt`, Body: 'rehearse' }),
    );
    s3.destroy();
    for (let attempt = 0; attempt < 5; attempt++)
      await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-kim', password: 'wrong guess' });
    await register(runningSandbox().apiUrl, 'cli-lou', PASSWORD);
    expect((await admin('revoke-credentials', 'cli-lou')).code).toBe(0);
    const [session] = await adminJson<Array<{ id: string }>>('sessions', 'list', 'cli-kim');
    const bearer = { Authorization: `Bearer ${kim.session.token}` };
    const shared = await postJson(
      `${runningSandbox().apiUrl}/shares`,
      { path: 'plan.txt', grantee: 'cli-lou', access: 'read' },
      bearer,
    );
    const linked = await postJson(`${runningSandbox().apiUrl}/links`, { path: 'plan.txt' }, bearer);
    const [shareId, linkId] = [(shared.body as { id: string }).id, (linked.body as { id: string }).id];
    // A linked sign-in identity, written as POST /login/oidc writes it (the sign-in itself has its own e2e tests).
    const identity = identityId('https://accounts.google.com', 'cli-kim-subject');
    const table = localTarget();
    try {
      const kimUser = (await dynamoStores(table.dynamo, table.tableName).users.getUser(parseUsername('cli-kim')))!;
      await new DynamoIdentityStore(table.dynamo, table.tableName).create({
        id: identity,
        issuer: 'https://accounts.google.com',
        subject: 'cli-kim-subject',
        provider: 'google',
        username: kimUser.username,
        userId: kimUser.userId,
        linkedAt: Date.now(),
      });
    } finally {
      table.close();
    }
    const invite = (await adminJson<{ codes: string[] }>('invites', 'create')).codes[0]!;
    const commands = [
      ['users', 'disable', 'cli-kim'],
      ['users', 'enable', 'cli-kim'],
      ['users', 'unlock', 'cli-kim'],
      ['users', 'delete', 'cli-kim', '--delete-files'],
      ['reset-code', 'cli-kim'],
      ['sessions', 'revoke', 'cli-kim', session!.id],
      ['sessions', 'revoke', 'cli-kim', '--all'],
      ['revoke-credentials', 'cli-kim'],
      ['revocations', 'prune'],
      ['mfa', 'reset', 'cli-kim'],
      ['shares', 'revoke', 'cli-kim', shareId],
      ['links', 'revoke', 'cli-kim', linkId],
      ['identities', 'remove', 'cli-kim', identity],
      ['smoke'],
      ['users', 'create', 'cli-newcomer'],
      ['invites', 'create', '--count=2'],
      ['invites', 'revoke', invite],
    ];
    // Every command that changes something is rehearsed here.
    expect(
      new Set(
        commands.map((args) =>
          args
            .filter(
              (arg) =>
                !arg.startsWith('cli-') &&
                !arg.startsWith('--') &&
                ![session!.id, shareId, linkId, identity, invite].includes(arg),
            )
            .join(' '),
        ),
      ),
    ).toEqual(new Set(STATE_CHANGING_COMMANDS));

    const before = await sandboxState();
    const plans = new Map<string, string>();
    for (const args of commands) {
      const result = await admin('--dry-run', ...args);
      expect({ args, code: result.code, errors: result.errors }).toEqual({ args, code: 0, errors: [] });
      expect(result.out).toMatch(/^dry run on local sandbox \(.*\); nothing was changed\. .* would:\n {2}1\. /);
      plans.set(args.slice(0, 2).join(' '), result.out);
    }
    expect(await sandboxState()).toEqual(before);

    expect(plans.get('users delete')).toContain('delete every object version and delete marker under cli-kim/ (1 now)');
    expect(plans.get('users delete')).toContain('revoke every session (2 live)');
    expect(plans.get('users delete')).toContain('cut off the 1 share(s) cli-kim gave and the 0 they received');
    expect(plans.get('users disable')).toContain('cut off the 1 share(s) cli-kim gave');
    expect(plans.get('shares revoke')).toContain(`cut off every AWS credential issued for share ${shareId}`);
    expect(plans.get('links revoke')).toContain(`remove the link ${linkId}`);
    expect(plans.get('identities remove')).toContain(`unlink the identity ${identity} (google,`);
    expect(plans.get('users delete')).toContain('second factors and the 1 linked identity of cli-kim');
    expect(plans.get('users unlock')).toMatch(
      /clear the failed-login counters of cli-kim \(locked until \S+Z, 5 failed attempt\(s\) counted\)/,
    );
    expect(plans.get('revoke-credentials cli-kim')).toMatch(
      /cut off every AWS credential issued to cli-kim before about \S+Z/,
    );
    const json = await adminJson<{ dryRun: boolean; steps: string[] }>(
      '--dry-run',
      'sessions',
      'revoke',
      'cli-kim',
      session!.id,
    );
    expect(json).toMatchObject({
      dryRun: true,
      steps: [`revoke the session ${session!.id} of cli-kim`, expect.stringContaining('leave the AWS credentials')],
    });
    // The same snapshot sees a real change: the comparison above is not blind.
    expect((await admin('users', 'unlock', 'cli-kim')).code).toBe(0);
    expect(await sandboxState()).not.toEqual(before);
  });

  it('users delete refuses in a script without --yes, asks on a terminal for the username, and changes nothing until it is typed', async () => {
    await register(runningSandbox().apiUrl, 'cli-lee', PASSWORD);
    const before = await sandboxState();
    const scripted = await admin('users', 'delete', 'cli-lee');
    expect(scripted.code).toBe(1);
    expect(scripted.errors).toEqual([
      'tvm-admin: users delete asks for confirmation on a terminal; in a script pass --yes (nothing was changed; --dry-run shows what it would do).',
    ]);
    const declined = await adminOnTerminal('y', 'users', 'delete', 'cli-lee');
    expect(declined.code).toBe(1);
    expect(declined.asked).toEqual(['Type cli-lee to delete it for good, or anything else to stop: ']);
    expect(declined.err).toContain(
      'users delete cli-lee would:\n  1. disable cli-lee and revoke every session (1 live)',
    );
    expect(declined.err).toContain('tvm-admin: Not confirmed; nothing was changed.');
    expect(await sandboxState()).toEqual(before);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-lee', password: PASSWORD })).status,
    ).toBe(200);

    const confirmed = await adminOnTerminal('cli-lee', 'users', 'delete', 'cli-lee');
    expect(confirmed.code).toBe(0);
    expect(confirmed.out).toMatch(/^cli-lee: deleted/);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-lee', password: PASSWORD })).status,
    ).toBe(401);
    // Deleting it again has nothing to do, so nothing to confirm.
    expect((await admin('users', 'delete', 'cli-lee')).code).toBe(0);
  });

  it('bin/tvm-admin.cjs asks on a real terminal (a pseudo-terminal from script(1)) and refuses when its input is a pipe', async () => {
    await register(runningSandbox().apiUrl, 'cli-pty', PASSWORD);
    const root = resolve(__dirname, '../..');
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TVM_DATA_DIR: dataDir() };
    const command = `${join(root, 'bin/tvm-admin.cjs')} --local users delete cli-pty`;
    const onTerminal = await runWithInput('script', ['-qec', command, '/dev/null'], root, env, 'not-the-name\n');
    expect(onTerminal.stdout).toContain('users delete cli-pty would:');
    expect(onTerminal.stdout).toContain('Type cli-pty to delete it for good, or anything else to stop: ');
    expect(onTerminal.stdout).toContain('tvm-admin: Not confirmed; nothing was changed.');
    const piped = await runWithInput(
      join(root, 'bin/tvm-admin.cjs'),
      ['--local', 'users', 'delete', 'cli-pty'],
      root,
      env,
      'cli-pty\n',
    );
    expect(piped.status).toBe(1);
    expect(piped.stderr).toContain('in a script pass --yes');
    expect(
      (await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-pty', password: PASSWORD })).status,
    ).toBe(200);
  }, 90_000);
});

describe("one user against another's sessions", () => {
  test("alice cannot revoke bob's session by its id: 404, and bob's session keeps working", async () => {
    const alice = await register(runningSandbox().apiUrl, 'http-alice', PASSWORD);
    const bob = await register(runningSandbox().apiUrl, 'http-bob', PASSWORD);
    const listed = await request('GET', '/sessions', bob.session.token);
    const [bobsSession] = (listed.body as { sessions: { id: string }[] }).sessions;
    expect(
      (await request('DELETE', `/sessions/${encodeURIComponent(bobsSession!.id)}`, alice.session.token)).status,
    ).toBe(404);
    expect(
      (await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${bob.session.token}` }))
        .status,
    ).toBe(200);
  });
});

describe('unfinished multipart uploads', () => {
  /** The emulator's unfinished uploads whose key starts with `prefix`. */
  function uploadsFor(prefix: string): string[] {
    const folder = join(dataDir(), 's3', 'tvm-files', '._S3rver_uploads');
    if (!existsSync(folder)) return [];
    return readdirSync(folder).filter((id) => readFileSync(join(folder, id, 'key'), 'utf8').startsWith(prefix));
  }

  test("users delete --delete-files leaves none of the user's unfinished multipart uploads", async () => {
    const vended = await register(runningSandbox().apiUrl, 'cli-uploader', PASSWORD);
    const s3 = s3ClientFor(vended);
    try {
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: vended.storage.bucket, Key: 'cli-uploader/big.bin' }),
      );
      await s3.send(
        new UploadPartCommand({
          Bucket: vended.storage.bucket,
          Key: 'cli-uploader/big.bin',
          UploadId,
          PartNumber: 1,
          Body: 'private bytes',
        }),
      );
    } finally {
      s3.destroy();
    }
    expect(uploadsFor('cli-uploader/')).toHaveLength(1);
    const deleted = await admin('users', 'delete', 'cli-uploader', '--delete-files', '--yes');
    expect(deleted.errors.filter((line) => line.startsWith('tvm-admin:'))).toEqual([]);
    expect(deleted.code).toBe(0);
    expect(uploadsFor('cli-uploader/')).toEqual([]);
  }, 60_000);

  test('a user aborts their own unfinished upload: its parts are gone and the upload id is dead', async () => {
    const vended = await register(runningSandbox().apiUrl, 'cli-aborter', PASSWORD);
    const s3 = s3ClientFor(vended);
    try {
      const Bucket = vended.storage.bucket;
      const Key = 'cli-aborter/big.bin';
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'private bytes' }));
      expect(uploadsFor('cli-aborter/')).toHaveLength(1);
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      expect(uploadsFor('cli-aborter/')).toEqual([]);
      await expect(
        s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'more' })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    } finally {
      s3.destroy();
    }
  }, 60_000);
});

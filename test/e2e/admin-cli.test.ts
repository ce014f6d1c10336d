/**
 * tvm-admin against the running sandbox, and the account routes over HTTP: every command,
 * the reset code used once, device sessions, the audit trail, and the credential cut-off
 * enforced by the sandbox's S3 gate while other users' credentials keep working.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore } from '../../local/session-store';
import { login, passInstant, postJson, register, runAdmin, s3ClientFor, s3ErrorCode, sandboxForThisFile, type VendResponse } from './helpers';

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

async function request(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${runningSandbox().apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('account routes over HTTP', () => {
  it('lists the caller\'s sessions and revokes one of them by id at DELETE /sessions/{id}', async () => {
    const first = await register(runningSandbox().apiUrl, 'http-sessions', PASSWORD);
    const second = await login(runningSandbox().apiUrl, 'http-sessions', PASSWORD);
    const listed = await request('GET', '/sessions', first.session.token);
    expect(listed.status).toBe(200);
    const sessions = (listed.body as { sessions: Array<{ id: string; current: boolean }> }).sessions;
    expect(sessions).toHaveLength(2);
    const other = sessions.find((session) => !session.current)!;
    // Another session than the caller's takes a step-up (docs/mfa.md).
    expect((await request('DELETE', `/sessions/${other.id}`, first.session.token)).status).toBe(400);
    expect((await request('DELETE', `/sessions/${other.id}`, first.session.token, { currentPassword: PASSWORD })).status).toBe(204);
    expect((await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${second.session.token}` })).status).toBe(401);
  });

  it('changes the password at POST /password and hands back a new session', async () => {
    const user = await register(runningSandbox().apiUrl, 'http-password', PASSWORD);
    const changed = await postJson(
      `${runningSandbox().apiUrl}/password`,
      { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
      { Authorization: `Bearer ${user.session.token}` },
    );
    expect(changed.status).toBe(200);
    expect((await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${user.session.token}` })).status).toBe(401);
    const token = (changed.body as { session: { token: string } }).session.token;
    expect((await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('tvm-admin --local', () => {
  it('lists and shows users, disables, enables and unlocks them', async () => {
    await register(runningSandbox().apiUrl, 'cli-carol', PASSWORD);
    const users = await adminJson<Array<{ username: string; disabled: boolean }>>('users', 'list');
    expect(users).toContainEqual(expect.objectContaining({ username: 'cli-carol', disabled: false }));
    expect((await admin('users', 'disable', 'cli-carol')).code).toBe(0);
    expect((await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-carol', password: PASSWORD })).status).toBe(401);
    expect(await adminJson('users', 'show', 'cli-carol')).toMatchObject({ disabled: true, liveSessions: 0 });
    expect((await admin('users', 'enable', 'cli-carol')).code).toBe(0);
    for (let attempt = 0; attempt < 5; attempt++) await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-carol', password: 'wrong guess' });
    expect(await adminJson('users', 'show', 'cli-carol')).toMatchObject({ locked: true });
    expect((await admin('users', 'unlock', 'cli-carol')).code).toBe(0);
    expect((await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-carol', password: PASSWORD })).status).toBe(200);
    const table = await admin('users', 'list');
    expect(table.out).toMatch(/^USER\s+CREATED\s+DISABLED\s+LOCKED/);
  });

  it('issues a reset code that works once, over HTTP', async () => {
    await register(runningSandbox().apiUrl, 'cli-dave', PASSWORD);
    const { code } = await adminJson<{ code: string }>('reset-code', 'cli-dave');
    const body = { username: 'cli-dave', resetCode: code, newPassword: 'reset to this one' };
    expect((await postJson(`${runningSandbox().apiUrl}/password/reset`, body)).status).toBe(200);
    expect((await postJson(`${runningSandbox().apiUrl}/password/reset`, body)).status).toBe(401);
    expect((await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-dave', password: 'reset to this one' })).status).toBe(200);
  });

  it('lists and revokes sessions, one or all', async () => {
    await register(runningSandbox().apiUrl, 'cli-erin', PASSWORD);
    const phone = await login(runningSandbox().apiUrl, 'cli-erin', PASSWORD);
    const sessions = await adminJson<Array<{ id: string }>>('sessions', 'list', 'cli-erin');
    expect(sessions).toHaveLength(2);
    expect((await admin('sessions', 'revoke', 'cli-erin', sessions[1]!.id)).code).toBe(0);
    expect(await adminJson<unknown[]>('sessions', 'list', 'cli-erin')).toHaveLength(1);
    expect((await admin('sessions', 'revoke', 'cli-erin', '--all')).code).toBe(0);
    expect((await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${phone.session.token}` })).status).toBe(401);
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

  it('counts usage per folder and deletes a user\'s files only with --delete-files', async () => {
    const user = await register(runningSandbox().apiUrl, 'cli-heidi', PASSWORD);
    const s3 = s3ClientFor(user);
    await s3.send(new PutObjectCommand({ Bucket: user.storage.bucket, Key: `${user.storage.prefix}a.txt`, Body: 'hello' }));
    await s3.send(new PutObjectCommand({ Bucket: user.storage.bucket, Key: `${user.storage.prefix}b.txt`, Body: 'world!' }));
    expect(await adminJson('usage', 'cli-heidi')).toEqual([{ folder: 'cli-heidi/', objects: 2, bytes: 11 }]);
    expect(await adminJson<Array<{ folder: string }>>('usage', '--all')).toContainEqual({ folder: 'cli-heidi/', objects: 2, bytes: 11 });
    const refused = await admin('users', 'delete', 'cli-heidi');
    expect(refused.code).toBe(1);
    expect(refused.errors).toHaveLength(1);
    expect(refused.err).toContain('--delete-files');
    expect((await admin('users', 'delete', 'cli-heidi', '--delete-files')).code).toBe(0);
    expect(await adminJson('usage', 'cli-heidi')).toEqual([{ folder: 'cli-heidi/', objects: 0, bytes: 0 }]);
    expect((await postJson(`${runningSandbox().apiUrl}/login`, { username: 'cli-heidi', password: PASSWORD })).status).toBe(401);
    s3.destroy();
  });

  it('cuts off a revoked user\'s issued credentials at the S3 gate while other users\' keep working', async () => {
    const ivan: VendResponse = await register(runningSandbox().apiUrl, 'cli-ivan', PASSWORD);
    const judy: VendResponse = await register(runningSandbox().apiUrl, 'cli-judy', PASSWORD);
    const ivanS3 = s3ClientFor(ivan);
    const judyS3 = s3ClientFor(judy);
    const ivanKey = `${ivan.storage.prefix}photo.jpg`;
    await ivanS3.send(new PutObjectCommand({ Bucket: ivan.storage.bucket, Key: ivanKey, Body: 'ivan' }));
    const revoked = await admin('--json', 'revoke-credentials', 'cli-ivan');
    expect(revoked.code).toBe(0);
    const { credentialsIssuedBefore } = JSON.parse(revoked.out) as { credentialsIssuedBefore: string };
    expect(await s3ErrorCode(ivanS3.send(new GetObjectCommand({ Bucket: ivan.storage.bucket, Key: ivanKey })))).toBe('AccessDenied');
    expect(await s3ErrorCode(ivanS3.send(new ListObjectsV2Command({ Bucket: ivan.storage.bucket, Prefix: ivan.storage.prefix })))).toBe('AccessDenied');
    await expect(judyS3.send(new PutObjectCommand({ Bucket: judy.storage.bucket, Key: `${judy.storage.prefix}ok.txt`, Body: 'fine' }))).resolves.toBeDefined();
    expect((await postJson(`${runningSandbox().apiUrl}/token`, undefined, { Authorization: `Bearer ${ivan.session.token}` })).status).toBe(401);
    // Credentials issued once the cut-off instant has passed work again.
    await passInstant(credentialsIssuedBefore);
    const again = await login(runningSandbox().apiUrl, 'cli-ivan', PASSWORD);
    const freshS3 = s3ClientFor(again);
    const object = await freshS3.send(new GetObjectCommand({ Bucket: again.storage.bucket, Key: ivanKey }));
    expect(await object.Body?.transformToString()).toBe('ivan');
    expect(await adminJson<Array<{ username: string }>>('revocations')).toContainEqual(expect.objectContaining({ username: 'cli-ivan', credentialsIssuedBefore }));
    const trail = await adminJson<Array<{ type: string }>>('audit', 'cli-ivan');
    expect(trail.slice(0, 3).map((event) => event.type)).toEqual(['login_ok', 'credentials_revoked', 'session_revoked']);
    const persisted = JSON.parse(readFileSync(join(dataDir(), 'role-policies.json'), 'utf8')) as Record<string, unknown>;
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

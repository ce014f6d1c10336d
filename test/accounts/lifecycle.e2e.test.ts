/**
 * An account's whole life against the sandbox, with tvm-admin run in-process: delete, disable
 * and revoke-credentials leave no credential that still works at the S3 gate, a deleted name
 * cannot inherit anyone's folder, concurrent revocations both hold, a /token racing a
 * revocation never yields working credentials, a list too long to name everyone is matched by
 * revocation group at the S3 gate, and a password reset with STS failing changes nothing.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import { parseUsername } from '../../lambda/accounts/username';
import type { SandboxManifest } from '../../local/manifest';
import { readSandboxSecrets } from '../../local/secrets';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import {
  login,
  passInstant,
  postJson,
  register,
  runAdmin,
  s3ClientFor,
  s3ErrorCode,
  type VendResponse,
} from '../support/e2e';

const PASSWORD = 'correct horse battery';
let sandbox: Sandbox;
let dataDir: string;
let table: DynamoDBClient;
const clients: S3Client[] = [];

/** tvm-admin with a one-second cut-off margin, so a test need not wait for the real one. */
const admin = (...args: string[]) => runAdmin(args, { cutOffMarginMs: 1000 });

async function adminJson<T>(...args: string[]): Promise<T> {
  const result = await admin('--json', ...args);
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.out) as T;
}

function s3For(vended: VendResponse): S3Client {
  const client = s3ClientFor(vended, { maxAttempts: 1 });
  clients.push(client);
  return client;
}

/** Every kind of request the old credentials could try on their own folder, with the error each got. */
async function refusals(vended: VendResponse, key: string): Promise<Record<string, string>> {
  const s3 = s3For(vended);
  const bucket = vended.storage.bucket;
  return {
    get: await s3ErrorCode(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))),
    put: await s3ErrorCode(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'again' }))),
    list: await s3ErrorCode(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: vended.storage.prefix }))),
    delete: await s3ErrorCode(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
  };
}

const ALL_DENIED = { get: 'AccessDenied', put: 'AccessDenied', list: 'AccessDenied', delete: 'AccessDenied' };

const token = (session: string) =>
  postJson(`${sandbox.apiUrl}/token`, undefined, { Authorization: `Bearer ${session}` });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-lifecycle-'));
  process.env.TVM_DATA_DIR = dataDir;
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10, faultInjection: true });
  const manifest = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxManifest;
  table = new DynamoDBClient({
    endpoint: manifest.dynamoEndpoint,
    region: manifest.region,
    credentials: readSandboxSecrets(dataDir).operatorKey,
  });
}, 60_000);

afterAll(async () => {
  clients.forEach((client) => client.destroy());
  table?.destroy();
  await sandbox?.stop();
  delete process.env.TVM_DATA_DIR;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('users delete', () => {
  it('cuts off the old credentials, holds the name as taken, and frees it with an empty folder after the hold', async () => {
    const old = await register(sandbox.apiUrl, 'life-del', PASSWORD);
    const key = `${old.storage.prefix}diary.txt`;
    await s3For(old).send(new PutObjectCommand({ Bucket: old.storage.bucket, Key: key, Body: 'private' }));
    const deleted = await admin('--json', 'users', 'delete', 'life-del', '--delete-files', '--yes');
    expect(deleted.code).toBe(0);
    expect(deleted.errors.join('\n')).toMatch(
      /cutting off issued AWS credentials[\s\S]*deleting every object version[\s\S]*deleting the records/,
    );
    const { nameHeldUntil } = JSON.parse(deleted.out) as { nameHeldUntil: string };
    expect(Date.parse(nameHeldUntil)).toBeGreaterThan(Date.now() + 3_600_000);

    expect(await refusals(old, key)).toEqual(ALL_DENIED);

    await register(sandbox.apiUrl, 'life-taken', PASSWORD);
    const taken = await postJson(`${sandbox.apiUrl}/register`, { username: 'life-taken', password: PASSWORD });
    const held = await postJson(`${sandbox.apiUrl}/register`, { username: 'life-del', password: PASSWORD });
    expect(held).toEqual(taken);
    expect(held.status).toBe(409);
    // Running it again finds the deletion complete.
    expect((await admin('users', 'delete', 'life-del')).code).toBe(0);
    expect((await admin('users', 'show', 'life-del')).errors).toEqual([
      `tvm-admin: life-del was deleted; the name is held until ${nameHeldUntil}.`,
    ]);

    // The hold's end, without waiting the hour: move heldUntil into the past, as time would.
    await table.send(
      new UpdateItemCommand({
        TableName: 'tvm-users',
        Key: { pk: { S: 'USER#life-del' }, sk: { S: 'PROFILE' } },
        UpdateExpression: 'SET heldUntil = :past',
        ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) } },
      }),
    );
    const [entry] = (
      await adminJson<Array<{ username: string; credentialsIssuedBefore: string }>>('revocations')
    ).filter((row) => row.username === 'life-del');
    await passInstant(entry!.credentialsIssuedBefore);
    const fresh = await register(sandbox.apiUrl, 'life-del', 'a different person entirely');
    const freshS3 = s3For(fresh);
    const listed = await freshS3.send(
      new ListObjectsV2Command({ Bucket: fresh.storage.bucket, Prefix: fresh.storage.prefix }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
    await freshS3.send(new PutObjectCommand({ Bucket: fresh.storage.bucket, Key: key, Body: 'mine' }));
    // The old credentials still cannot touch the new owner's files.
    expect(await s3ErrorCode(s3For(old).send(new GetObjectCommand({ Bucket: old.storage.bucket, Key: key })))).toBe(
      'AccessDenied',
    );
  });
});

describe('users disable and enable', () => {
  it('refuses issued credentials after disable; after enable a login gets credentials that work', async () => {
    const user = await register(sandbox.apiUrl, 'life-dis', PASSWORD);
    const key = `${user.storage.prefix}note.txt`;
    const disabled = await adminJson<{ credentialsIssuedBefore: string }>('users', 'disable', 'life-dis');
    expect(disabled.credentialsIssuedBefore).toEqual(expect.any(String));
    expect(await refusals(user, key)).toEqual(ALL_DENIED);
    expect((await token(user.session.token)).status).toBe(401);
    expect((await postJson(`${sandbox.apiUrl}/login`, { username: 'life-dis', password: PASSWORD })).status).toBe(401);
    expect((await admin('users', 'enable', 'life-dis')).code).toBe(0);
    const again = await login(sandbox.apiUrl, 'life-dis', PASSWORD);
    await expect(
      s3For(again).send(new PutObjectCommand({ Bucket: again.storage.bucket, Key: key, Body: 'back' })),
    ).resolves.toBeDefined();
  });
});

describe('revoke-credentials', () => {
  it('never leaves working credentials from a /token racing it', async () => {
    const user = await register(sandbox.apiUrl, 'life-race', PASSWORD);
    const before = await token(user.session.token);
    expect(before.status).toBe(200);
    const vended: VendResponse[] = [
      user,
      { ...user, ...(before.body as Pick<VendResponse, 'credentials' | 'storage'>) },
    ];
    const statuses: number[] = [];
    let revoking = true;
    const racer = async () => {
      while (revoking) {
        const answer = await token(user.session.token);
        statuses.push(answer.status);
        if (answer.status === 200)
          vended.push({ ...user, ...(answer.body as Pick<VendResponse, 'credentials' | 'storage'>) });
      }
    };
    const racers = [racer(), racer(), racer()];
    // The real margin (the functions' timeout): this is the race it exists for.
    const revoked = await runAdmin(['revoke-credentials', 'life-race']);
    revoking = false;
    await Promise.all(racers);
    expect(revoked.code).toBe(0);
    expect(statuses).toContain(401);
    for (const credentials of vended) {
      expect(
        await s3ErrorCode(
          s3For(credentials).send(
            new ListObjectsV2Command({ Bucket: user.storage.bucket, Prefix: user.storage.prefix }),
          ),
        ),
      ).toBe('AccessDenied');
    }
  });

  it('holds both of two concurrent revocations', async () => {
    const first = await register(sandbox.apiUrl, 'life-pair-1', PASSWORD);
    const second = await register(sandbox.apiUrl, 'life-pair-2', PASSWORD);
    const results = await Promise.all([
      admin('revoke-credentials', 'life-pair-1'),
      admin('revoke-credentials', 'life-pair-2'),
    ]);
    expect(results.map((result) => result.code)).toEqual([0, 0]);
    for (const user of [first, second]) {
      expect(
        await s3ErrorCode(
          s3For(user).send(new GetObjectCommand({ Bucket: user.storage.bucket, Key: `${user.storage.prefix}x` })),
        ),
      ).toBe('AccessDenied');
    }
    const listed = (await adminJson<Array<{ username: string }>>('revocations')).map((row) => row.username);
    expect(listed).toEqual(expect.arrayContaining(['life-pair-1', 'life-pair-2']));
  });
});

describe('a revocation list too long to name everyone', () => {
  it('is matched by revocation group at the S3 gate: the revoked user is cut off, new credentials work', async () => {
    const manifest = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxManifest;
    const store = new DynamoRevocationStore(table, manifest.tableName);
    // More 64-character names than the by-name policy can hold, cut off a while ago.
    const past = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const filler = Array.from({ length: 150 }, (_, index) => ({
      username: parseUsername(`${String(index).padStart(6, '0')}-${'f'.repeat(57)}`),
      cutOffAt: past,
    }));
    for (const entry of filler) await store.record(entry, past + 7_200_000);
    const victim = await register(sandbox.apiUrl, 'life-grouped', PASSWORD);
    const revoked = await adminJson<{ matchedBy: string; credentialsIssuedBefore: string }>(
      'revoke-credentials',
      'life-grouped',
    );
    expect(revoked.matchedBy).toBe('groups');
    expect(
      await s3ErrorCode(
        s3For(victim).send(new ListObjectsV2Command({ Bucket: victim.storage.bucket, Prefix: victim.storage.prefix })),
      ),
    ).toBe('AccessDenied');
    await passInstant(revoked.credentialsIssuedBefore);
    const again = await login(sandbox.apiUrl, 'life-grouped', PASSWORD);
    await expect(
      s3For(again).send(
        new PutObjectCommand({ Bucket: again.storage.bucket, Key: `${again.storage.prefix}ok.txt`, Body: 'ok' }),
      ),
    ).resolves.toBeDefined();
    for (const entry of filler) await store.remove(entry);
    expect((await adminJson<{ matchedBy: string }>('revocations', 'prune')).matchedBy).toBe('users');
  });
});

describe('password reset', () => {
  it('leaves the old password and the code valid when STS fails', async () => {
    await register(sandbox.apiUrl, 'life-reset', PASSWORD);
    const { code } = await adminJson<{ code: string }>('reset-code', 'life-reset');
    const body = { username: 'life-reset', resetCode: code, newPassword: 'the new passphrase' };
    sandbox.faults!.sts.setMode('fail');
    try {
      expect((await postJson(`${sandbox.apiUrl}/password/reset`, body)).status).toBe(503);
    } finally {
      sandbox.faults!.sts.setMode('pass');
    }
    expect((await postJson(`${sandbox.apiUrl}/login`, { username: 'life-reset', password: PASSWORD })).status).toBe(
      200,
    );
    expect((await postJson(`${sandbox.apiUrl}/password/reset`, body)).status).toBe(200);
    expect(
      (await postJson(`${sandbox.apiUrl}/login`, { username: 'life-reset', password: 'the new passphrase' })).status,
    ).toBe(200);
  });
});

describe('a reset code issued before the operator acted', () => {
  test.each([
    ['disabled', ['users', 'disable']],
    ['deleted', ['users', 'delete', '--yes']],
  ])('a reset code issued before the account was %s is refused and vends no credentials', async (state, command) => {
    const username = `life-code-${state}`;
    const newPassword = 'a brand new passphrase here';
    await register(sandbox.apiUrl, username, PASSWORD);
    const { code } = await adminJson<{ code: string }>('reset-code', username);
    expect((await admin(...command, username)).code).toBe(0);
    const redeemed = await postJson(`${sandbox.apiUrl}/password/reset`, { username, resetCode: code, newPassword });
    expect(redeemed.status).toBe(401);
    expect(JSON.stringify(redeemed.body)).not.toContain('accessKeyId');
    expect((await postJson(`${sandbox.apiUrl}/login`, { username, password: newPassword })).status).toBe(401);
  });
});

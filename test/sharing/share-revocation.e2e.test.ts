/**
 * Revocation reaches share credentials already issued, against the sandbox with the AWS SDK and
 * tvm-admin run in-process: right after `DELETE /shares/{id}` answers, the S3 gate refuses them
 * (the route's Invoke ran the cut-off worker first); an owner's self-service deletion cuts off
 * the grantee's credentials and vends none; a grantee deleted and the name registered again
 * inherits no share; revoke-credentials on a grantee, and disabling an owner, cut off share
 * credentials too; tvm-admin lists and revokes shares and links, and its audit shows the events.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShareCredentialsResult, ShareList, ShareSummary } from '../../lambda/contract/wire';
import type { SandboxManifest } from '../../local/manifest';
import { readSandboxSecrets } from '../../local/secrets';
import {
  passInstant,
  register,
  runAdmin,
  s3ClientFor,
  s3ErrorCode,
  sandboxForThisFile,
  type VendResponse,
} from '../support/e2e';

const PASSWORD = 'correct horse battery';
// No sweep timer: only the Invoke of DELETE /shares (and a test's explicit sweep) runs the worker.
const sandbox = sandboxForThisFile('tvm-share-revocation-', { deletionSweepMs: 0 });
const clients: S3Client[] = [];
let table: DynamoDBClient;

beforeAll(() => {
  const dataDir = process.env.TVM_DATA_DIR!;
  const manifest = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxManifest;
  table = new DynamoDBClient({
    endpoint: manifest.dynamoEndpoint,
    region: manifest.region,
    credentials: readSandboxSecrets(dataDir).operatorKey,
  });
});

afterAll(() => {
  clients.forEach((client) => client.destroy());
  table?.destroy();
});

/** tvm-admin with a one-second cut-off margin, so a test need not wait for the real one. */
const admin = (...args: string[]) => runAdmin(args, { cutOffMarginMs: 1000 });

async function adminJson<T>(...args: string[]): Promise<T> {
  const result = await admin('--json', ...args);
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.out) as T;
}

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sandbox().apiUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** `owner` shares `path` with `grantee` (read); returns the share. */
async function share(owner: VendResponse, grantee: string, path: string): Promise<ShareSummary> {
  const created = await call('POST', '/shares', owner.session.token, { path, grantee, access: 'read' });
  expect(created.status).toBe(201);
  return created.body as ShareSummary;
}

/** The grantee's share credentials for `id`: status, and an S3 client when vended. */
async function vend(grantee: VendResponse, id: string): Promise<{ status: number; s3?: S3Client }> {
  const vended = await call('POST', `/shares/${id}/credentials`, grantee.session.token);
  if (vended.status !== 200) return { status: vended.status };
  const result = vended.body as ShareCredentialsResult;
  const s3 = s3ClientFor({ credentials: result.credentials, storage: result.storage }, { maxAttempts: 1 });
  clients.push(s3);
  return { status: 200, s3 };
}

/** The owner's file `key` (under their folder), as the grantee's share credentials read it. */
const read = (s3: S3Client, owner: VendResponse, key: string) =>
  s3ErrorCode(s3.send(new GetObjectCommand({ Bucket: owner.storage.bucket, Key: `${owner.storage.prefix}${key}` })));

async function putFile(owner: VendResponse, key: string): Promise<void> {
  const s3 = s3ClientFor(owner);
  clients.push(s3);
  await s3.send(
    new PutObjectCommand({ Bucket: owner.storage.bucket, Key: `${owner.storage.prefix}${key}`, Body: 'shared' }),
  );
}

describe('DELETE /shares/{id}', () => {
  it('cuts off credentials already issued for the share by the time it answers 204, and vends no more; another share still works', async () => {
    const alice = await register(sandbox().apiUrl, 'rev-alice', PASSWORD);
    const bob = await register(sandbox().apiUrl, 'rev-bob', PASSWORD);
    await putFile(alice, 'photos/a.jpg');
    await putFile(alice, 'docs/b.txt');
    const photos = await share(alice, 'rev-bob', 'photos/');
    const docs = await share(alice, 'rev-bob', 'docs/');
    const photosVend = await vend(bob, photos.id);
    const docsVend = await vend(bob, docs.id);
    expect(await read(photosVend.s3!, alice, 'photos/a.jpg')).toBe('resolved');

    const started = performance.now();
    expect((await call('DELETE', `/shares/${photos.id}`, alice.session.token)).status).toBe(204);
    console.info(`DELETE /shares/{id} answered in ${Math.round(performance.now() - started)} ms`);
    // No wait, no sweep timer: the route's Invoke ran the worker before it answered.
    expect(await read(photosVend.s3!, alice, 'photos/a.jpg')).toBe('AccessDenied');
    expect((await vend(bob, photos.id)).status).toBe(404);
    expect(await read(docsVend.s3!, alice, 'docs/b.txt')).toBe('resolved');

    // The grantee leaving cuts off his own credentials the same way.
    expect((await call('DELETE', `/shares/${docs.id}`, bob.session.token)).status).toBe(204);
    expect(await read(docsVend.s3!, alice, 'docs/b.txt')).toBe('AccessDenied');
  });
});

describe('the account lifecycle', () => {
  it("an owner's self-service deletion refuses new vends at once, cuts off the grantee's issued credentials at the worker's first step, and removes the shares and links", async () => {
    const erin = await register(sandbox().apiUrl, 'rev-erin', PASSWORD);
    const frank = await register(sandbox().apiUrl, 'rev-frank', PASSWORD);
    await putFile(erin, 'photos/a.jpg');
    const given = await share(erin, 'rev-frank', 'photos/');
    const link = await call('POST', '/links', erin.session.token, { path: 'photos/a.jpg' });
    expect(link.status).toBe(201);
    const linkId = (link.body as { id: string }).id;
    const issued = await vend(frank, given.id);
    expect(await read(issued.s3!, erin, 'photos/a.jpg')).toBe('resolved');

    expect((await call('DELETE', '/account', erin.session.token, { currentPassword: PASSWORD })).status).toBe(202);
    expect((await vend(frank, given.id)).status).toBe(404);
    await sandbox().sweepDeletions();
    expect(await read(issued.s3!, erin, 'photos/a.jpg')).toBe('AccessDenied');
    await sandbox().sweepDeletions();
    const listed = (await call('GET', '/shares', frank.session.token)).body as ShareList;
    expect(listed.received).toEqual([]);
    expect((await fetch(`${sandbox().apiUrl}/l/${linkId}`, { redirect: 'manual' })).status).toBe(404);
  });

  it('a grantee deleted and the name registered again by someone else inherits no share', async () => {
    const gina = await register(sandbox().apiUrl, 'rev-gina', PASSWORD);
    await register(sandbox().apiUrl, 'rev-hank', PASSWORD);
    await share(gina, 'rev-hank', 'photos/');
    const deleted = await admin('--json', 'users', 'delete', 'rev-hank', '--yes');
    expect(deleted.code).toBe(0);
    // The hold's end, without waiting the hour: move heldUntil into the past, as time would.
    await table.send(
      new UpdateItemCommand({
        TableName: 'tvm-users',
        Key: { pk: { S: 'USER#rev-hank' }, sk: { S: 'PROFILE' } },
        UpdateExpression: 'SET heldUntil = :past',
        ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) } },
      }),
    );
    const [entry] = (
      await adminJson<Array<{ username?: string; credentialsIssuedBefore: string }>>('revocations')
    ).filter((row) => row.username === 'rev-hank');
    await passInstant(entry!.credentialsIssuedBefore);
    const newHank = await register(sandbox().apiUrl, 'rev-hank', 'a different person entirely');
    const listed = (await call('GET', '/shares', newHank.session.token)).body as ShareList;
    expect(listed).toEqual({ given: [], received: [] });
    expect(((await call('GET', '/shares', gina.session.token)).body as ShareList).given).toEqual([]);
  });

  it('revoke-credentials on a grantee cuts off his share credentials too (the username tag)', async () => {
    const ivy = await register(sandbox().apiUrl, 'rev-ivy', PASSWORD);
    const jack = await register(sandbox().apiUrl, 'rev-jack', PASSWORD);
    await putFile(ivy, 'photos/a.jpg');
    const given = await share(ivy, 'rev-jack', 'photos/');
    const issued = await vend(jack, given.id);
    expect(await read(issued.s3!, ivy, 'photos/a.jpg')).toBe('resolved');
    expect((await admin('revoke-credentials', 'rev-jack')).code).toBe(0);
    expect(await read(issued.s3!, ivy, 'photos/a.jpg')).toBe('AccessDenied');
  });

  it('disabling an owner cuts off every share they gave, keeps them, and vends nothing until enabled', async () => {
    const kate = await register(sandbox().apiUrl, 'rev-kate', PASSWORD);
    const liam = await register(sandbox().apiUrl, 'rev-liam', PASSWORD);
    await putFile(kate, 'photos/a.jpg');
    const given = await share(kate, 'rev-liam', 'photos/');
    const issued = await vend(liam, given.id);
    const disabled = await adminJson<{ cutOffShares: number }>('users', 'disable', 'rev-kate');
    expect(disabled.cutOffShares).toBe(1);
    expect(await read(issued.s3!, kate, 'photos/a.jpg')).toBe('AccessDenied');
    expect((await vend(liam, given.id)).status).toBe(404);
    expect((await adminJson<Array<{ id: string }>>('shares', 'list', 'rev-kate')).map((s) => s.id)).toEqual([given.id]);
    expect((await admin('users', 'enable', 'rev-kate')).code).toBe(0);
    const again = await vend(liam, given.id);
    expect(again.status).toBe(200);
    expect(await read(again.s3!, kate, 'photos/a.jpg')).toBe('resolved');
  });
});

describe('tvm-admin', () => {
  it('lists and revokes a share (its issued credentials refused at once) and a link; the audit shows each event', async () => {
    const mona = await register(sandbox().apiUrl, 'rev-mona', PASSWORD);
    const ned = await register(sandbox().apiUrl, 'rev-ned', PASSWORD);
    await putFile(mona, 'photos/a.jpg');
    const given = await share(mona, 'rev-ned', 'photos/');
    const issued = await vend(ned, given.id);
    const link = (await call('POST', '/links', mona.session.token, { path: 'photos/a.jpg' })).body as { id: string };

    const shares = await adminJson<Array<{ id: string; direction: string; lastUsedBy?: string }>>(
      'shares',
      'list',
      'rev-ned',
    );
    expect(shares).toEqual([expect.objectContaining({ id: given.id, direction: 'received', lastUsedBy: 'rev-ned' })]);
    expect((await admin('--dry-run', 'shares', 'revoke', 'rev-mona', given.id)).code).toBe(0);
    expect(await read(issued.s3!, mona, 'photos/a.jpg')).toBe('resolved');
    const revoked = await adminJson<{ revoked: boolean }>('shares', 'revoke', 'rev-mona', given.id);
    expect(revoked.revoked).toBe(true);
    expect(await read(issued.s3!, mona, 'photos/a.jpg')).toBe('AccessDenied');
    expect((await vend(ned, given.id)).status).toBe(404);
    expect((await admin('shares', 'revoke', 'rev-mona', given.id)).code).toBe(1);

    expect((await adminJson<Array<{ id: string }>>('links', 'list', 'rev-mona')).map((l) => l.id)).toEqual([link.id]);
    expect((await adminJson<{ revoked: boolean }>('links', 'revoke', 'rev-mona', link.id)).revoked).toBe(true);
    expect((await fetch(`${sandbox().apiUrl}/l/${link.id}`, { redirect: 'manual' })).status).toBe(404);

    const events = (await adminJson<Array<{ type: string }>>('audit', 'rev-mona')).map((event) => event.type);
    expect(events).toEqual(
      expect.arrayContaining(['share_created', 'share_used', 'share_revoked', 'link_created', 'link_revoked']),
    );
    const table = (await admin('audit', 'rev-ned')).out;
    expect(table).toMatch(/share_revoked/);
    expect(table).toMatch(/share_used/);
  });
});

/**
 * Sharing between parties, against the sandbox with the real AWS SDK (the "What must
 * hold", items 1-7). The parties: alice (the owner), bob (the grantee), carol (a second account),
 * a stranger with no password, a thief holding bob's share credentials, and bob trying to reshare.
 * One sandbox for the whole file; each describe block sets up only what it needs.
 */
import { DynamoDBClient, ListTablesCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRANT_ID_CHARACTERS, LINK_URL_SECONDS, SHARE_PATH_MAX_BYTES } from '../../lambda/contract/limits';
import type {
  LinkCreated,
  LinkList,
  ShareCredentialsResult,
  ShareList,
  ShareSummary,
} from '../../lambda/contract/wire';
import { policyBytes } from '../../lambda/sharing/share-path';
import type { SandboxManifest } from '../../local/manifest';
import { readSandboxSecrets } from '../../local/secrets';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { passInstant, register, runAdmin, s3ClientFor, s3ErrorCode, type VendResponse } from '../support/e2e';
import fc from 'fast-check';
import { acceptedFile, acceptedFolder, sandboxOnlyRefusal } from './share-arbitraries';

const PASSWORD = 'correct horse battery staple';
/**
 * The sandbox of this file, started as sandboxForThisFile does but with the deletion worker's
 * timer off: the tests run its sweep themselves, so a deletion's progress is never taken by a
 * timer's sweep in between.
 */
let running: Sandbox | undefined;
let dataDir: string | undefined;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-sharing-'));
  process.env.TVM_DATA_DIR = dataDir;
  running = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10, deletionSweepMs: 0 });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  delete process.env.TVM_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});
const sandbox = (): Sandbox => {
  if (!running) throw new Error('the sandbox is not running');
  return running;
};
const clients: S3Client[] = [];
afterAll(() => clients.forEach((client) => client.destroy()));

interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** One call to the TVM's API as an app makes it. */
async function api<T = unknown>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const response = await fetch(`${sandbox().apiUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(options.token !== undefined ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

const session = (user: VendResponse) => user.session.token;

async function share(owner: VendResponse, body: Record<string, unknown>): Promise<ShareSummary> {
  const answer = await api<ShareSummary>('POST', '/shares', { token: session(owner), body });
  if (answer.status !== 201) throw new Error(`POST /shares answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function vend(grantee: VendResponse, id: string): Promise<ShareCredentialsResult> {
  const answer = await api<ShareCredentialsResult>('POST', `/shares/${id}/credentials`, { token: session(grantee) });
  if (answer.status !== 200)
    throw new Error(`POST /shares/{id}/credentials answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

function s3(vended: Pick<VendResponse, 'credentials' | 'storage'>): S3Client {
  const client = s3ClientFor(vended);
  clients.push(client);
  return client;
}

async function put(client: S3Client, bucket: string, key: string, body = `contents of ${key}`): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function read(client: S3Client, bucket: string, key: string): Promise<string> {
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return `read: ${await answer.Body?.transformToString()}`;
  } catch (error) {
    return s3ErrorCode(Promise.reject(error));
  }
}

const admin = (...args: string[]) => runAdmin(args, { cutOffMarginMs: 1000 });

function manifest(): SandboxManifest {
  const dataDir = process.env.TVM_DATA_DIR as string;
  return JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxManifest;
}

function bytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** SHA-256 for the SigV4 signer, from node:crypto. */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: Uint8Array | string | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined || typeof secret === 'string' ? secret : bytes(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret !== undefined ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** A request to the TVM's API signed with AWS credentials (as an IAM-authorised API would take it). */
async function signedApi(
  method: string,
  path: string,
  credentials: ShareCredentialsResult['credentials'],
  body?: unknown,
): Promise<number> {
  const url = new URL(`${sandbox().apiUrl}${path}`);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: alice.storage.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    sha256: Sha256,
  });
  const text = body === undefined ? undefined : JSON.stringify(body);
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, ...(text !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(text !== undefined ? { body: text } : {}),
  });
  const response = await fetch(url, {
    method,
    headers: signed.headers,
    ...(text !== undefined ? { body: text } : {}),
  });
  await response.text();
  return response.status;
}

/** The TVM error shape: `{error: {code, message}}` and nothing else. */
const TVM_ERROR = { error: { code: expect.any(String), message: expect.any(String) } };
/** A 400's error shape: the same, naming the field that was refused. */
const invalid = (field: string) => ({
  error: { code: 'invalid_request', message: expect.any(String), ...(field === '' ? {} : { field }) },
});

let alice: VendResponse;
let bob: VendResponse;
let carol: VendResponse;
let al: VendResponse;
let bucket: string;

beforeAll(async () => {
  const [a, b, c, d] = await Promise.all(
    ['alice', 'bob', 'carol', 'al'].map((name) => register(sandbox().apiUrl, name, PASSWORD)),
  );
  [alice, bob, carol, al] = [a as VendResponse, b as VendResponse, c as VendResponse, d as VendResponse];
  bucket = alice.storage.bucket;
  const own = s3(alice);
  for (const key of [
    'photos/a.jpg',
    'photos/a.jpg.bak',
    'photos/b.jpg',
    'photos2/x.jpg',
    'docs/secret.txt',
    'notes.txt',
  ])
    await put(own, bucket, `alice/${key}`);
  await put(s3(carol), bucket, 'carol/private.txt');
  await put(s3(al), bucket, 'al/photos/a.jpg');
}, 60_000);

describe('item 1: a grantee reaches exactly the shared path with the shared access', () => {
  let fileShare: ShareSummary;
  let folderShare: ShareSummary;
  let fileCredentials: ShareCredentialsResult;
  let folderCredentials: ShareCredentialsResult;

  beforeAll(async () => {
    fileShare = await share(alice, { path: 'photos/a.jpg', grantee: 'bob', access: 'read' });
    folderShare = await share(alice, { path: 'photos/', grantee: 'bob', access: 'readwrite' });
    fileCredentials = await vend(bob, fileShare.id);
    folderCredentials = await vend(bob, folderShare.id);
  });

  it('POST /shares answers the share; the credentials route answers the shared prefix, the access and the end', () => {
    expect(fileShare).toEqual({
      id: expect.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${GRANT_ID_CHARACTERS}}$`)),
      owner: 'alice',
      path: 'photos/a.jpg',
      grantee: 'bob',
      access: 'read',
      expiresAt: null,
      createdAt: expect.any(String),
    });
    expect(fileCredentials).toMatchObject({
      storage: { bucket, prefix: 'alice/photos/a.jpg', region: alice.storage.region },
      access: 'read',
      expiresAt: null,
    });
    expect(folderCredentials.storage.prefix).toBe('alice/photos/');
  });

  it('a read file share: the file can be read and headed, and nothing else: not a.jpg.bak, not a write, not a listing, not another user', async () => {
    const client = s3(fileCredentials);
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    expect(await s3ErrorCode(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alice/photos/a.jpg' })))).toBe(
      'resolved',
    );
    const refused = {
      bak: await read(client, bucket, 'alice/photos/a.jpg.bak'),
      sibling: await read(client, bucket, 'alice/photos/b.jpg'),
      otherFolder: await read(client, bucket, 'alice/docs/secret.txt'),
      ownerRoot: await read(client, bucket, 'alice/notes.txt'),
      neighbourOwner: await read(client, bucket, 'al/photos/a.jpg'),
      otherUser: await read(client, bucket, 'carol/private.txt'),
      write: await s3ErrorCode(put(client, bucket, 'alice/photos/a.jpg', 'overwritten')),
      delete: await s3ErrorCode(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'alice/photos/a.jpg' }))),
      listFile: await s3ErrorCode(
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'alice/photos/a.jpg' })),
      ),
      listFolder: await s3ErrorCode(client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'alice/photos/' }))),
      listRoot: await s3ErrorCode(client.send(new ListObjectsV2Command({ Bucket: bucket }))),
      granteeOwnFolder: await s3ErrorCode(put(client, bucket, 'bob/x.txt')),
    };
    expect(refused).toEqual(Object.fromEntries(Object.keys(refused).map((name) => [name, 'AccessDenied'])));
    expect(await read(s3(alice), bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
  });

  it('a read-write folder share: get, put, delete and multipart inside photos/, list with photos/ only; photos2/, the key "photos", alice/ and the bucket root stay out', async () => {
    const client = s3(folderCredentials);
    await put(client, bucket, 'alice/photos/from-bob.txt', 'hello');
    expect(await read(s3(alice), bucket, 'alice/photos/from-bob.txt')).toBe('read: hello');
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'alice/photos/', Delimiter: '/' }),
    );
    expect((listed.Contents ?? []).map((entry) => entry.Key).sort()).toEqual([
      'alice/photos/a.jpg',
      'alice/photos/a.jpg.bak',
      'alice/photos/b.jpg',
      'alice/photos/from-bob.txt',
    ]);
    expect(
      await s3ErrorCode(client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'alice/photos/big.bin' }))),
    ).toBe('resolved');
    expect(
      await s3ErrorCode(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'alice/photos/from-bob.txt' }))),
    ).toBe('resolved');
    const refused = {
      sibling: await read(client, bucket, 'alice/photos2/x.jpg'),
      writeSibling: await s3ErrorCode(put(client, bucket, 'alice/photos2/y.jpg')),
      writeKeyPhotos: await s3ErrorCode(put(client, bucket, 'alice/photos')),
      ownerRoot: await read(client, bucket, 'alice/notes.txt'),
      deleteOutside: await s3ErrorCode(
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'alice/notes.txt' })),
      ),
      neighbourOwner: await read(client, bucket, 'al/photos/a.jpg'),
      listOwner: await s3ErrorCode(client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'alice/' }))),
      listSlashless: await s3ErrorCode(
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'alice/photos' })),
      ),
      listRoot: await s3ErrorCode(client.send(new ListObjectsV2Command({ Bucket: bucket }))),
      otherUser: await read(client, bucket, 'carol/private.txt'),
    };
    expect(refused).toEqual(Object.fromEntries(Object.keys(refused).map((name) => [name, 'AccessDenied'])));
  });

  it('a read folder share never writes or deletes', async () => {
    const docs = await share(alice, { path: 'docs/', grantee: 'bob', access: 'read' });
    const client = s3(await vend(bob, docs.id));
    expect(await read(client, bucket, 'alice/docs/secret.txt')).toBe('read: contents of alice/docs/secret.txt');
    expect({
      put: await s3ErrorCode(put(client, bucket, 'alice/docs/new.txt')),
      overwrite: await s3ErrorCode(put(client, bucket, 'alice/docs/secret.txt', 'changed')),
      delete: await s3ErrorCode(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'alice/docs/secret.txt' }))),
      multipart: await s3ErrorCode(
        client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'alice/docs/b' })),
      ),
    }).toEqual({ put: 'AccessDenied', overwrite: 'AccessDenied', delete: 'AccessDenied', multipart: 'AccessDenied' });
    expect(await read(s3(alice), bucket, 'alice/docs/secret.txt')).toBe('read: contents of alice/docs/secret.txt');
  });

  it('generated paths in any script and with URL syntax (fast-check): the grantee reads inside the shared path, and not a neighbour that only extends its name', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(acceptedFile, acceptedFolder), async (path) => {
        const inside = path.endsWith('/') ? `alice/${path}inside.txt` : `alice/${path}`;
        const neighbour = path.endsWith('/') ? `alice/${path.slice(0, -1)}.bak/inside.txt` : `alice/${path}.bak`;
        fc.pre(!sandboxOnlyRefusal(inside) && !sandboxOnlyRefusal(neighbour));
        const own = s3(alice);
        await put(own, bucket, inside);
        await put(own, bucket, neighbour);
        const client = s3(await vend(bob, (await share(alice, { path, grantee: 'bob', access: 'read' })).id));
        expect({
          path,
          inside: await read(client, bucket, inside),
          neighbour: await read(client, bucket, neighbour),
        }).toEqual({
          path,
          inside: `read: contents of ${inside}`,
          neighbour: 'AccessDenied',
        });
      }),
      { numRuns: 12, seed: 24 },
    );
  });

  it('share credentials reach no STS and no DynamoDB', async () => {
    const { credentials } = folderCredentials;
    const keys = {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    };
    const { stsEndpoint, dynamoEndpoint, region, vendingRoleArn } = manifest();
    const sts = new STSClient({ region, endpoint: stsEndpoint, credentials: keys, maxAttempts: 1 });
    const dynamo = new DynamoDBClient({ region, endpoint: dynamoEndpoint, credentials: keys, maxAttempts: 1 });
    try {
      const assume = await sts.send(new AssumeRoleCommand({ RoleArn: vendingRoleArn, RoleSessionName: 'alice' })).then(
        () => 'resolved',
        (error: Error) => error.name,
      );
      const tables = await dynamo.send(new ListTablesCommand({})).then(
        () => 'resolved',
        (error: Error) => error.name,
      );
      expect(assume).toBe('AccessDenied');
      expect(tables).not.toBe('resolved');
    } finally {
      sts.destroy();
      dynamo.destroy();
    }
  });

  it('only the grantee vends: the owner, a second account, a stranger, an unknown id and a malformed id all get 404 or 401, the same 404 for each', async () => {
    const asOwner = await api('POST', `/shares/${fileShare.id}/credentials`, { token: session(alice) });
    const asCarol = await api('POST', `/shares/${fileShare.id}/credentials`, { token: session(carol) });
    const unknown = await api('POST', `/shares/${'A'.repeat(GRANT_ID_CHARACTERS)}/credentials`, {
      token: session(bob),
    });
    const malformed = await api('POST', '/shares/..%2F..%2Fx/credentials', { token: session(bob) });
    const stranger = await api('POST', `/shares/${fileShare.id}/credentials`);
    expect([asOwner.status, asCarol.status, unknown.status, malformed.status]).toEqual([404, 404, 404, 404]);
    expect(asCarol.body).toEqual(unknown.body);
    expect(asOwner.body).toEqual(unknown.body);
    expect(asCarol.body).toEqual(TVM_ERROR);
    expect(stranger.status).toBe(401);
    // A stranger without a password reaches no sharing route but a link's.
    expect([
      (await api('GET', '/shares')).status,
      (await api('POST', '/shares', { body: { path: 'photos/', grantee: 'bob', access: 'read' } })).status,
      (await api('DELETE', `/shares/${fileShare.id}`)).status,
      (await api('GET', '/links')).status,
      (await api('POST', '/links', { body: { path: 'photos/a.jpg' } })).status,
    ]).toEqual([401, 401, 401, 401, 401]);
  });
});

describe('item 2: revocation and expiry cut off issued credentials and stop new ones', () => {
  it("DELETE /shares/{id} by the owner: the grantee's issued credentials are refused at once and none are vended", async () => {
    const given = await share(alice, { path: 'photos/', grantee: 'bob', access: 'readwrite' });
    const client = s3(await vend(bob, given.id));
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    expect((await api('DELETE', `/shares/${given.id}`, { token: session(alice) })).status).toBe(204);
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
    expect(await s3ErrorCode(put(client, bucket, 'alice/photos/late.txt'))).toBe('AccessDenied');
    expect((await api('POST', `/shares/${given.id}/credentials`, { token: session(bob) })).status).toBe(404);
    const listed = await api<ShareList>('GET', '/shares', { token: session(bob) });
    expect(listed.body.received.map((entry) => entry.id)).not.toContain(given.id);
  });

  it("DELETE /shares/{id} by the grantee (leaving): the same; a second account cannot delete someone else's share (404)", async () => {
    const given = await share(alice, { path: 'photos/a.jpg', grantee: 'bob', access: 'read' });
    const client = s3(await vend(bob, given.id));
    expect((await api('DELETE', `/shares/${given.id}`, { token: session(carol) })).status).toBe(404);
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    expect((await api('DELETE', `/shares/${given.id}`, { token: session(bob) })).status).toBe(204);
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
    const owners = await api<ShareList>('GET', '/shares', { token: session(alice) });
    expect(owners.body.given.map((entry) => entry.id)).not.toContain(given.id);
  });

  it('at expiresAt, issued credentials (which STS made last at least 900 s) are refused and none are vended', async () => {
    const endsAt = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    const given = await share(alice, {
      path: 'photos/a.jpg',
      grantee: 'bob',
      access: 'read',
      expiresAt: endsAt.toISOString(),
    });
    const vended = await vend(bob, given.id);
    expect(vended.expiresAt).toBe(endsAt.toISOString());
    expect(Date.parse(vended.credentials.expiration)).toBeGreaterThan(endsAt.getTime());
    const client = s3(vended);
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    await passInstant(endsAt.toISOString());
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
    expect((await api('POST', `/shares/${given.id}/credentials`, { token: session(bob) })).status).toBe(404);
  });

  it('refuses an expiresAt in the past or more than a year ahead, with 400 and nothing written', async () => {
    const before = await api<ShareList>('GET', '/shares', { token: session(alice) });
    for (const expiresAt of [
      new Date(Date.now() - 1000).toISOString(),
      new Date(Date.now() + 367 * 86_400_000).toISOString(),
      'tomorrow',
    ]) {
      const answer = await api('POST', '/shares', {
        token: session(alice),
        body: { path: 'photos/', grantee: 'bob', access: 'read', expiresAt },
      });
      expect({ expiresAt, status: answer.status, body: answer.body }).toEqual({
        expiresAt,
        status: 400,
        body: invalid('expiresAt'),
      });
    }
    expect((await api<ShareList>('GET', '/shares', { token: session(alice) })).body.given).toEqual(before.body.given);
  });
});

describe('item 3: the account lifecycle keeps the promise', () => {
  /** `DELETE /account` with the password (the self-service deletion), then the worker's sweep until it is done. */
  async function deleteAccount(user: VendResponse, password = PASSWORD): Promise<void> {
    const answer = await api('DELETE', '/account', { token: session(user), body: { currentPassword: password } });
    expect(answer.status).toBe(202);
    for (let sweep = 0; sweep < 5; sweep++) {
      const outcomes = await sandbox().sweepDeletions();
      const mine = outcomes.find((outcome) => outcome.username === user.username);
      if (mine?.error) throw mine.error;
      if (mine?.progress?.state === 'deleted') return;
    }
    throw new Error(`${user.username}'s deletion did not finish in five sweeps`);
  }

  /** Moves a deleted name's hold into the past, as time would (the hold lasts as long as its last credentials). */
  async function endHold(username: string): Promise<void> {
    const { dynamoEndpoint, region, tableName } = manifest();
    const table = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region,
      credentials: readSandboxSecrets(process.env.TVM_DATA_DIR as string).operatorKey,
    });
    try {
      await table.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: `USER#${username}` }, sk: { S: 'PROFILE' } },
          UpdateExpression: 'SET heldUntil = :past',
          ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) } },
        }),
      );
    } finally {
      table.destroy();
    }
  }

  it('deleting the owner (DELETE /account) cuts off every share of theirs, issued credentials included, and removes them', async () => {
    const owner = await register(sandbox().apiUrl, 'erin', PASSWORD);
    await put(s3(owner), bucket, 'erin/p/x.txt');
    const given = await share(owner, { path: '', grantee: 'bob', access: 'readwrite' });
    const client = s3(await vend(bob, given.id));
    expect(await read(client, bucket, 'erin/p/x.txt')).toBe('read: contents of erin/p/x.txt');
    await deleteAccount(owner);
    expect(await read(client, bucket, 'erin/p/x.txt')).toBe('AccessDenied');
    expect(await s3ErrorCode(put(client, bucket, 'erin/p/y.txt'))).toBe('AccessDenied');
    expect((await api('POST', `/shares/${given.id}/credentials`, { token: session(bob) })).status).toBe(404);
    const received = await api<ShareList>('GET', '/shares', { token: session(bob) });
    expect(received.body.received.map((entry) => entry.owner)).not.toContain('erin');
  });

  it('deleting the grantee (DELETE /account) removes what they received: a later account under the freed name inherits none of it', async () => {
    const grantee = await register(sandbox().apiUrl, 'frank', PASSWORD);
    const given = await share(alice, { path: 'photos/', grantee: 'frank', access: 'readwrite' });
    const client = s3(await vend(grantee, given.id));
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    await deleteAccount(grantee);
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
    const owners = await api<ShareList>('GET', '/shares', { token: session(alice) });
    expect(owners.body.given.map((entry) => entry.grantee)).not.toContain('frank');
    await endHold('frank');
    const newcomer = await register(sandbox().apiUrl, 'frank', 'a different person entirely');
    const inherited = await api<ShareList>('GET', '/shares', { token: session(newcomer) });
    expect(inherited.body).toEqual({ given: [], received: [] });
    expect((await api('POST', `/shares/${given.id}/credentials`, { token: session(newcomer) })).status).toBe(404);
    expect((await api('DELETE', `/shares/${given.id}`, { token: session(newcomer) })).status).toBe(404);
  });

  it('tvm-admin users disable cuts off every share the owner gave, issued credentials included, and vends are refused', async () => {
    const owner = await register(sandbox().apiUrl, 'dave', PASSWORD);
    await put(s3(owner), bucket, 'dave/p/x.txt');
    const given = await share(owner, { path: 'p/', grantee: 'bob', access: 'read' });
    const client = s3(await vend(bob, given.id));
    expect(await read(client, bucket, 'dave/p/x.txt')).toBe('read: contents of dave/p/x.txt');
    expect(await admin('users', 'disable', 'dave')).toMatchObject({ code: 0 });
    expect(await read(client, bucket, 'dave/p/x.txt')).toBe('AccessDenied');
    expect((await api('POST', `/shares/${given.id}/credentials`, { token: session(bob) })).status).toBe(404);
  });

  it('tvm-admin users delete cuts off and removes every share the user gave or received', async () => {
    const [owner, grantee] = await Promise.all([
      register(sandbox().apiUrl, 'owen', PASSWORD),
      register(sandbox().apiUrl, 'gwen', PASSWORD),
    ]);
    await put(s3(owner), bucket, 'owen/p/x.txt');
    const given = await share(owner, { path: 'p/', grantee: 'bob', access: 'read' });
    const received = await share(alice, { path: 'photos/', grantee: 'gwen', access: 'read' });
    const givenClient = s3(await vend(bob, given.id));
    const receivedClient = s3(await vend(grantee, received.id));
    expect(await admin('users', 'delete', 'owen', '--delete-files', '--yes')).toMatchObject({ code: 0 });
    expect(await admin('users', 'delete', 'gwen', '--yes')).toMatchObject({ code: 0 });
    expect({
      given: await read(givenClient, bucket, 'owen/p/x.txt'),
      received: await read(receivedClient, bucket, 'alice/photos/a.jpg'),
    }).toEqual({ given: 'AccessDenied', received: 'AccessDenied' });
    const alices = await api<ShareList>('GET', '/shares', { token: session(alice) });
    expect(alices.body.given.map((entry) => entry.grantee)).not.toContain('gwen');
    const bobs = await api<ShareList>('GET', '/shares', { token: session(bob) });
    expect(bobs.body.received.map((entry) => entry.owner)).not.toContain('owen');
  });

  it('revoke-credentials on the grantee also cuts off their share credentials', async () => {
    const grantee = await register(sandbox().apiUrl, 'gina', PASSWORD);
    const given = await share(alice, { path: 'photos/a.jpg', grantee: 'gina', access: 'read' });
    const client = s3(await vend(grantee, given.id));
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    expect(await admin('revoke-credentials', 'gina')).toMatchObject({ code: 0 });
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
  });
});

describe('item 4: no resharing', () => {
  it("a grantee cannot name the owner's files in a share or a link: paths are relative to the caller's own folder and may not leave it", async () => {
    await share(alice, { path: 'photos/', grantee: 'bob', access: 'readwrite' });
    for (const path of ['../alice/photos/', '/alice/photos/', '..', 'photos/../../alice/']) {
      const reshare = await api('POST', '/shares', {
        token: session(bob),
        body: { path, grantee: 'carol', access: 'read' },
      });
      const file = path.endsWith('/') ? `${path}a.jpg` : `${path}/a.jpg`;
      const relink = await api('POST', '/links', { token: session(bob), body: { path: file } });
      expect({ path, reshare: reshare.status, relink: relink.status }).toEqual({ path, reshare: 400, relink: 400 });
    }
    // The same words as a path inside bob's folder name bob's files, never alice's.
    const own = await share(bob, { path: 'alice/photos/', grantee: 'carol', access: 'read' });
    const carols = await vend(carol, own.id);
    expect(carols.storage.prefix).toBe('bob/alice/photos/');
    expect(await read(s3(carols), bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
  });

  it("share credentials cannot call the TVM's API as anyone: not as a bearer token, not SigV4-signed", async () => {
    const given = await share(alice, { path: 'photos/a.jpg', grantee: 'bob', access: 'read' });
    const { credentials } = await vend(bob, given.id);
    for (const token of [credentials.sessionToken, credentials.accessKeyId, credentials.secretAccessKey]) {
      const asBearer = await api('POST', '/shares', {
        token,
        body: { path: 'photos/', grantee: 'carol', access: 'read' },
      });
      expect(asBearer.status).toBe(401);
      expect((await api('GET', '/shares', { token })).status).toBe(401);
      expect((await api('POST', '/links', { token, body: { path: 'photos/a.jpg' } })).status).toBe(401);
    }
    expect([
      await signedApi('GET', '/shares', credentials),
      await signedApi('POST', '/shares', credentials, { path: 'photos/', grantee: 'carol', access: 'read' }),
      await signedApi('POST', `/shares/${given.id}/credentials`, credentials),
      await signedApi('POST', '/token', credentials),
    ]).toEqual([401, 401, 401, 401]);
  });

  it('refuses a share to oneself, to a user who does not exist, and a path with *, ?, $, {, } or over the limit, with 400 and nothing written', async () => {
    const before = (await api<ShareList>('GET', '/shares', { token: session(alice) })).body.given;
    const bodies: [Record<string, string>, string][] = [
      [{ path: 'photos/', grantee: 'alice', access: 'read' }, 'grantee'],
      [{ path: 'photos/', grantee: 'nobody-here', access: 'read' }, 'grantee'],
      [{ path: 'photos/*', grantee: 'bob', access: 'read' }, 'path'],
      [{ path: 'photos/?', grantee: 'bob', access: 'read' }, 'path'],
      [{ path: '${aws:username}/', grantee: 'bob', access: 'read' }, 'path'],
      [{ path: 'a{b}', grantee: 'bob', access: 'read' }, 'path'],
      // Within the body model's characters, over the limit as the policy carries it (6 bytes each).
      [{ path: `${'\u5199'.repeat(43)}/`, grantee: 'bob', access: 'read' }, 'path'],
      // Longer than the body model allows: API Gateway's validator refuses it before the function, naming no field.
      [{ path: `${'a'.repeat(SHARE_PATH_MAX_BYTES)}/`, grantee: 'bob', access: 'read' }, ''],
      [{ path: 'photos/', grantee: 'bob', access: 'admin' }, 'access'],
    ];
    for (const [body, field] of bodies) {
      const answer = await api('POST', '/shares', { token: session(alice), body });
      expect({ body, status: answer.status, answer: answer.body }).toEqual({
        body,
        status: 400,
        answer: invalid(field),
      });
    }
    expect((await api<ShareList>('GET', '/shares', { token: session(alice) })).body.given).toEqual(before);
  });
});

describe('item 5: the worst-case session policy is accepted by STS end to end', () => {
  it('a 64-character owner shares a folder at the path limit in 4-byte characters with a 64-character grantee, read-write, expiring; the credentials work inside it', async () => {
    const ownerName = `o${'0'.repeat(62)}o`;
    const granteeName = `g${'1'.repeat(62)}g`;
    const [owner, grantee] = await Promise.all([
      register(sandbox().apiUrl, ownerName, PASSWORD),
      register(sandbox().apiUrl, granteeName, PASSWORD),
    ]);
    const emoji = '\u{1F600}';
    const count = Math.floor((SHARE_PATH_MAX_BYTES - 1) / policyBytes(emoji));
    const path = `${emoji.repeat(count)}${'a'.repeat(SHARE_PATH_MAX_BYTES - 1 - count * policyBytes(emoji))}/`;
    expect(policyBytes(path)).toBe(SHARE_PATH_MAX_BYTES);
    await put(s3(owner), bucket, `${ownerName}/${path}x.txt`);
    const given = await share(owner, {
      path,
      grantee: granteeName,
      access: 'readwrite',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const client = s3(await vend(grantee, given.id));
    expect(await read(client, bucket, `${ownerName}/${path}x.txt`)).toBe(`read: contents of ${ownerName}/${path}x.txt`);
    expect(await s3ErrorCode(put(client, bucket, `${ownerName}/${path}y.txt`))).toBe('resolved');
  });

  it('a folder in a script beyond Latin-1 (写真/) is shared and its credentials work (the policy travels escaped)', async () => {
    await put(s3(alice), bucket, 'alice/写真/夏.jpg');
    const given = await share(alice, { path: '写真/', grantee: 'bob', access: 'read' });
    expect(await read(s3(await vend(bob, given.id)), bucket, 'alice/写真/夏.jpg')).toBe(
      'read: contents of alice/写真/夏.jpg',
    );
  });
});

describe('item 6: links', () => {
  async function link(owner: VendResponse, body: Record<string, unknown>): Promise<LinkCreated> {
    const answer = await api<LinkCreated>('POST', '/links', { token: session(owner), body });
    if (answer.status !== 201) throw new Error(`POST /links answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** Opens a link as a browser would, without following the redirect. */
  async function open(url: string): Promise<Answer> {
    const response = await fetch(url, { redirect: 'manual' });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      headers: response.headers,
    };
  }

  it('a link opens with no auth: 302 to a presigned GET of exactly that object, valid at most 300 s, no-store; its id carries at least 128 bits', async () => {
    const created = await link(alice, { path: 'photos/a.jpg' });
    expect(created.id.length * 6).toBeGreaterThanOrEqual(128);
    expect(created.url).toBe(`${sandbox().apiUrl}/l/${created.id}`);
    const opened = await open(created.url);
    expect(opened.status).toBe(302);
    expect(opened.headers.get('cache-control')).toMatch(/no-store/);
    expect(opened.headers.get('referrer-policy')).toBe('no-referrer');
    const location = new URL(opened.headers.get('location') as string);
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(LINK_URL_SECONDS);
    expect(decodeURIComponent(location.pathname)).toBe(`/${bucket}/alice/photos/a.jpg`);
    const file = await fetch(location);
    expect([file.status, await file.text()]).toEqual([200, 'contents of alice/photos/a.jpg']);
    // The same signature on another key is refused: the URL reaches that object only.
    const other = new URL(location);
    other.pathname = `/${bucket}/alice/photos/a.jpg.bak`;
    expect((await fetch(other)).status).toBe(403);
  });

  it('after DELETE /links/{id}, and after expiresAt, GET /l/{id} is 404 in the TVM error shape; an unknown id too', async () => {
    const revoked = await link(alice, { path: 'photos/a.jpg' });
    expect((await api('DELETE', `/links/${revoked.id}`, { token: session(carol) })).status).toBe(404);
    expect((await api('DELETE', `/links/${revoked.id}`, { token: session(alice) })).status).toBe(204);
    const endsAt = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000).toISOString();
    const expiring = await link(alice, { path: 'photos/a.jpg', expiresAt: endsAt });
    expect((await open(expiring.url)).status).toBe(302);
    await passInstant(endsAt);
    for (const url of [revoked.url, expiring.url, `${sandbox().apiUrl}/l/${'A'.repeat(GRANT_ID_CHARACTERS)}`]) {
      const answer = await open(url);
      expect({ url, status: answer.status, body: answer.body }).toEqual({ url, status: 404, body: TVM_ERROR });
    }
  });

  it("a link only names a file of the caller's own folder: not a folder, not the whole folder, not another user's", async () => {
    for (const path of ['', 'photos/', '../carol/private.txt', '/carol/private.txt']) {
      expect({ path, status: (await api('POST', '/links', { token: session(alice), body: { path } })).status }).toEqual(
        {
          path,
          status: 400,
        },
      );
    }
  });

  it("disabling or deleting a link's owner kills their links", async () => {
    const [hank, ivy] = await Promise.all([
      register(sandbox().apiUrl, 'hank', PASSWORD),
      register(sandbox().apiUrl, 'ivy', PASSWORD),
    ]);
    await put(s3(hank), bucket, 'hank/a.txt');
    await put(s3(ivy), bucket, 'ivy/a.txt');
    const hanks = await link(hank, { path: 'a.txt' });
    const ivys = await link(ivy, { path: 'a.txt' });
    expect([(await open(hanks.url)).status, (await open(ivys.url)).status]).toEqual([302, 302]);
    expect(await admin('users', 'disable', 'hank')).toMatchObject({ code: 0 });
    expect(await admin('users', 'delete', 'ivy', '--delete-files', '--yes')).toMatchObject({ code: 0 });
    expect([(await open(hanks.url)).status, (await open(ivys.url)).status]).toEqual([404, 404]);
  });
});

describe('item 7: the owner sees activity', () => {
  it('GET /shares and GET /links show when and by whom each was last used; tvm-admin audit shows the events', async () => {
    const given = await share(alice, { path: 'photos/b.jpg', grantee: 'bob', access: 'read' });
    const before = (await api<ShareList>('GET', '/shares', { token: session(alice) })).body.given.find(
      (entry) => entry.id === given.id,
    );
    expect(before?.lastUsedAt).toBeUndefined();
    const start = Date.now() - 1000;
    await vend(bob, given.id);
    const after = (await api<ShareList>('GET', '/shares', { token: session(alice) })).body.given.find(
      (entry) => entry.id === given.id,
    );
    expect(after).toMatchObject({ lastUsedBy: 'bob' });
    expect(Date.parse(after?.lastUsedAt as string)).toBeGreaterThanOrEqual(start);
    const received = (await api<ShareList>('GET', '/shares', { token: session(bob) })).body.received.find(
      (entry) => entry.id === given.id,
    );
    expect(received).toMatchObject({ owner: 'alice', path: 'photos/b.jpg', access: 'read' });

    const created = await api<LinkCreated>('POST', '/links', { token: session(alice), body: { path: 'photos/b.jpg' } });
    expect((await fetch(created.body.url, { redirect: 'manual' })).status).toBe(302);
    const links = (await api<LinkList>('GET', '/links', { token: session(alice) })).body.links;
    expect(links.find((entry) => entry.id === created.body.id)).toMatchObject({
      path: 'photos/b.jpg',
      lastUsedAt: expect.any(String),
      lastUsedBy: expect.any(String),
    });
    expect((await api<LinkList>('GET', '/links', { token: session(bob) })).body.links).toEqual([]);

    const audit = await admin('audit', 'alice');
    expect(audit).toMatchObject({ code: 0 });
    for (const event of ['share_created', 'share_used', 'link_created', 'link_opened'])
      expect(audit.out).toContain(event);
    // A link id is a bearer secret: it must not sit in the audit trail.
    expect(audit.out).not.toContain(created.body.id);
  });

  it("tvm-admin lists and revokes a user's shares and links, and its audit output shows these events", async () => {
    const given = await share(alice, { path: 'photos/a.jpg', grantee: 'carol', access: 'read' });
    const client = s3(await vend(carol, given.id));
    const created = await api<LinkCreated>('POST', '/links', { token: session(alice), body: { path: 'notes.txt' } });
    expect({ status: created.status, body: created.body }).toMatchObject({ status: 201 });

    const shares = await admin('--json', 'shares', 'list', 'alice');
    expect(shares).toMatchObject({ code: 0 });
    expect(JSON.parse(shares.out)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: given.id,
          owner: 'alice',
          grantee: 'carol',
          path: 'photos/a.jpg',
          lastUsedBy: 'carol',
        }),
      ]),
    );
    const carols = JSON.parse((await admin('--json', 'shares', 'list', 'carol')).out) as { id: string }[];
    expect(carols.map((entry) => entry.id)).toContain(given.id);
    const links = await admin('--json', 'links', 'list', 'alice');
    expect(JSON.parse(links.out)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: created.body.id, path: 'notes.txt' })]),
    );

    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('read: contents of alice/photos/a.jpg');
    expect(await admin('shares', 'revoke', 'alice', given.id)).toMatchObject({ code: 0 });
    expect(await read(client, bucket, 'alice/photos/a.jpg')).toBe('AccessDenied');
    expect((await api('POST', `/shares/${given.id}/credentials`, { token: session(carol) })).status).toBe(404);
    expect(await admin('links', 'revoke', 'alice', created.body.id)).toMatchObject({ code: 0 });
    expect((await fetch(created.body.url, { redirect: 'manual' })).status).toBe(404);

    const audit = await admin('audit', 'alice');
    for (const event of ['share_created', 'share_used', 'share_revoked', 'link_created', 'link_revoked'])
      expect(audit.out).toContain(event);
    expect(audit.out).not.toContain(created.body.id);
  });
});

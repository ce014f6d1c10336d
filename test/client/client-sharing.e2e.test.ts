/**
 * The client package's sharing against the sandbox (SigV4 and IAM checked at the S3 gate):
 * ShareStorage over a file share (one name, listed without ListBucket) and a read-write folder
 * share; fromShare's credentials ending with the share, after which it refuses without a call
 * and S3 refuses what it handed out; a share left by the grantee is ShareEndedError; the owner's
 * revoke cuts off credentials already issued.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromShare, ShareEndedError, TvmClient, TvmShares, type FetchFunction } from '@serverless-tvm/client';
import { InvalidFileNameError, ShareStorage, TvmStorage } from '@serverless-tvm/client/storage';
import { startSandbox, type Sandbox } from '../../local/sandbox';

const PASSWORD = 'correct horse battery staple';

let sandbox: Sandbox;
let dataDir: string;
let alice: TvmClient;
let bob: TvmClient;
/** The paths bob's client asked the TVM for. */
const bobCalls: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-client-sharing-'));
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10 });
  alice = new TvmClient({ baseUrl: sandbox.apiUrl });
  await alice.register('alice', PASSWORD);
  const counted: FetchFunction = (input, init) => {
    bobCalls.push(new URL(input).pathname);
    return fetch(input, init);
  };
  bob = new TvmClient({ baseUrl: sandbox.apiUrl, fetch: counted });
  await bob.register('bob', PASSWORD);
  const files = new TvmStorage({ client: alice });
  try {
    await files.upload('photos/a.jpg', 'the photo').done;
    await files.upload('photos/a.jpg.bak', 'an old copy').done;
    await files.createFolder('drop');
  } finally {
    files.dispose();
  }
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('a file share holds exactly its one key: listed without ListBucket, downloaded, any other name refused before S3', async () => {
  const share = await new TvmShares(alice).create({ path: 'photos/a.jpg', grantee: 'bob', access: 'read' });
  const shared = new ShareStorage({ client: bob, shareId: share.id });
  try {
    await expect(shared.info()).resolves.toMatchObject({ kind: 'file', prefix: 'alice/photos/a.jpg', access: 'read' });
    const page = await shared.list();
    expect(page.files.map((file) => [file.name, file.sizeBytes])).toEqual([['a.jpg', 9]]);
    expect(await (await shared.download('a.jpg')).body.transformToString()).toBe('the photo');
    await expect(shared.download('a.jpg.bak')).rejects.toEqual(expect.any(InvalidFileNameError));
  } finally {
    shared.dispose();
  }
}, 30_000);

it('a read-write folder share takes uploads and deletes by names relative to it, landing in the owner folder', async () => {
  const share = await new TvmShares(alice).create({ path: 'drop/', grantee: 'bob', access: 'readwrite' });
  const shared = new ShareStorage({ client: bob, shareId: share.id });
  const own = new TvmStorage({ client: alice });
  try {
    await shared.upload('from-bob.txt', 'hello').done;
    expect((await shared.list()).files.map((file) => file.name)).toEqual(['from-bob.txt']);
    expect(await (await own.download('drop/from-bob.txt')).body.transformToString()).toBe('hello');
    await shared.delete('from-bob.txt');
    expect(await own.stat('drop/from-bob.txt')).toBeUndefined();
  } finally {
    shared.dispose();
    own.dispose();
  }
}, 30_000);

it("fromShare's credentials end with the share: then it refuses without calling the TVM, and S3 refuses what it handed out", async () => {
  const endsAt = new Date(Date.now() + 4_000);
  const share = await new TvmShares(alice).create({
    path: 'photos/a.jpg',
    grantee: 'bob',
    access: 'read',
    expiresAt: endsAt,
  });
  const credentials = fromShare(bob, share.id);
  const info = await credentials.storage();
  const identity = await credentials();
  // The TVM sends the end to the millisecond it stored (RFC 3339); never later than asked.
  expect(identity.expiration.getTime()).toBeLessThanOrEqual(endsAt.getTime());
  expect(info.expiresAt?.getTime()).toBe(identity.expiration.getTime());

  const s3 = new S3Client({
    region: info.region,
    credentials: { ...identity },
    ...(info.endpoint ? { endpoint: info.endpoint, forcePathStyle: true } : {}),
  });
  try {
    await expect(s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: info.prefix }))).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt.getTime() - Date.now()) + 500));

    const before = bobCalls.length;
    await expect(credentials()).rejects.toEqual(expect.any(ShareEndedError));
    expect(bobCalls.slice(before)).toEqual([]);
    await expect(s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: info.prefix }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  } finally {
    s3.destroy();
    credentials.dispose();
  }
}, 30_000);

it('a share the grantee left is ShareEndedError for new credentials, and gone from both lists', async () => {
  const share = await new TvmShares(alice).create({ path: 'drop/', grantee: 'bob', access: 'read' });
  await new TvmShares(bob).leave(share.id);
  await expect(fromShare(bob, share.id)()).rejects.toMatchObject({ code: 'share_ended', status: 404 });
  expect((await new TvmShares(alice).list()).given.map((entry) => entry.id)).not.toContain(share.id);
  expect((await new TvmShares(bob).list()).received.map((entry) => entry.id)).not.toContain(share.id);
}, 30_000);

it("the owner's revoke cuts off credentials already issued; ShareStorage then reports ShareEndedError", async () => {
  const share = await new TvmShares(alice).create({ path: 'photos/', grantee: 'bob', access: 'read' });
  const shared = new ShareStorage({ client: bob, shareId: share.id });
  try {
    const { client: s3, info } = await shared.s3Client();
    const read = (): Promise<unknown> =>
      s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: `${info.prefix}a.jpg` }));
    await expect(read()).resolves.toBeDefined();
    await new TvmShares(alice).revoke(share.id);

    // At once where the sandbox runs the cut-off worker on the revoke; else within its 2 s sweep.
    const deadline = Date.now() + 10_000;
    let refusal: unknown;
    while (refusal === undefined && Date.now() < deadline) {
      refusal = await read().then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refusal === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(refusal).toMatchObject({ name: 'AccessDenied' });
    await expect(shared.download('a.jpg')).rejects.toEqual(expect.any(ShareEndedError));
  } finally {
    shared.dispose();
  }
}, 30_000);

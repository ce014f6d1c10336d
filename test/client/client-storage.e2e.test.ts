/**
 * The client package's storage helpers against the sandbox (SigV4 and IAM checked at the S3
 * gate): a 200 MiB multipart upload with credentials rotated between parts, an upload through
 * a network outage, an abort that leaves no upload behind, folders, and a credential cut-off.
 */
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LoginRequiredError, TvmClient, type ConnectivityState, type SessionEvent } from '@serverless-tvm/client';
import { AbortedError, TvmStorage } from '@serverless-tvm/client/storage';
import { localTarget } from '../../admin/target';
import { runCli } from '../../admin/cli';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { startPausableProxy } from '../support/pausable-proxy';
import { expectPatternStream, patternBody } from '../support/pattern-body';

const MiB = 1024 * 1024;
const PASSWORD = 'correct horse battery staple';

let sandbox: Sandbox;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-client-storage-'));
  // Credentials are rotated between parts, far more often than the vend limits allow one session
  // (they are proven in test/credentials): this sandbox raises them and runs without route throttles.
  process.env.VENDS_PER_SESSION_PER_MINUTE = '600';
  process.env.VENDS_PER_USER_PER_MINUTE = '6000';
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10, routeThrottles: false });
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A client registered as a new user, with its storage helpers. */
async function newUser(
  username: string,
  options: { apiUrl?: string; s3Endpoint?: string } = {},
): Promise<{ tvm: TvmClient; storage: TvmStorage }> {
  const tvm = new TvmClient({ baseUrl: options.apiUrl ?? sandbox.apiUrl });
  await tvm.register(username, PASSWORD);
  const storage = new TvmStorage({
    client: tvm,
    partSizeBytes: 8 * MiB,
    recovery: { initialDelayMs: 200, maxDelayMs: 1_000 },
    ...(options.s3Endpoint ? { s3: { endpoint: options.s3Endpoint, forcePathStyle: true } } : {}),
  });
  return { tvm, storage };
}

/** The access key ids that signed each request of `client`, by S3 operation. */
function recordSigners(client: S3Client): Array<{ operation: string; accessKeyId: string }> {
  const seen: Array<{ operation: string; accessKeyId: string }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      const accessKeyId = /Credential=([^/]+)\//.exec(headers['authorization'] ?? '')?.[1] ?? '';
      seen.push({ operation: context.commandName ?? '', accessKeyId });
      return next(args);
    },
    // The deserialize step sees the request after it was signed.
    { step: 'deserialize', name: 'recordSigners' },
  );
  return seen;
}

describe('TvmStorage against the sandbox', () => {
  it('uploads 200 MiB in parts while the credentials are rotated between parts, and downloads it byte for byte', async () => {
    const { tvm, storage } = await newUser('rotating-alice');
    const { client } = await storage.s3Client();
    const signers = recordSigners(client);
    const pattern = patternBody(200 * MiB);
    const progress: number[] = [];
    const refreshes: Promise<unknown>[] = [];

    const task = storage.upload('big/200MiB.bin', pattern.stream(), {
      sizeBytes: pattern.sizeBytes,
      contentType: 'application/octet-stream',
      onProgress: ({ loadedBytes }) => {
        progress.push(loadedBytes);
        // A forced refresh after every finished part: the next parts sign with new credentials.
        refreshes.push(storage.credentials({ forceRefresh: true }));
      },
    });
    await task.done;
    await Promise.all(refreshes);

    const parts = signers.filter((signer) => signer.operation === 'UploadPartCommand');
    expect(parts).toHaveLength(25);
    const keysUsed = new Set(parts.map((part) => part.accessKeyId));
    expect(keysUsed.size).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toBe(pattern.sizeBytes);
    expect(await tvm.getSession()).toBeDefined();

    const download = await storage.download('big/200MiB.bin');
    expect(download.sizeBytes).toBe(pattern.sizeBytes);
    expect(await expectPatternStream(download.body as Readable, pattern)).toBe(pattern.sizeBytes);
    storage.dispose();
  }, 240_000);

  it('keeps uploading through a network outage of several seconds: it waits, resumes, reports offline then online, and keeps the session', async () => {
    const apiProxy = await startPausableProxy(sandbox.apiUrl, { rewriteHost: true });
    const s3Proxy = await startPausableProxy(sandbox.s3Url);
    try {
      const { tvm, storage } = await newUser('offline-bob', { apiUrl: apiProxy.url, s3Endpoint: s3Proxy.url });
      const states: ConnectivityState[] = [];
      tvm.connectivity.onChange((state) => states.push(state));
      const sessionEvents: SessionEvent[] = [];
      tvm.onSessionChange((event) => sessionEvents.push(event));
      const pattern = patternBody(48 * MiB);
      const keyBefore = (await storage.credentials()).accessKeyId;

      let outage: Promise<void> | undefined;
      const task = storage.upload('trip/video.bin', pattern.stream(), {
        sizeBytes: pattern.sizeBytes,
        onProgress: () => {
          outage ??= (async () => {
            await Promise.all([apiProxy.down(), s3Proxy.down()]);
            // While the TVM is unreachable, still-valid credentials keep being used.
            const during = await storage.credentials({ forceRefresh: true });
            expect(during.accessKeyId).toBe(keyBefore);
            await new Promise((resolve) => setTimeout(resolve, 4_000));
            await Promise.all([apiProxy.up(), s3Proxy.up()]);
          })();
        },
      });
      await task.done;
      await outage;

      // Offline during the outage, online after it; a retry racing the proxies' return may
      // flip it once more, never ending offline.
      expect(states.length % 2).toBe(0);
      expect(states).toEqual(states.map((_, index) => (index % 2 === 0 ? 'offline' : 'online')));
      expect(states.length).toBeGreaterThanOrEqual(2);
      expect(tvm.connectivity.state).toBe('online');
      expect(sessionEvents).toEqual([]);
      expect(await tvm.getSession()).toBeDefined();
      const download = await storage.download('trip/video.bin');
      expect(await expectPatternStream(download.body as Readable, pattern)).toBe(pattern.sizeBytes);
      storage.dispose();
    } finally {
      await apiProxy.stop();
      await s3Proxy.stop();
    }
  }, 120_000);

  it('aborts a multipart upload in the middle, leaving no upload (ListMultipartUploads as the operator) and no object behind', async () => {
    const { storage } = await newUser('aborting-carol');
    const pattern = patternBody(64 * MiB);
    let aborting: Promise<void> | undefined;
    const task = storage.upload('half.bin', pattern.stream(), {
      sizeBytes: pattern.sizeBytes,
      onProgress: () => {
        aborting ??= task.abort();
      },
    });
    await expect(task.done).rejects.toBeInstanceOf(AbortedError);
    await aborting;

    const operator = localTarget(dataDir);
    try {
      const pending = await operator.s3.send(
        new ListMultipartUploadsCommand({ Bucket: operator.bucketName, Prefix: 'aborting-carol/' }),
      );
      expect(pending.Uploads ?? []).toEqual([]);
    } finally {
      operator.close();
    }
    expect(await storage.stat('half.bin')).toBeUndefined();
    storage.dispose();
  }, 60_000);

  it('creates folders, lists a folder with its sub-folders and files, and deletes a file', async () => {
    const { storage } = await newUser('tidy-dave');
    expect(await storage.createFolder('photos')).toBe('photos/');
    await storage.createFolder('photos/2026/');
    await storage.upload('photos/cat.txt', 'meow', { contentType: 'text/plain' }).done;
    await storage.upload('notes.txt', 'hello').done;

    const top = await storage.list();
    expect(top.folders).toEqual(['photos/']);
    expect(top.files.map((file) => file.name)).toEqual(['notes.txt']);
    const photos = await storage.list({ folder: 'photos/' });
    expect(photos).toMatchObject({
      folder: 'photos/',
      folders: ['photos/2026/'],
      files: [{ name: 'photos/cat.txt', sizeBytes: 4 }],
    });

    const download = await storage.download('photos/cat.txt');
    expect(await download.body.transformToString()).toBe('meow');
    expect(download.contentType).toBe('text/plain');
    await storage.delete('photos/cat.txt');
    expect(await storage.stat('photos/cat.txt')).toBeUndefined();
    storage.dispose();
  });

  it('after the operator cuts off the credentials, an AccessDenied fetches fresh ones once, and the 401 ends the session', async () => {
    const { tvm, storage } = await newUser('cut-off-erin');
    await storage.upload('a.txt', 'a').done;
    const events: SessionEvent[] = [];
    tvm.onSessionChange((event) => events.push(event));
    // Token issue times have one-second resolution; let the revocation instant be later.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const previous = process.env.TVM_DATA_DIR;
    process.env.TVM_DATA_DIR = dataDir;
    try {
      expect(
        await runCli(['--local', 'revoke-credentials', 'cut-off-erin'], { out: () => undefined, err: () => undefined }),
      ).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.TVM_DATA_DIR;
      else process.env.TVM_DATA_DIR = previous;
    }

    await expect(storage.list()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(events).toEqual([{ type: 'signedOut', reason: 'rejected' }]);
    expect(await tvm.getSession()).toBeUndefined();
    storage.dispose();
  });
});

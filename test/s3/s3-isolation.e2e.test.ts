/**
 * End to end through the local sandbox: two users register over HTTP and use the real AWS
 * SDK S3 client with their vended credentials against the S3 gate. Proves that each user's
 * own folder works and that everything else is refused the way S3 refuses it.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { postJson, register, s3ClientFor, s3ErrorCode, xmlErrorCode, type VendResponse } from '../support/e2e';

const PASSWORD = 'correct horse battery staple';
const BOB_SECRET = 'bob/secret.txt';
const BOB_SECRET_BODY = 'only bob may read this';

let dataDir: string;
let sandbox: Sandbox;
let alice: VendResponse;
let bob: VendResponse;
let aliceS3: S3Client;
let bobS3: S3Client;
/** Added to the gate's and STS's clock, to make credentials expire without waiting. */
let clockOffsetMs = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-e2e-'));
  sandbox = await startSandbox({
    port: 0,
    s3Port: 0,
    dataDir,
    bcryptCost: 10,
    now: () => Date.now() + clockOffsetMs,
    // Stands in for the web app: serves one page and declines everything else.
    staticHandler: async (req, res) => {
      if (req.url !== '/static-check') return false;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('static');
      return true;
    },
  });
  [alice, bob] = await Promise.all([
    register(sandbox.apiUrl, 'alice', PASSWORD),
    register(sandbox.apiUrl, 'bob', PASSWORD),
  ]);
  aliceS3 = s3ClientFor(alice);
  bobS3 = s3ClientFor(bob);
  await bobS3.send(new PutObjectCommand({ Bucket: sandbox.bucket, Key: BOB_SECRET, Body: BOB_SECRET_BODY }));
}, 60_000);

afterAll(async () => {
  aliceS3?.destroy();
  bobS3?.destroy();
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the API through the sandbox', () => {
  test('register vends ASIA credentials and reports the gate as storage.endpoint, with an empty folder and no quota', () => {
    expect(alice.credentials.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(alice.storage).toEqual({
      bucket: 'tvm-files',
      prefix: 'alice/',
      region: 'us-east-1',
      endpoint: sandbox.s3Url,
      usage: { bytes: 0, objects: 0, quotaBytes: null, overQuota: false },
    });
  });

  test('POST /token with the session token vends fresh credentials', async () => {
    const { status, body } = await postJson(`${sandbox.apiUrl}/token`, undefined, {
      Authorization: `Bearer ${alice.session.token}`,
    });
    expect(status).toBe(200);
    expect((body as VendResponse).credentials.accessKeyId).not.toBe(alice.credentials.accessKeyId);
  });

  test('an unknown path is a 404 JSON error and a wrong method a 405', async () => {
    const missing = await fetch(`${sandbox.apiUrl}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect((await fetch(`${sandbox.apiUrl}/register`)).status).toBe(405);
  });

  test('a non-API GET goes to the static handler, and what it declines is a 404 JSON error', async () => {
    const served = await fetch(`${sandbox.apiUrl}/static-check`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('static');
    const declined = await fetch(`${sandbox.apiUrl}/declined`);
    expect(declined.status).toBe(404);
    expect(await declined.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  test("a CORS preflight for an API route is answered as API Gateway would, granting only the sandbox's own origins", async () => {
    const preflight = (origin: string) =>
      fetch(`${sandbox.apiUrl}/token`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization',
        },
      });
    const own = sandbox.apiUrl.replace('127.0.0.1', 'localhost');
    const response = await preflight(own);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(own);
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect((await preflight('http://localhost:5173')).headers.get('access-control-allow-origin')).toBeNull();
  });

  test('a body that breaks the route model is refused with 400 before the handler', async () => {
    const { status, body } = await postJson(`${sandbox.apiUrl}/register`, {
      username: 'carol',
      password: PASSWORD,
      admin: true,
    });
    expect(status).toBe(400);
    expect(body).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining('admin') } });
  });
});

describe('alice in her own folder', () => {
  test('alice can put, get, list and delete in alice/', async () => {
    const Bucket = sandbox.bucket;
    await aliceS3.send(new PutObjectCommand({ Bucket, Key: 'alice/notes/today.txt', Body: 'hello' }));
    const got = await aliceS3.send(new GetObjectCommand({ Bucket, Key: 'alice/notes/today.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
    const listed = await aliceS3.send(new ListObjectsV2Command({ Bucket, Prefix: 'alice/', Delimiter: '/' }));
    expect(listed.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['alice/notes/']);
    const deep = await aliceS3.send(new ListObjectsV2Command({ Bucket, Prefix: 'alice/notes/' }));
    expect(deep.Contents?.map((o) => o.Key)).toEqual(['alice/notes/today.txt']);
    await aliceS3.send(new HeadObjectCommand({ Bucket, Key: 'alice/notes/today.txt' }));
    await aliceS3.send(new DeleteObjectCommand({ Bucket, Key: 'alice/notes/today.txt' }));
    expect(await s3ErrorCode(aliceS3.send(new GetObjectCommand({ Bucket, Key: 'alice/notes/today.txt' })))).toBe(
      'NoSuchKey',
    );
  });

  test('alice can list alice/ with the V1 ListObjects API too', async () => {
    await aliceS3.send(new PutObjectCommand({ Bucket: sandbox.bucket, Key: 'alice/v1.txt', Body: 'v1' }));
    const listed = await aliceS3.send(new ListObjectsCommand({ Bucket: sandbox.bucket, Prefix: 'alice/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain('alice/v1.txt');
  });

  test.each([
    ['checksums only when required', 'WHEN_REQUIRED'],
    ['the SDK default checksums', 'WHEN_SUPPORTED'],
  ] as const)('alice can upload to alice/ in several parts (%s)', async (_name, checksums) => {
    const Bucket = sandbox.bucket;
    const Key = `alice/big-${checksums}.bin`;
    const client = s3ClientFor(alice, { requestChecksumCalculation: checksums, responseChecksumValidation: checksums });
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const first = Buffer.alloc(5 * 1024 * 1024, 1);
    const second = Buffer.from('tail');
    const one = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: first }));
    const two = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: second }));
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: one.ETag },
            { PartNumber: 2, ETag: two.ETag },
          ],
        },
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.ContentLength).toBe(first.length + second.length);
    client.destroy();
  });

  test('a streamed upload with the SDK default checksums (aws-chunked) stores the bytes, not the framing', async () => {
    const defaultClient = s3ClientFor(alice, {
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
    });
    try {
      const body = 'streamed '.repeat(1000);
      await defaultClient.send(
        new PutObjectCommand({
          Bucket: sandbox.bucket,
          Key: 'alice/streamed.txt',
          Body: Readable.from([Buffer.from(body)]),
          ContentLength: body.length,
        }),
      );
      const got = await defaultClient.send(new GetObjectCommand({ Bucket: sandbox.bucket, Key: 'alice/streamed.txt' }));
      expect(await got.Body?.transformToString()).toBe(body);
    } finally {
      defaultClient.destroy();
    }
  });

  test('alice can delete several of her own objects with DeleteObjects', async () => {
    const Bucket = sandbox.bucket;
    await aliceS3.send(new PutObjectCommand({ Bucket, Key: 'alice/tmp/a.txt', Body: 'a' }));
    await aliceS3.send(new PutObjectCommand({ Bucket, Key: 'alice/tmp/b.txt', Body: 'b' }));
    const result = await aliceS3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'alice/tmp/a.txt' }, { Key: 'alice/tmp/b.txt' }] },
      }),
    );
    expect(result.Deleted?.map((d) => d.Key).sort()).toEqual(['alice/tmp/a.txt', 'alice/tmp/b.txt']);
    const listed = await aliceS3.send(new ListObjectsV2Command({ Bucket, Prefix: 'alice/tmp/' }));
    expect(listed.KeyCount).toBe(0);
  });

  test('a presigned GET URL for alice/ works without any other credentials', async () => {
    await aliceS3.send(new PutObjectCommand({ Bucket: sandbox.bucket, Key: 'alice/shared.txt', Body: 'shared' }));
    const url = await getSignedUrl(aliceS3, new GetObjectCommand({ Bucket: sandbox.bucket, Key: 'alice/shared.txt' }), {
      expiresIn: 60,
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('shared');
  });
});

describe("alice cannot touch bob's folder, the bucket root, or list without a prefix", () => {
  const Bucket = 'tvm-files';
  const refused: [string, () => Promise<unknown>][] = [
    ['alice cannot get bob/secret.txt', () => aliceS3.send(new GetObjectCommand({ Bucket, Key: BOB_SECRET }))],
    ['alice cannot head bob/secret.txt', () => aliceS3.send(new HeadObjectCommand({ Bucket, Key: BOB_SECRET }))],
    [
      'alice cannot put into bob/',
      () => aliceS3.send(new PutObjectCommand({ Bucket, Key: 'bob/planted.txt', Body: 'x' })),
    ],
    [
      'alice cannot overwrite bob/secret.txt',
      () => aliceS3.send(new PutObjectCommand({ Bucket, Key: BOB_SECRET, Body: 'x' })),
    ],
    ['alice cannot delete bob/secret.txt', () => aliceS3.send(new DeleteObjectCommand({ Bucket, Key: BOB_SECRET }))],
    ['alice cannot list bob/', () => aliceS3.send(new ListObjectsV2Command({ Bucket, Prefix: 'bob/' }))],
    ['alice cannot list bob/ with the V1 API', () => aliceS3.send(new ListObjectsCommand({ Bucket, Prefix: 'bob/' }))],
    ['alice cannot list the bucket without a prefix', () => aliceS3.send(new ListObjectsV2Command({ Bucket }))],
    [
      'alice cannot list the bucket root with a delimiter',
      () => aliceS3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' })),
    ],
    [
      'alice cannot list "alice" without the trailing slash',
      () => aliceS3.send(new ListObjectsV2Command({ Bucket, Prefix: 'alice' })),
    ],
    ['alice cannot list "al"', () => aliceS3.send(new ListObjectsV2Command({ Bucket, Prefix: 'al' }))],
    [
      'alice cannot put at the bucket root',
      () => aliceS3.send(new PutObjectCommand({ Bucket, Key: 'root.txt', Body: 'x' })),
    ],
    ['alice cannot get at the bucket root', () => aliceS3.send(new GetObjectCommand({ Bucket, Key: 'root.txt' }))],
    [
      'alice cannot delete at the bucket root',
      () => aliceS3.send(new DeleteObjectCommand({ Bucket, Key: 'root.txt' })),
    ],
    [
      'alice cannot put a key named "*" (a literal key, not a wildcard)',
      () => aliceS3.send(new PutObjectCommand({ Bucket, Key: '*', Body: 'x' })),
    ],
    [
      'alice cannot put "alice*" beside her folder',
      () => aliceS3.send(new PutObjectCommand({ Bucket, Key: 'alice*', Body: 'x' })),
    ],
    [
      'alice cannot put "alicex/" (a longer name sharing her prefix)',
      () => aliceS3.send(new PutObjectCommand({ Bucket, Key: 'alicex/f', Body: 'x' })),
    ],
    [
      'alice cannot copy bob/secret.txt into her folder',
      () =>
        aliceS3.send(new CopyObjectCommand({ Bucket, Key: 'alice/stolen.txt', CopySource: `${Bucket}/${BOB_SECRET}` })),
    ],
    [
      'alice cannot copy her file into bob/',
      () =>
        aliceS3.send(new CopyObjectCommand({ Bucket, Key: 'bob/planted.txt', CopySource: `${Bucket}/alice/v1.txt` })),
    ],
    [
      'alice cannot start a multipart upload in bob/',
      () => aliceS3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'bob/big.bin' })),
    ],
    [
      'alice cannot upload a part in bob/',
      () =>
        aliceS3.send(new UploadPartCommand({ Bucket, Key: 'bob/big.bin', UploadId: 'x', PartNumber: 1, Body: 'x' })),
    ],
    [
      'alice cannot complete a multipart upload in bob/',
      () =>
        aliceS3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: 'bob/big.bin',
            UploadId: 'x',
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
        ),
    ],
    [
      'alice cannot abort a multipart upload in bob/',
      () => aliceS3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'bob/big.bin', UploadId: 'x' })),
    ],
    [
      'alice cannot list the parts of an upload in bob/',
      () => aliceS3.send(new ListPartsCommand({ Bucket, Key: 'bob/big.bin', UploadId: 'x' })),
    ],
    [
      'alice cannot start a multipart upload at the bucket root',
      () => aliceS3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'root.bin' })),
    ],
    [
      'alice cannot upload a part at the bucket root',
      () => aliceS3.send(new UploadPartCommand({ Bucket, Key: 'root.bin', UploadId: 'x', PartNumber: 1, Body: 'x' })),
    ],
    [
      'alice cannot complete a multipart upload at the bucket root',
      () =>
        aliceS3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: 'root.bin',
            UploadId: 'x',
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
        ),
    ],
    [
      'alice cannot abort a multipart upload at the bucket root',
      () => aliceS3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'root.bin', UploadId: 'x' })),
    ],
    [
      'alice cannot list the parts of an upload at the bucket root',
      () => aliceS3.send(new ListPartsCommand({ Bucket, Key: 'root.bin', UploadId: 'x' })),
    ],
    [
      'alice cannot list the multipart uploads of the bucket without a prefix',
      () => aliceS3.send(new ListMultipartUploadsCommand({ Bucket })),
    ],
    [
      'alice cannot list the multipart uploads of the bucket',
      () => aliceS3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'alice/' })),
    ],
    [
      'alice cannot delete bob/secret.txt through DeleteObjects',
      () =>
        aliceS3.send(
          new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'alice/v1.txt' }, { Key: BOB_SECRET }] } }),
        ),
    ],
    ['alice cannot list all buckets', () => aliceS3.send(new ListBucketsCommand({}))],
    ['alice cannot head the bucket', () => aliceS3.send(new HeadBucketCommand({ Bucket }))],
  ];

  test.each(refused)('%s', async (_name, attempt) => {
    expect(['AccessDenied', 'HEAD 403']).toContain(await s3ErrorCode(attempt()));
  });

  test('alice cannot smuggle bob/ into DeleteObjects with a second Key element', async () => {
    const client = s3ClientFor(alice);
    type SerializedArgs = { request: { body?: unknown } };
    // Replaces the serialised XML before checksums and signing, so the request is validly signed.
    const smuggle = (next: (args: SerializedArgs) => Promise<unknown>) => async (args: SerializedArgs) => {
      args.request.body = `<Delete><Object><Key>alice/v1.txt</Key><Key>${BOB_SECRET}</Key></Object></Delete>`;
      return next(args);
    };
    client.middlewareStack.addRelativeTo(smuggle as never, {
      relation: 'after',
      toMiddleware: 'serializerMiddleware',
      name: 'smuggle',
    });
    try {
      expect(
        await s3ErrorCode(
          client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'alice/v1.txt' }] } })),
        ),
      ).toBe('MalformedXML');
    } finally {
      client.destroy();
    }
  });

  test("alice cannot write into bob's multipart upload through her own key", async () => {
    // s3rver trusts the upload id alone; the gate must tie it to the key it authorised.
    const { UploadId: bobsUpload } = await bobS3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'bob/upload.bin' }),
    );
    const Key = 'alice/hijack.bin';
    expect(
      await s3ErrorCode(
        aliceS3.send(new UploadPartCommand({ Bucket, Key, UploadId: bobsUpload, PartNumber: 1, Body: 'evil' })),
      ),
    ).toBe('NoSuchUpload');
    expect(
      await s3ErrorCode(
        aliceS3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: bobsUpload,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
        ),
      ),
    ).toBe('NoSuchUpload');
    expect(
      await s3ErrorCode(
        aliceS3.send(new UploadPartCommand({ Bucket, Key, UploadId: '../../bob', PartNumber: 1, Body: 'evil' })),
      ),
    ).toBe('NoSuchUpload');
    // bob's own upload still completes with his part.
    const part = await bobS3.send(
      new UploadPartCommand({ Bucket, Key: 'bob/upload.bin', UploadId: bobsUpload, PartNumber: 1, Body: 'bob part' }),
    );
    await bobS3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'bob/upload.bin',
        UploadId: bobsUpload,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const got = await bobS3.send(new GetObjectCommand({ Bucket, Key: 'bob/upload.bin' }));
    expect(await got.Body?.transformToString()).toBe('bob part');
    await bobS3.send(new DeleteObjectCommand({ Bucket, Key: 'bob/upload.bin' }));
  });

  test('alice cannot reach bob/ through an encoded slash in the bucket name', async () => {
    const client = s3ClientFor(alice);
    type BuiltArgs = { request: { path?: string } };
    // Rewrites the path before signing, so the request is validly signed for it.
    const rewrite = (next: (args: BuiltArgs) => Promise<unknown>) => async (args: BuiltArgs) => {
      args.request.path = `/tvm-files%2Falice%2F..%2Fbob/secret.txt`;
      return next(args);
    };
    client.middlewareStack.addRelativeTo(rewrite as never, {
      relation: 'before',
      toMiddleware: 'awsAuthMiddleware',
      name: 'rewrite',
    });
    try {
      expect(await s3ErrorCode(client.send(new GetObjectCommand({ Bucket, Key: 'alice/v1.txt' })))).toBe(
        'InvalidBucketName',
      );
    } finally {
      client.destroy();
    }
  });

  test('alice cannot copy from bob/ through a "?" in the copy source', async () => {
    expect(
      await s3ErrorCode(
        aliceS3.send(
          new CopyObjectCommand({
            Bucket,
            Key: 'alice/copy.txt',
            CopySource: `${Bucket}/alice/v1.txt?/../../bob/secret.txt`,
          }),
        ),
      ),
    ).not.toBe('resolved');
    expect(await s3ErrorCode(aliceS3.send(new GetObjectCommand({ Bucket, Key: 'alice/copy.txt' })))).toBe('NoSuchKey');
  });

  test('alice cannot reach bob/ through a "alice/../bob/" key', async () => {
    expect(
      await s3ErrorCode(aliceS3.send(new PutObjectCommand({ Bucket, Key: 'alice/../bob/secret.txt', Body: 'x' }))),
    ).toBe('InvalidArgument');
    expect(await s3ErrorCode(aliceS3.send(new GetObjectCommand({ Bucket, Key: 'alice/../bob/secret.txt' })))).toBe(
      'InvalidArgument',
    );
  });

  test("a presigned URL for bob/ made with alice's credentials is refused", async () => {
    const url = await getSignedUrl(aliceS3, new GetObjectCommand({ Bucket, Key: BOB_SECRET }), { expiresIn: 60 });
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect(xmlErrorCode(await response.text())).toBe('AccessDenied');
  });
});

describe('requests S3 would not authenticate', () => {
  test('an unsigned GET, PUT and list are refused with AccessDenied', async () => {
    for (const [method, path] of [
      ['GET', `/tvm-files/${BOB_SECRET}`],
      ['PUT', '/tvm-files/bob/unsigned.txt'],
      ['GET', '/tvm-files?list-type=2&prefix=bob/'],
    ] as const) {
      const response = await fetch(`${sandbox.s3Url}${path}`, { method, ...(method === 'PUT' ? { body: 'x' } : {}) });
      expect(response.status).toBe(403);
      expect(xmlErrorCode(await response.text())).toBe('AccessDenied');
    }
  });

  test('a signature made with the wrong secret is refused with SignatureDoesNotMatch', async () => {
    const forged = s3ClientFor({ ...alice, credentials: { ...alice.credentials, secretAccessKey: 'x'.repeat(40) } });
    try {
      expect(await s3ErrorCode(forged.send(new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' })))).toBe(
        'SignatureDoesNotMatch',
      );
    } finally {
      forged.destroy();
    }
  });

  test('a presigned URL with a tampered signature or a changed key is refused with SignatureDoesNotMatch', async () => {
    const url = new URL(
      await getSignedUrl(aliceS3, new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' }), {
        expiresIn: 60,
      }),
    );
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    const tampered = new URL(url);
    tampered.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    const moved = new URL(url);
    moved.pathname = `/tvm-files/${BOB_SECRET}`;
    for (const attempt of [tampered, moved]) {
      const response = await fetch(attempt);
      expect(response.status).toBe(403);
      expect(xmlErrorCode(await response.text())).toBe('SignatureDoesNotMatch');
    }
  });

  test('a request whose body was changed after signing is refused with XAmzContentSHA256Mismatch', async () => {
    const client = s3ClientFor(alice);
    type FinalizeArgs = { request: { body?: unknown } };
    const tamperBody = (next: (args: FinalizeArgs) => Promise<unknown>) => async (args: FinalizeArgs) => {
      args.request.body = 'tampered';
      return next(args);
    };
    client.middlewareStack.addRelativeTo(tamperBody as never, {
      relation: 'after',
      toMiddleware: 'awsAuthMiddleware',
      name: 'tamperBody',
    });
    try {
      // PutObject with a string body signs its SHA-256 ('original' and 'tampered' are the same length).
      expect(
        await s3ErrorCode(
          client.send(new PutObjectCommand({ Bucket: 'tvm-files', Key: 'alice/tampered.txt', Body: 'original' })),
        ),
      ).toBe('XAmzContentSHA256Mismatch');
    } finally {
      client.destroy();
    }
  });

  test('an unknown access key is refused with InvalidAccessKeyId', async () => {
    const stranger = s3ClientFor({
      ...alice,
      credentials: { ...alice.credentials, accessKeyId: 'ASIAAAAAAAAAAAAAAAAA' },
    });
    try {
      expect(await s3ErrorCode(stranger.send(new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' })))).toBe(
        'InvalidAccessKeyId',
      );
    } finally {
      stranger.destroy();
    }
  });

  test("alice's keys with bob's session token are refused with InvalidToken", async () => {
    const mixed = s3ClientFor({
      ...alice,
      credentials: { ...alice.credentials, sessionToken: bob.credentials.sessionToken },
    });
    try {
      expect(await s3ErrorCode(mixed.send(new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' })))).toBe(
        'InvalidToken',
      );
    } finally {
      mixed.destroy();
    }
  });

  test('expired credentials are refused with ExpiredToken, for signed requests and presigned URLs', async () => {
    const url = await getSignedUrl(aliceS3, new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' }), {
      expiresIn: 7200,
    });
    const lifetime = Date.parse(alice.credentials.expiration) - Date.now();
    clockOffsetMs = lifetime + 1000;
    // The client's clock moves with the gate's, as both would in an hour.
    const later = s3ClientFor(alice, { systemClockOffset: clockOffsetMs });
    try {
      expect(await s3ErrorCode(later.send(new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' })))).toBe(
        'ExpiredToken',
      );
      const response = await fetch(url);
      expect(response.status).toBe(400);
      expect(xmlErrorCode(await response.text())).toBe('ExpiredToken');
    } finally {
      clockOffsetMs = 0;
      later.destroy();
    }
  });
});

describe('afterwards', () => {
  test("bob's objects are intact and nothing was planted in his folder", async () => {
    const got = await bobS3.send(new GetObjectCommand({ Bucket: 'tvm-files', Key: BOB_SECRET }));
    expect(await got.Body?.transformToString()).toBe(BOB_SECRET_BODY);
    const listed = await bobS3.send(new ListObjectsV2Command({ Bucket: 'tvm-files', Prefix: 'bob/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([BOB_SECRET]);
  });

  test('bob cannot read alice/ either', async () => {
    expect(await s3ErrorCode(bobS3.send(new GetObjectCommand({ Bucket: 'tvm-files', Key: 'alice/v1.txt' })))).toBe(
      'AccessDenied',
    );
  });
});

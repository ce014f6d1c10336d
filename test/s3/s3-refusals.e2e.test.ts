/**
 * The S3 gate's fidelity table (docs/sandbox.md), row by row: each form the gate refuses
 * although S3 might accept it gets its S3 error code, reaches nothing behind the gate, and
 * the same request written plainly succeeds. Requests are signed as alice and written byte
 * for byte on the socket.
 *
 * Then signing as S3 does it: every `x-amz-*` header on a request must be covered by its
 * signature. An unsigned `x-amz-copy-source` added to alice's presigned PUT (or to a
 * header-signed request) would turn it into a CopyObject of a key she chose after signing; S3
 * answers 403 AccessDenied "There were headers present in the request which were not signed",
 * and so does the gate, before anything reaches the emulator.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsSession } from '../../local/sts/session-store';
import { sendRaw, startGateHarness, type GateHarness, type RawRequest } from '../support/s3-gate-harness';
import { xmlErrorCode } from '../support/e2e';
import { SANDBOX_BUCKET, SANDBOX_REGION } from '../../local/names';

let root: string;
let harness: GateHarness;
let alice: StsSession;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-gate-refusals-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  await harness.seed('alice/a.txt', 'a');
  await harness.seed('bob/secret.txt', 'bob');
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const flood = Array.from({ length: 40 }, (_, i) => `z${i}=1`).join('&');

test.each<[string, RawRequest, number, string]>([
  ['a raw + in the key', { method: 'GET', target: '/tvm-files/alice/a+b' }, 400, 'InvalidURI'],
  ['a raw ; in the key', { method: 'GET', target: '/tvm-files/alice/a;b' }, 400, 'InvalidURI'],
  ['a raw backslash', { method: 'GET', target: '/tvm-files/alice/..\\bob\\secret.txt' }, 400, 'InvalidURI'],
  [
    'an encoded backslash in the key',
    { method: 'GET', target: '/tvm-files/alice/..%5Cbob%5Csecret.txt' },
    400,
    'InvalidArgument',
  ],
  ['a raw # (a fragment)', { method: 'GET', target: '/tvm-files/alice/x#frag' }, 400, 'InvalidURI'],
  ['an encoded # in the key', { method: 'GET', target: '/tvm-files/alice/x%23frag' }, 400, 'InvalidArgument'],
  ['a .. segment', { method: 'GET', target: '/tvm-files/alice/../bob/secret.txt' }, 400, 'InvalidArgument'],
  [
    'an encoded .. segment',
    { method: 'GET', target: '/tvm-files/alice/%2e%2E/bob/secret.txt' },
    400,
    'InvalidArgument',
  ],
  ['a . segment', { method: 'GET', target: '/tvm-files/alice/./a.txt' }, 400, 'InvalidArgument'],
  ['an empty segment', { method: 'GET', target: '/tvm-files/alice//a.txt' }, 400, 'InvalidArgument'],
  ['an overlong UTF-8 dot', { method: 'GET', target: '/tvm-files/alice/%C0%AE%C0%AE/x' }, 400, 'InvalidURI'],
  ['an encoded surrogate', { method: 'GET', target: '/tvm-files/alice/%ED%A0%80' }, 400, 'InvalidURI'],
  ['a broken escape', { method: 'GET', target: '/tvm-files/alice/%zz' }, 400, 'InvalidURI'],
  ['a control character in the key', { method: 'GET', target: '/tvm-files/alice/a%0Ab' }, 400, 'InvalidArgument'],
  [
    "the emulator's file marker in the key",
    { method: 'GET', target: '/tvm-files/alice/a.txt._S3rver_object' },
    400,
    'InvalidArgument',
  ],
  [
    'a key part longer than a file name',
    { method: 'GET', target: `/tvm-files/alice/${'x'.repeat(240)}` },
    400,
    'KeyTooLongError',
  ],
  ['an absolute-form target', { method: 'GET', target: 'http://127.0.0.1/tvm-files/alice/a.txt' }, 400, 'InvalidURI'],
  [
    'a parameter given twice',
    { method: 'GET', target: '/tvm-files?list-type=2&prefix=alice/&prefix=bob/' },
    400,
    'InvalidArgument',
  ],
  [
    'a parameter flood in front of the prefix',
    { method: 'GET', target: `/tvm-files?${flood}&list-type=2&prefix=alice/` },
    400,
    'InvalidArgument',
  ],
  [
    'an unknown parameter',
    { method: 'GET', target: '/tvm-files?list-type=2&prefix=alice/&junk=1' },
    400,
    'InvalidArgument',
  ],
  ['a raw ; between parameters', { method: 'GET', target: '/tvm-files?list-type=2;prefix=alice/' }, 400, 'InvalidURI'],
  ['a raw + in a parameter', { method: 'GET', target: '/tvm-files?list-type=2&prefix=alice/a+b' }, 400, 'InvalidURI'],
  ['an empty parameter name', { method: 'GET', target: '/tvm-files?list-type=2&&prefix=alice/' }, 400, 'InvalidURI'],
  [
    'a copy source with a versionId',
    {
      method: 'PUT',
      target: '/tvm-files/alice/copy.txt',
      headers: { 'x-amz-copy-source': '/tvm-files/alice/a.txt?versionId=1' },
    },
    501,
    'NotImplemented',
  ],
  [
    'a copy source with ..',
    {
      method: 'PUT',
      target: '/tvm-files/alice/copy.txt',
      headers: { 'x-amz-copy-source': '/tvm-files/alice/../bob/secret.txt' },
    },
    400,
    'InvalidArgument',
  ],
  [
    'a public-read ACL',
    { method: 'PUT', target: '/tvm-files/alice/new.txt', headers: { 'x-amz-acl': 'public-read' } },
    400,
    'AccessControlListNotSupported',
  ],
  [
    'an ACL grant header',
    {
      method: 'PUT',
      target: '/tvm-files/alice/new.txt',
      headers: { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
    },
    400,
    'AccessControlListNotSupported',
  ],
  ['an unsupported method', { method: 'PATCH', target: '/tvm-files/alice/a.txt' }, 405, 'MethodNotAllowed'],
])('refuses %s (%i %s) and forwards nothing', async (_name, request, status, code) => {
  const answer = await harness.sendSigned(alice, request);
  expect({ status: answer.status, code: xmlErrorCode(answer.body.toString('utf8')) }).toEqual({ status, code });
  expect(harness.takeForwarded()).toEqual([]);
});

test.each<[string, RawRequest, string]>([
  ['a GET of an ordinary key', { method: 'GET', target: '/tvm-files/alice/a.txt' }, '/tvm-files/alice/a.txt'],
  [
    'an encoded + and an encoded space',
    { method: 'PUT', target: '/tvm-files/alice/a%2Bb%20c', body: Buffer.from('x') },
    '/tvm-files/alice/a%2Bb%20c',
  ],
  [
    'an encoded slash, re-encoded as a separator',
    { method: 'PUT', target: '/tvm-files/alice%2Fslash.txt', body: Buffer.from('x') },
    '/tvm-files/alice/slash.txt',
  ],
  [
    'a double-encoded dot segment, kept literal',
    { method: 'PUT', target: '/tvm-files/alice/%252e%252e/x', body: Buffer.from('x') },
    '/tvm-files/alice/%252e%252e/x',
  ],
  [
    'unencoded sub-delimiters, encoded canonically',
    { method: 'PUT', target: "/tvm-files/alice/(a)!'*,=:@$&", body: Buffer.from('x') },
    '/tvm-files/alice/%28a%29%21%27%2A%2C%3D%3A%40%24%26',
  ],
  [
    'a folder marker',
    { method: 'PUT', target: '/tvm-files/alice/photos/', body: Buffer.alloc(0) },
    '/tvm-files/alice/photos/',
  ],
  [
    'a listing, SDK bookkeeping dropped and parameters sorted',
    { method: 'GET', target: '/tvm-files?x-id=ListObjectsV2&prefix=alice%2F&list-type=2' },
    '/tvm-files?list-type=2&prefix=alice%2F',
  ],
])('forwards %s rebuilt canonically', async (_name, request, target) => {
  const answer = await harness.sendSigned(alice, request);
  expect(answer.status).toBe(200);
  expect(harness.takeForwarded().map((forwarded) => forwarded.target)).toEqual([target]);
});

test("an owner-only ACL is accepted and changes nothing; reading an object's ACL shows the bucket owner's full control", async () => {
  const put = await harness.sendSigned(alice, {
    method: 'PUT',
    target: '/tvm-files/alice/a.txt?acl',
    headers: { 'x-amz-acl': 'bucket-owner-full-control' },
  });
  expect(put.status).toBe(200);
  const read = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files/alice/a.txt?acl' });
  expect(read.status).toBe(200);
  expect(read.body.toString('utf8')).toMatch(
    /<Grant><Grantee [^>]*xsi:type="CanonicalUser"><ID>[0-9a-f]{64}<\/ID><\/Grantee><Permission>FULL_CONTROL<\/Permission><\/Grant><\/AccessControlList>/,
  );
  expect((read.body.toString('utf8').match(/<Grant>/g) ?? []).length).toBe(1);
  const missing = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files/alice/none.txt?acl' });
  expect(xmlErrorCode(missing.body.toString('utf8'))).toBe('NoSuchKey');
  expect(harness.takeForwarded()).toEqual([]);
});

test('an unsigned request to the gate is AccessDenied and reaches nothing', async () => {
  const answer = await sendRaw(harness.port, { method: 'GET', target: '/tvm-files?list-type=2' });
  expect({ status: answer.status, code: xmlErrorCode(answer.body.toString('utf8')) }).toEqual({
    status: 403,
    code: 'AccessDenied',
  });
  expect(harness.takeForwarded()).toEqual([]);
});

describe('headers added after signing', () => {
  let s3: S3Client;

  beforeAll(async () => {
    await harness.seed('alice/source.txt', 'alice source');
    s3 = new S3Client({
      endpoint: harness.gate.url,
      region: SANDBOX_REGION,
      forcePathStyle: true,
      credentials: {
        accessKeyId: alice.accessKeyId,
        secretAccessKey: alice.secretAccessKey,
        sessionToken: alice.sessionToken,
      },
    });
  });

  afterAll(() => s3?.destroy());

  async function aliceObject(key: string): Promise<string | undefined> {
    try {
      const answer = await s3.send(new GetObjectCommand({ Bucket: SANDBOX_BUCKET, Key: key }));
      return await answer.Body?.transformToString();
    } catch {
      return undefined;
    }
  }

  describe('a presigned PUT URL (the real SDK presigner)', () => {
    test('works as signed', async () => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: 'alice/presigned.txt' }), {
        expiresIn: 300,
      });
      const answer = await fetch(url, { method: 'PUT', body: 'presigned body' });
      expect(answer.status).toBe(200);
      expect(await aliceObject('alice/presigned.txt')).toBe('presigned body');
    });

    test('with an unsigned x-amz-copy-source added is refused 403 AccessDenied naming the header, and copies nothing', async () => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: 'alice/copied.txt' }), {
        expiresIn: 300,
      });
      harness.takeForwarded();
      const answer = await fetch(url, {
        method: 'PUT',
        headers: { 'x-amz-copy-source': `${SANDBOX_BUCKET}/alice/source.txt` },
      });
      const text = await answer.text();
      expect({ status: answer.status, code: xmlErrorCode(text) }).toEqual({ status: 403, code: 'AccessDenied' });
      expect(text).toContain('There were headers present in the request which were not signed');
      expect(text).toContain('<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>');
      expect(harness.takeForwarded()).toEqual([]);
      expect(await aliceObject('alice/copied.txt')).toBeUndefined();
    });

    test('with unsigned x-amz-tagging and x-amz-meta-* added is refused 403, naming both', async () => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: 'alice/tagged.txt' }), {
        expiresIn: 300,
      });
      const answer = await fetch(url, {
        method: 'PUT',
        body: 'x',
        headers: { 'x-amz-tagging': 'a=b', 'x-amz-meta-note': 'n' },
      });
      const text = await answer.text();
      expect(answer.status).toBe(403);
      expect(/<HeadersNotSigned>([^<]*)<\/HeadersNotSigned>/.exec(text)?.[1]?.split(', ').sort()).toEqual([
        'x-amz-meta-note',
        'x-amz-tagging',
      ]);
      expect(await aliceObject('alice/tagged.txt')).toBeUndefined();
    });
  });

  describe('a header-signed request', () => {
    test('with x-amz-copy-source signed is a CopyObject', async () => {
      const answer = await harness.sendSigned(alice, {
        method: 'PUT',
        target: `/${SANDBOX_BUCKET}/alice/copy-signed.txt`,
        headers: { 'x-amz-copy-source': `${SANDBOX_BUCKET}/alice/source.txt` },
      });
      expect(answer.status).toBe(200);
      expect(await aliceObject('alice/copy-signed.txt')).toBe('alice source');
    });

    test('with x-amz-copy-source added after signing is refused 403 and reaches nothing', async () => {
      harness.takeForwarded();
      const answer = await harness.sendSigned(alice, {
        method: 'PUT',
        target: `/${SANDBOX_BUCKET}/alice/copy-unsigned.txt`,
        unsignedHeaders: { 'x-amz-copy-source': `${SANDBOX_BUCKET}/alice/source.txt` },
      });
      expect({ status: answer.status, code: xmlErrorCode(answer.body.toString('utf8')) }).toEqual({
        status: 403,
        code: 'AccessDenied',
      });
      expect(harness.takeForwarded()).toEqual([]);
      expect(await aliceObject('alice/copy-unsigned.txt')).toBeUndefined();
    });
  });
});

/**
 * Signing as S3 does it: every `x-amz-*` header on a request must be covered by its signature.
 * An unsigned `x-amz-copy-source` added to alice's presigned PUT (or to a header-signed
 * request) would turn it into a CopyObject of a key she chose after signing; S3 answers 403
 * AccessDenied "There were headers present in the request which were not signed", and so
 * does the gate, before anything reaches the emulator.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_BUCKET, SANDBOX_REGION } from '../../local/names';
import type { StsSession } from '../../local/sts/session-store';
import { startGateHarness, type GateHarness } from '../support/s3-gate-harness';
import { xmlErrorCode } from './helpers';

let root: string;
let harness: GateHarness;
let alice: StsSession;
let s3: S3Client;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-gate-unsigned-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  await harness.seed('alice/source.txt', 'alice source');
  s3 = new S3Client({
    endpoint: harness.gate.url,
    region: SANDBOX_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey, sessionToken: alice.sessionToken },
  });
}, 30_000);

afterAll(async () => {
  s3?.destroy();
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

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
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: 'alice/presigned.txt' }), { expiresIn: 300 });
    const answer = await fetch(url, { method: 'PUT', body: 'presigned body' });
    expect(answer.status).toBe(200);
    expect(await aliceObject('alice/presigned.txt')).toBe('presigned body');
  });

  test('with an unsigned x-amz-copy-source added is refused 403 AccessDenied naming the header, and copies nothing', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: 'alice/copied.txt' }), { expiresIn: 300 });
    harness.takeForwarded();
    const answer = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': `${SANDBOX_BUCKET}/alice/source.txt` } });
    const text = await answer.text();
    expect({ status: answer.status, code: xmlErrorCode(text) }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(text).toContain('There were headers present in the request which were not signed');
    expect(text).toContain('<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>');
    expect(harness.takeForwarded()).toEqual([]);
    expect(await aliceObject('alice/copied.txt')).toBeUndefined();
  });

  test('with unsigned x-amz-tagging and x-amz-meta-* added is refused 403, naming both', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: 'alice/tagged.txt' }), { expiresIn: 300 });
    const answer = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-tagging': 'a=b', 'x-amz-meta-note': 'n' } });
    const text = await answer.text();
    expect(answer.status).toBe(403);
    expect(/<HeadersNotSigned>([^<]*)<\/HeadersNotSigned>/.exec(text)?.[1]?.split(', ').sort()).toEqual(['x-amz-meta-note', 'x-amz-tagging']);
    expect(await aliceObject('alice/tagged.txt')).toBeUndefined();
  });
});

describe('a header-signed request', () => {
  test('with x-amz-copy-source signed is a CopyObject', async () => {
    const answer = await harness.sendSigned(alice, { method: 'PUT', target: `/${SANDBOX_BUCKET}/alice/copy-signed.txt`, headers: { 'x-amz-copy-source': `${SANDBOX_BUCKET}/alice/source.txt` } });
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
    expect({ status: answer.status, code: xmlErrorCode(answer.body.toString('utf8')) }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(harness.takeForwarded()).toEqual([]);
    expect(await aliceObject('alice/copy-unsigned.txt')).toBeUndefined();
  });
});

/**
 * Browser POST uploads through the S3 gate, made by the real SDK's createPresignedPost
 * (@aws-sdk/s3-presigned-post) and sent as a browser sends them (fetch with FormData): alice's
 * own folder works; another user's key, an expired policy, a violated condition, a field the
 * policy does not name and a tampered policy are refused as S3 refuses them, and store nothing.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
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

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-gate-post-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  await harness.seed('bob/secret.txt', 'bob');
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function clientFor(session: StsSession, clockOffsetMs = 0): S3Client {
  return new S3Client({
    endpoint: harness.gate.url,
    region: SANDBOX_REGION,
    forcePathStyle: true,
    systemClockOffset: clockOffsetMs,
    credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken },
  });
}

/** Posts a form as a browser does: the policy's fields (as changed by `tamper`), then the file. */
async function post(
  options: Omit<PresignedPostOptions, 'Bucket'>,
  content: string,
  tamper: (fields: Record<string, string>) => Record<string, string> = (fields) => fields,
  clockOffsetMs = 0,
): Promise<{ status: number; code: string | undefined; text: string }> {
  const client = clientFor(alice, clockOffsetMs);
  const { url, fields } = await createPresignedPost(client, { Bucket: SANDBOX_BUCKET, ...options });
  client.destroy();
  const form = new FormData();
  for (const [name, value] of Object.entries(tamper(fields))) form.append(name, value);
  form.append('file', new Blob([content], { type: 'text/plain' }), 'photo.txt');
  const answer = await fetch(url, { method: 'POST', body: form, headers: { Origin: 'http://localhost:3000' } });
  const text = await answer.text();
  return { status: answer.status, code: xmlErrorCode(text), text };
}

async function stored(key: string): Promise<{ body: string; contentType: string | undefined } | undefined> {
  const client = clientFor(alice);
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: SANDBOX_BUCKET, Key: key }));
    return { body: (await answer.Body?.transformToString()) ?? '', contentType: answer.ContentType };
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

describe("alice's own folder", () => {
  test('a POST upload to her own key is stored (204, as S3 answers by default)', async () => {
    const answer = await post({ Key: 'alice/post.txt', Conditions: [['content-length-range', 0, 1000]] }, 'posted body');
    expect(answer.status).toBe(204);
    expect((await stored('alice/post.txt'))?.body).toBe('posted body');
  });

  test('${filename} in the key takes the file name, within the policy\'s starts-with', async () => {
    const answer = await post({ Key: 'alice/uploads/${filename}' }, 'by name');
    expect(answer.status).toBe(204);
    expect((await stored('alice/uploads/photo.txt'))?.body).toBe('by name');
  });

  test('success_action_status 201 answers a PostResponse, and a Content-Type field is stored', async () => {
    const answer = await post(
      { Key: 'alice/typed.txt', Fields: { success_action_status: '201', 'Content-Type': 'text/markdown' }, Conditions: [['starts-with', '$Content-Type', 'text/']] },
      '# typed',
    );
    expect(answer.status).toBe(201);
    expect(answer.text).toContain('<Key>alice/typed.txt</Key>');
    expect(await stored('alice/typed.txt')).toEqual({ body: '# typed', contentType: 'text/markdown' });
  });
});

describe('refused as S3 refuses, storing nothing', () => {
  test("another user's key: the policy is alice's own, IAM refuses it (403 AccessDenied)", async () => {
    const answer = await post({ Key: 'bob/secret.txt' }, 'overwritten');
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(answer.text).toContain('s3:PutObject');
    const bobs = await harness.sendSigned(harness.sessionFor('bob'), { method: 'GET', target: `/${SANDBOX_BUCKET}/bob/secret.txt` });
    expect(bobs.body.toString('utf8')).toBe('bob');
  });

  test('the key field changed after signing fails its policy condition (403 AccessDenied)', async () => {
    const answer = await post({ Key: 'alice/allowed.txt' }, 'moved', (fields) => ({ ...fields, key: 'alice/elsewhere.txt' }));
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(answer.text).toContain('Policy Condition failed');
    expect(await stored('alice/elsewhere.txt')).toBeUndefined();
  });

  test('an expired policy (403 AccessDenied, "Policy expired")', async () => {
    const answer = await post({ Key: 'alice/late.txt', Expires: 60 }, 'late', undefined, -2 * 3600_000);
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(answer.text).toContain('Policy expired');
    expect(await stored('alice/late.txt')).toBeUndefined();
  });

  test('a file larger than content-length-range allows (400 EntityTooLarge)', async () => {
    const answer = await post({ Key: 'alice/big.txt', Conditions: [['content-length-range', 0, 5]] }, 'more than five bytes');
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'EntityTooLarge' });
    expect(await stored('alice/big.txt')).toBeUndefined();
  });

  test('a Content-Type outside its starts-with condition (403 AccessDenied)', async () => {
    const answer = await post({ Key: 'alice/image.txt', Fields: { 'Content-Type': 'image/png' }, Conditions: [['starts-with', '$Content-Type', 'image/']] }, 'x', (fields) => ({ ...fields, 'Content-Type': 'text/html' }));
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await stored('alice/image.txt')).toBeUndefined();
  });

  test('a field the policy does not name (403 AccessDenied, "Extra input fields")', async () => {
    const answer = await post({ Key: 'alice/meta.txt' }, 'x', (fields) => ({ ...fields, 'x-amz-meta-added': 'later' }));
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(answer.text).toContain('Extra input fields: x-amz-meta-added');
    expect(await stored('alice/meta.txt')).toBeUndefined();
  });

  test('a tampered policy (403 SignatureDoesNotMatch)', async () => {
    const answer = await post({ Key: 'alice/tampered.txt', Conditions: [['content-length-range', 0, 5]] }, 'more than five bytes', (fields) => {
      const policy = JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as { conditions: unknown[] };
      policy.conditions = policy.conditions.filter((condition) => !(Array.isArray(condition) && condition[0] === 'content-length-range'));
      return { ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') };
    });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await stored('alice/tampered.txt')).toBeUndefined();
  });

  test('a form without a file, or not multipart at all, is a 4xx', async () => {
    const { url, fields } = await createPresignedPost(clientFor(alice), { Bucket: SANDBOX_BUCKET, Key: 'alice/nofile.txt' });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const noFile = await fetch(url, { method: 'POST', body: form });
    expect(noFile.status).toBe(400);
    const broken = await fetch(url, { method: 'POST', body: '--x\r\nContent-Disposition: form-data; name="key"\r\n\r\nalice/a', headers: { 'Content-Type': 'multipart/form-data; boundary=x' } });
    expect(broken.status).toBeGreaterThanOrEqual(400);
    expect(broken.status).toBeLessThan(500);
  });
});

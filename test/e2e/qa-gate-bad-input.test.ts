/**
 * QA: bad input to the S3 gate gets a 4xx and changes nothing (security rule 9), never a 500:
 * a DeleteObjects Key holding a character reference that is not a Unicode scalar value
 * (beyond U+10FFFF, a lone surrogate), and a presigned-style x-amz-* query parameter whose
 * decoded value cannot be an HTTP header value (CR LF, NUL, characters above U+00FF).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsSession } from '../../local/sts/session-store';
import { startGateHarness, type GateHarness } from '../support/s3-gate-harness';
import { xmlErrorCode } from './helpers';

let root: string;
let harness: GateHarness;
let alice: StsSession;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-qa-delete-refs-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test.each([
  ['a reference beyond U+10FFFF', '&#x110000;'],
  ['a lone surrogate', '&#xD800;'],
])('a Key with %s is refused with a 4xx and deletes nothing before it', async (_name, reference) => {
  await harness.seed('alice/first.txt', 'keep me');
  const body = Buffer.from(`<Delete><Object><Key>alice/first.txt</Key></Object><Object><Key>alice/y${reference}</Key></Object></Delete>`);
  const answer = await harness.sendSigned(alice, {
    method: 'POST',
    target: '/tvm-files?delete',
    headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    body,
  });
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  expect(xmlErrorCode(answer.body.toString('utf8'))).toMatch(/^(MalformedXML|InvalidArgument)$/);
  const kept = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files/alice/first.txt' });
  expect(kept.body.toString('utf8')).toBe('keep me');
});

test.each([
  ['a CR LF in x-amz-meta-*', 'x-amz-meta-a=x%0D%0Ax-amz-meta-b:1'],
  ['a NUL in x-amz-meta-*', 'x-amz-meta-a=%00'],
  ['a character above U+00FF in x-amz-meta-*', 'x-amz-meta-a=%E2%98%83'],
  ['a CR LF in x-amz-tagging', 'x-amz-tagging=a%3Db%0D%0Ax:1'],
])('a PUT whose query carries %s is refused with 400 and stores nothing', async (_name, query) => {
  const answer = await harness.sendSigned(alice, { method: 'PUT', target: `/tvm-files/alice/headers.txt?${query}`, body: Buffer.from('x') });
  expect(answer.status).toBe(400);
  const stored = await harness.sendSigned(alice, { method: 'HEAD', target: '/tvm-files/alice/headers.txt' });
  expect(stored.status).toBe(404);
});

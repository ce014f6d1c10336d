/**
 * QA: UploadPart's partNumber names a file in the emulator's upload folder, so the gate must
 * accept only what S3 accepts (an integer from 1 to 10,000). A partNumber with `../` must
 * never write outside the upload: not into another user's folder, not outside the storage.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsSession } from '../../local/sts/session-store';
import { startGateHarness, type GateHarness } from '../support/s3-gate-harness';
import { xmlErrorCode } from './helpers';

let root: string;
let harness: GateHarness;
let alice: StsSession;
let bob: StsSession;
let uploadId: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-qa-part-number-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  bob = harness.sessionFor('bob');
  await harness.seed('bob/secret.txt', 'bob');
  const created = await harness.sendSigned(alice, { method: 'POST', target: '/tvm-files/alice/big?uploads' });
  uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString('utf8'))?.[1] ?? '';
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw new Error(`could not start an upload: ${created.body.toString('utf8')}`);
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test.each([
  ['into bob/ (overwriting bob/secret.txt)', '..%2F..%2Fbob%2Fsecret.txt._S3rver_object'],
  ['outside the storage folder', '..%2F..%2F..%2F..%2Fqa-outside'],
  ['a negative part number', '-1'],
  ['a part number above 10,000', '10001'],
  ['a part number that is not a number', 'x'],
])('UploadPart with a partNumber %s is refused with InvalidArgument and writes nothing', async (_name, partNumber) => {
  const answer = await harness.sendSigned(alice, {
    method: 'PUT',
    target: `/tvm-files/alice/big?partNumber=${partNumber}&uploadId=${uploadId}`,
    body: Buffer.from('written by alice'),
  });
  expect({ status: answer.status, code: xmlErrorCode(answer.body.toString('utf8')) }).toEqual({ status: 400, code: 'InvalidArgument' });
  const bobsFile = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files/bob/secret.txt' });
  expect(bobsFile.body.toString('utf8')).toBe('bob');
  expect(existsSync(join(root, 'qa-outside'))).toBe(false);
  expect(readdirSync(root)).toEqual(['s3']);
});

test('an UploadPartCopy with a traversing partNumber is refused too', async () => {
  await harness.seed('alice/a.txt', 'alice');
  const answer = await harness.sendSigned(alice, {
    method: 'PUT',
    target: `/tvm-files/alice/big?partNumber=..%2F..%2Fbob%2Fcopied.txt._S3rver_object&uploadId=${uploadId}`,
    headers: { 'x-amz-copy-source': '/tvm-files/alice/a.txt' },
  });
  expect({ status: answer.status, code: xmlErrorCode(answer.body.toString('utf8')) }).toEqual({ status: 400, code: 'InvalidArgument' });
  const listing = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files?list-type=2&prefix=bob%2F' });
  expect(listing.body.toString('utf8')).not.toContain('bob/copied.txt');
});

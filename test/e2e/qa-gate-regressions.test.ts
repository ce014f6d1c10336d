/**
 * QA regressions for the S3 gate, found holding alice's credentials: each attack below was
 * tried against the sandbox and refused; these pin the refusal and that bob's folder is
 * untouched. Requests are signed as alice and written byte for byte on the socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsSession } from '../../local/sts/session-store';
import { startGateHarness, type GateHarness, type RawAnswer } from '../support/s3-gate-harness';
import { xmlErrorCode } from './helpers';

let root: string;
let harness: GateHarness;
let alice: StsSession;
let bob: StsSession;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-qa-gate-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  bob = harness.sessionFor('bob');
  await harness.seed('alice/a.txt', 'alice');
  await harness.seed('bob/secret.txt', 'bob');
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const text = (answer: RawAnswer) => answer.body.toString('utf8');
const outcome = (answer: RawAnswer) => ({ status: answer.status, code: xmlErrorCode(text(answer)) });
const keysIn = (answer: RawAnswer) => [...text(answer).matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]);

async function bobsSecret(): Promise<string> {
  const answer = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files/bob/secret.txt' });
  harness.takeForwarded();
  return `${answer.status} ${text(answer)}`;
}

function deleteObjects(xml: string) {
  const body = Buffer.from(xml);
  return harness.sendSigned(alice, {
    method: 'POST',
    target: '/tvm-files?delete',
    headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    body,
  });
}

describe('DeleteObjects acts only on the keys the gate read and authorised', () => {
  test('an Object element with a namespace prefix is refused as MalformedXML, nothing is deleted, and bob/secret.txt survives', async () => {
    const answer = await deleteObjects(
      '<Delete><Object><Key>alice/gone.txt</Key></Object><x:Object xmlns:x="http://s3.amazonaws.com/doc/2006-03-01/"><x:Key>bob/secret.txt</x:Key></x:Object></Delete>',
    );
    expect(outcome(answer)).toEqual({ status: 400, code: 'MalformedXML' });
    expect(harness.takeForwarded()).toEqual([]);
    expect(await bobsSecret()).toBe('200 bob');
  });

  test('a ".." spelled with XML character references is refused as a dot segment', async () => {
    const answer = await deleteObjects('<Delete><Object><Key>alice/&#x2e;&#x2e;/bob/secret.txt</Key></Object></Delete>');
    expect(outcome(answer)).toEqual({ status: 400, code: 'InvalidArgument' });
    expect(harness.takeForwarded()).toEqual([]);
    expect(await bobsSecret()).toBe('200 bob');
  });
});

describe("another user's multipart upload id, used on one's own key", () => {
  let bobsUpload: string;

  beforeAll(async () => {
    const created = await harness.sendSigned(bob, { method: 'POST', target: '/tvm-files/bob/big?uploads' });
    bobsUpload = /<UploadId>([^<]+)<\/UploadId>/.exec(text(created))?.[1] ?? '';
    const part = await harness.sendSigned(bob, { method: 'PUT', target: `/tvm-files/bob/big?partNumber=1&uploadId=${bobsUpload}`, body: Buffer.from('bob part') });
    if (!/^[0-9a-f]{32}$/.test(bobsUpload) || part.status !== 200) throw new Error(`bob could not start his upload: ${text(created)}`);
    harness.takeForwarded();
  });

  test.each([
    ['ListParts', 'GET', ''],
    ['AbortMultipartUpload', 'DELETE', ''],
    ['CompleteMultipartUpload', 'POST', '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>'],
  ])('%s is NoSuchUpload and reaches nothing', async (_name, method, body) => {
    const answer = await harness.sendSigned(alice, { method, target: `/tvm-files/alice/big?uploadId=${bobsUpload}`, body: Buffer.from(body) });
    expect(outcome(answer)).toEqual({ status: 404, code: 'NoSuchUpload' });
    expect(harness.takeForwarded()).toEqual([]);
  });

  test("bob's upload is intact afterwards: he can still complete it", async () => {
    const complete = await harness.sendSigned(bob, {
      method: 'POST',
      target: `/tvm-files/bob/big?uploadId=${bobsUpload}`,
      body: Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${createHash('md5').update('bob part').digest('hex')}"</ETag></Part></CompleteMultipartUpload>`),
    });
    expect(complete.status).toBe(200);
    expect(text(await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files/bob/big' }))).toBe('bob part');
  });
});

describe('listing and copying stay inside alice/', () => {
  test.each([
    ['a prefix with ../ in it, which S3 reads literally', '/tvm-files?list-type=2&prefix=alice%2F..%2Fbob%2F'],
    ['a start-after pointing into bob/', '/tvm-files?list-type=2&prefix=alice%2F&start-after=bob%2F'],
    ['a V1 marker pointing into bob/', '/tvm-files?prefix=alice%2F&marker=bob%2F'],
  ])('%s lists no key outside alice/', async (_name, target) => {
    const answer = await harness.sendSigned(alice, { method: 'GET', target });
    expect(answer.status).toBe(200);
    expect(keysIn(answer).every((key) => key?.startsWith('alice/'))).toBe(true);
  });

  test('a parameter whose case differs from S3\'s (Prefix=bob/) is refused, not ignored', async () => {
    const answer = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files?list-type=2&prefix=alice%2F&Prefix=bob%2F' });
    expect(outcome(answer)).toEqual({ status: 400, code: 'InvalidArgument' });
  });

  test.each([
    ['wholly percent-encoded', '%2Ftvm-files%2Fbob%2Fsecret.txt'],
    ['with an encoded slash before the key', '/tvm-files/bob%2Fsecret.txt'],
    ['without the leading slash', 'tvm-files/bob/secret.txt'],
  ])("a copy source naming bob's object %s is AccessDenied", async (_name, source) => {
    const answer = await harness.sendSigned(alice, { method: 'PUT', target: '/tvm-files/alice/stolen.txt', headers: { 'x-amz-copy-source': source } });
    expect(outcome(answer)).toEqual({ status: 403, code: 'AccessDenied' });
    const stolen = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files/alice/stolen.txt' });
    expect(stolen.status).toBe(404);
  });
});

/**
 * The S3 storage under concurrency and a hostile user, through the gate (SigV4, IAM) to the
 * emulator's process:
 * - no acknowledged write is lost under any interleaving of puts, deletes, copies, multipart
 *   completes, reads and listings on one folder (fast-check draws the interleavings; each
 *   batch runs at once): every key ends as one of the acknowledged operations on it that
 *   nothing acknowledged came strictly after, and no read sees a torn object;
 * - requests meant to crash the emulator (Completes naming parts never uploaded, part numbers
 *   that are not numbers, concurrent Completes, an Abort during a Complete) get S3's 4xx, the
 *   emulator never dies, and another user working at the same time is not held up;
 * - if the emulator's process dies anyway, it is started again, the event is logged, and
 *   nothing stored is lost;
 * - whatever alice sends, bob's folder is untouched and nothing breaks: bad input is a 4xx that
 *   changes nothing (never a 500), DeleteObjects acts only on the keys the gate read, another
 *   user's upload id reaches nothing, listings and copies stay inside alice/, and a partNumber
 *   (a file name in the emulator's upload folder) is only what S3 accepts, 1 to 10,000, so a
 *   `../` in it never writes outside the upload.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StsSession } from '../../local/sts/session-store';
import { startGateHarness, type GateHarness, type RawAnswer } from '../support/s3-gate-harness';
import { xmlErrorCode } from '../support/e2e';

let root: string;
let harness: GateHarness;
let alice: StsSession;
let bob: StsSession;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-s3-concurrency-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
  bob = harness.sessionFor('bob');
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const text = (answer: RawAnswer) => answer.body.toString('utf8');
const path = (key: string) => `/tvm-files/${key.split('/').map(encodeURIComponent).join('/')}`;

/** Keys that share folders, so deletes empty folders that puts write into. */
const KEYS = ['alice/d/a', 'alice/d/b', 'alice/d/e/c', 'alice/d/e/f/g', 'alice/top'];

type Operation =
  | { kind: 'put'; key: string; size: number }
  | { kind: 'delete'; key: string }
  | { kind: 'copy'; from: string; key: string }
  | { kind: 'multipart'; key: string }
  | { kind: 'get'; key: string }
  | { kind: 'list' };

const key = fc.constantFrom(...KEYS);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('put' as const), key, size: fc.constantFrom(1, 100, 70_000) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('copy' as const), from: key, key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('multipart' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('list' as const) }) },
);

/** One acknowledged change of a key: its interval, and what the key may hold after it (undefined: absent). */
interface Effect {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  /** The bodies the key may hold after this operation (a copy: anything its source ever held). */
  readonly values: readonly (string | undefined)[];
}

let counter = 0;
/** A body no other write has, of about `size` bytes. */
function uniqueBody(size: number): string {
  const tag = `v${++counter}:`;
  return tag + 'x'.repeat(Math.max(0, size - tag.length));
}

describe('no acknowledged write is lost under any interleaving on one folder', () => {
  test('puts, deletes, copies, multipart completes, reads and listings at once: every key ends as a last acknowledged operation left it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 2, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        async (batches) => {
          for (const key of KEYS) await harness.sendSigned(alice, { method: 'DELETE', target: path(key) });
          const effects: Effect[] = [];
          const written = new Set<string>();
          const failures: string[] = [];
          for (const batch of batches) {
            await Promise.all(
              batch.map(async (op) => {
                const start = performance.now();
                const acknowledged = (values: (string | undefined)[], key: string) =>
                  effects.push({ key, start, end: performance.now(), values });
                switch (op.kind) {
                  case 'put': {
                    const body = uniqueBody(op.size);
                    written.add(body);
                    const answer = await harness.sendSigned(alice, {
                      method: 'PUT',
                      target: path(op.key),
                      body: Buffer.from(body),
                    });
                    if (answer.status === 200) acknowledged([body], op.key);
                    else failures.push(`PUT ${op.key}: ${answer.status} ${text(answer)}`);
                    break;
                  }
                  case 'delete': {
                    const answer = await harness.sendSigned(alice, { method: 'DELETE', target: path(op.key) });
                    if (answer.status === 204) acknowledged([undefined], op.key);
                    else failures.push(`DELETE ${op.key}: ${answer.status} ${text(answer)}`);
                    break;
                  }
                  case 'copy': {
                    const answer = await harness.sendSigned(alice, {
                      method: 'PUT',
                      target: path(op.key),
                      headers: { 'x-amz-copy-source': path(op.from), 'x-amz-metadata-directive': 'REPLACE' },
                    });
                    // A copy from an absent source is a NoSuchKey and changes nothing.
                    if (answer.status === 200) acknowledged([...written], op.key);
                    else if (answer.status !== 404)
                      failures.push(`COPY ${op.from} -> ${op.key}: ${answer.status} ${text(answer)}`);
                    break;
                  }
                  case 'multipart': {
                    const body = uniqueBody(2_000);
                    written.add(body);
                    const created = await harness.sendSigned(alice, {
                      method: 'POST',
                      target: `${path(op.key)}?uploads`,
                    });
                    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(text(created))?.[1] ?? '';
                    const part = await harness.sendSigned(alice, {
                      method: 'PUT',
                      target: `${path(op.key)}?partNumber=1&uploadId=${uploadId}`,
                      body: Buffer.from(body),
                    });
                    const completeStart = performance.now();
                    const complete = await harness.sendSigned(alice, {
                      method: 'POST',
                      target: `${path(op.key)}?uploadId=${uploadId}`,
                      body: Buffer.from(
                        `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.etag ?? ''}</ETag></Part></CompleteMultipartUpload>`,
                      ),
                    });
                    if (complete.status === 200)
                      effects.push({ key: op.key, start: completeStart, end: performance.now(), values: [body] });
                    else
                      failures.push(
                        `COMPLETE ${op.key}: ${created.status}/${part.status}/${complete.status} ${text(complete)}`,
                      );
                    break;
                  }
                  case 'get': {
                    const answer = await harness.sendSigned(alice, { method: 'GET', target: path(op.key) });
                    // A read sees a whole body that some write wrote, or no object: never a torn one.
                    if (answer.status === 200 ? !written.has(text(answer)) : answer.status !== 404)
                      failures.push(`GET ${op.key}: ${answer.status} ${text(answer).slice(0, 80)}`);
                    break;
                  }
                  case 'list': {
                    const answer = await harness.sendSigned(alice, {
                      method: 'GET',
                      target: '/tvm-files?list-type=2&prefix=alice%2F',
                    });
                    if (answer.status !== 200) failures.push(`LIST: ${answer.status} ${text(answer)}`);
                    break;
                  }
                }
              }),
            );
          }
          expect(failures).toEqual([]);
          for (const key of KEYS) {
            const answer = await harness.sendSigned(alice, { method: 'GET', target: path(key) });
            const final = answer.status === 200 ? text(answer) : undefined;
            expect([200, 404]).toContain(answer.status);
            const onKey = effects.filter((effect) => effect.key === key);
            // The operations nothing acknowledged came strictly after: the key must hold what one of them left.
            const last = onKey.filter((effect) => !onKey.some((other) => other.start > effect.end));
            const allowed = last.length === 0 ? [undefined] : last.flatMap((effect) => effect.values);
            if (!allowed.includes(final)) {
              throw new Error(
                `${key} holds ${final === undefined ? 'nothing' : final.slice(0, 20)}; the last acknowledged operations left ${allowed.map((value) => (value === undefined ? 'nothing' : value.slice(0, 20))).join(' or ')}`,
              );
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 240_000);

  test('20 folders, each emptied by a delete while a put writes into it (40 requests at once): every acknowledged put is readable', async () => {
    const folders = Array.from({ length: 20 }, (_, index) => `alice/burst/${index}`);
    for (const folder of folders)
      expect(
        (await harness.sendSigned(alice, { method: 'PUT', target: path(`${folder}/old`), body: Buffer.from('old') }))
          .status,
      ).toBe(200);
    const bodies = new Map(folders.map((folder) => [`${folder}/new`, uniqueBody(50)]));
    const answers = await Promise.all(
      folders.flatMap((folder) => [
        harness.sendSigned(alice, { method: 'DELETE', target: path(`${folder}/old`) }),
        harness.sendSigned(alice, {
          method: 'PUT',
          target: path(`${folder}/new`),
          body: Buffer.from(bodies.get(`${folder}/new`) ?? ''),
        }),
      ]),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([...Array(20).fill(200), ...Array(20).fill(204)]);
    for (const [key, body] of bodies)
      expect(text(await harness.sendSigned(alice, { method: 'GET', target: path(key) }))).toBe(body);
  });
});

/** Runs `work` as bob while `attack` runs as alice; returns bob's slowest request in ms. */
async function bobsSlowestWhile(attack: () => Promise<void>): Promise<{ slowest: number; statuses: number[] }> {
  let attacking = true;
  const statuses: number[] = [];
  let slowest = 0;
  const work = (async () => {
    for (let round = 0; attacking || round < 3; round++) {
      const started = performance.now();
      const body = uniqueBody(1_000);
      const put = await harness.sendSigned(bob, {
        method: 'PUT',
        target: path(`bob/work-${round % 3}`),
        body: Buffer.from(body),
      });
      const get = await harness.sendSigned(bob, { method: 'GET', target: path(`bob/work-${round % 3}`) });
      const list = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files?list-type=2&prefix=bob%2F' });
      statuses.push(put.status, get.status, list.status);
      if (text(get) !== body) statuses.push(-1);
      slowest = Math.max(slowest, performance.now() - started);
    }
  })();
  try {
    await attack();
  } finally {
    attacking = false;
    await work;
  }
  return { slowest, statuses };
}

/** A fresh upload of alice's with one 5 MiB part and a small one; returns its id and the parts' ETags. */
async function aliceUpload(key: string): Promise<{ uploadId: string; etags: string[] }> {
  const created = await harness.sendSigned(alice, { method: 'POST', target: `${path(key)}?uploads` });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(text(created))?.[1] ?? '';
  const etags: string[] = [];
  for (const [number, body] of [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('tail')].entries()) {
    const part = await harness.sendSigned(alice, {
      method: 'PUT',
      target: `${path(key)}?partNumber=${number + 1}&uploadId=${uploadId}`,
      body,
    });
    expect(part.status).toBe(200);
    etags.push(part.headers.etag ?? '');
  }
  return { uploadId, etags };
}

const completeBody = (parts: readonly (readonly [string, string | undefined])[]) =>
  Buffer.from(
    `<CompleteMultipartUpload>${parts.map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber>${etag === undefined ? '' : `<ETag>${etag}</ETag>`}</Part>`).join('')}</CompleteMultipartUpload>`,
  );

describe('a hostile user cannot take the storage down or hold up another user', () => {
  test("Completes naming parts never uploaded, non-numeric part numbers, no ETag, concurrent Completes and an Abort during a Complete: S3's 4xx, no crash, bob unaffected", async () => {
    const restartsBefore = harness.emulator.restarts();
    const pid = harness.emulator.pid();
    const outcomes: string[] = [];
    const { slowest, statuses } = await bobsSlowestWhile(async () => {
      const { uploadId, etags } = await aliceUpload('alice/hostile.bin');
      const complete = (parts: readonly (readonly [string, string | undefined])[]) =>
        harness.sendSigned(alice, {
          method: 'POST',
          target: `${path('alice/hostile.bin')}?uploadId=${uploadId}`,
          body: completeBody(parts),
        });
      for (const [parts, expected] of [
        [[['7', '"0123456789abcdef0123456789abcdef"']], 'InvalidPart'],
        [[['one', etags[0]]], 'MalformedXML'],
        [[['1', undefined]], 'MalformedXML'],
        [[['10001', etags[0]]], 'InvalidArgument'],
      ] as const) {
        const answer = await complete(parts);
        outcomes.push(`${answer.status} ${xmlErrorCode(text(answer))} (expected ${expected})`);
        expect(xmlErrorCode(text(answer))).toBe(expected);
      }
      // Five Completes and an Abort of the same upload at once: exactly one Complete wins or the Abort does; the rest are NoSuchUpload.
      const racing = await Promise.all([
        ...Array.from({ length: 5 }, () =>
          complete([
            ['1', etags[0]],
            ['2', etags[1]],
          ]),
        ),
        harness.sendSigned(alice, { method: 'DELETE', target: `${path('alice/hostile.bin')}?uploadId=${uploadId}` }),
      ]);
      const won = racing.filter((answer) => answer.status === 200 || answer.status === 204);
      expect(won.length).toBe(1);
      for (const answer of racing.filter((answer) => !won.includes(answer)))
        expect(xmlErrorCode(text(answer))).toBe('NoSuchUpload');
      const head = await harness.sendSigned(alice, { method: 'HEAD', target: path('alice/hostile.bin') });
      const completed = won[0]?.status === 200;
      expect([head.status, head.headers['content-length']]).toEqual(
        completed ? [200, String(5 * 1024 * 1024 + 4)] : [404, undefined],
      );
    });
    expect(statuses.every((status) => status === 200)).toBe(true);
    // Generous for a shared 2-core machine: a frozen emulator or a crash-and-restart takes seconds.
    expect(slowest).toBeLessThan(3_000);
    expect(harness.emulator.restarts()).toBe(restartsBefore);
    expect(harness.emulator.pid()).toBe(pid);
  }, 60_000);

  test('a flood of listings of a folder of 300 objects does not hold up bob (locks are per key, never per bucket)', async () => {
    for (let index = 0; index < 300; index++) await harness.seed(`alice/many/${String(index).padStart(3, '0')}`, 'x');
    const { slowest, statuses } = await bobsSlowestWhile(async () => {
      for (let round = 0; round < 3; round++) {
        const listings = await Promise.all(
          Array.from({ length: 20 }, () =>
            harness.sendSigned(alice, { method: 'GET', target: '/tvm-files?list-type=2&prefix=alice%2Fmany%2F' }),
          ),
        );
        expect(listings.map((listing) => listing.status)).toEqual(Array(20).fill(200));
      }
    });
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(slowest).toBeLessThan(3_000);
  }, 60_000);

  test('if the emulator process dies anyway, it is started again, the event is logged, and stored objects are kept', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(
        (await harness.sendSigned(bob, { method: 'PUT', target: path('bob/kept.txt'), body: Buffer.from('kept') }))
          .status,
      ).toBe(200);
      const pid = harness.emulator.pid();
      process.kill(pid ?? 0, 'SIGKILL');
      // Sent while the emulator is down: the gate waits for the new process.
      const during = await harness.sendSigned(bob, { method: 'GET', target: path('bob/kept.txt') });
      expect(during.status).toBe(200);
      expect(text(during)).toBe('kept');
      expect(harness.emulator.pid()).not.toBe(pid);
      expect(harness.emulator.restarts()).toBeGreaterThanOrEqual(1);
      expect(logged.mock.calls.flat().join('\n')).toMatch(/S3 emulator \(pid \d+\) died/);
    } finally {
      logged.mockRestore();
    }
  }, 30_000);
});

describe("alice's attacks leave bob's folder untouched and break nothing", () => {
  const outcome = (answer: RawAnswer) => ({ status: answer.status, code: xmlErrorCode(text(answer)) });
  const keysIn = (answer: RawAnswer) => [...text(answer).matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]);

  beforeAll(async () => {
    await harness.seed('alice/a.txt', 'alice');
    await harness.seed('bob/secret.txt', 'bob');
  });

  // Each test counts what reached the emulator from its own requests only.
  beforeEach(() => {
    harness.takeForwarded();
  });

  async function bobsSecret(): Promise<string> {
    const answer = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files/bob/secret.txt' });
    harness.takeForwarded();
    return `${answer.status} ${text(answer)}`;
  }

  /** A DeleteObjects request from alice with this XML body (and its Content-MD5). */
  function deleteObjects(xml: string) {
    const body = Buffer.from(xml);
    return harness.sendSigned(alice, {
      method: 'POST',
      target: '/tvm-files?delete',
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
      body,
    });
  }

  describe('bad input gets a 4xx and changes nothing, never a 500', () => {
    test.each([
      ['a reference beyond U+10FFFF', '&#x110000;'],
      ['a lone surrogate', '&#xD800;'],
    ])('a Key with %s is refused with a 4xx and deletes nothing before it', async (_name, reference) => {
      await harness.seed('alice/first.txt', 'keep me');
      const answer = await deleteObjects(
        `<Delete><Object><Key>alice/first.txt</Key></Object><Object><Key>alice/y${reference}</Key></Object></Delete>`,
      );
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(xmlErrorCode(text(answer))).toMatch(/^(MalformedXML|InvalidArgument)$/);
      const kept = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files/alice/first.txt' });
      expect(text(kept)).toBe('keep me');
    });

    test.each([
      ['a CR LF in x-amz-meta-*', 'x-amz-meta-a=x%0D%0Ax-amz-meta-b:1'],
      ['a NUL in x-amz-meta-*', 'x-amz-meta-a=%00'],
      ['a character above U+00FF in x-amz-meta-*', 'x-amz-meta-a=%E2%98%83'],
      ['a CR LF in x-amz-tagging', 'x-amz-tagging=a%3Db%0D%0Ax:1'],
    ])('a PUT whose query carries %s is refused with 400 and stores nothing', async (_name, query) => {
      const answer = await harness.sendSigned(alice, {
        method: 'PUT',
        target: `/tvm-files/alice/headers.txt?${query}`,
        body: Buffer.from('x'),
      });
      expect(answer.status).toBe(400);
      const stored = await harness.sendSigned(alice, { method: 'HEAD', target: '/tvm-files/alice/headers.txt' });
      expect(stored.status).toBe(404);
    });
  });

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
      const answer = await deleteObjects(
        '<Delete><Object><Key>alice/&#x2e;&#x2e;/bob/secret.txt</Key></Object></Delete>',
      );
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
      const part = await harness.sendSigned(bob, {
        method: 'PUT',
        target: `/tvm-files/bob/big?partNumber=1&uploadId=${bobsUpload}`,
        body: Buffer.from('bob part'),
      });
      if (!/^[0-9a-f]{32}$/.test(bobsUpload) || part.status !== 200)
        throw new Error(`bob could not start his upload: ${text(created)}`);
    });

    test.each([
      ['ListParts', 'GET', ''],
      ['AbortMultipartUpload', 'DELETE', ''],
      [
        'CompleteMultipartUpload',
        'POST',
        '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
      ],
    ])('%s is NoSuchUpload and reaches nothing', async (_name, method, body) => {
      const answer = await harness.sendSigned(alice, {
        method,
        target: `/tvm-files/alice/big?uploadId=${bobsUpload}`,
        body: Buffer.from(body),
      });
      expect(outcome(answer)).toEqual({ status: 404, code: 'NoSuchUpload' });
      expect(harness.takeForwarded()).toEqual([]);
    });

    test("bob's upload is intact afterwards: he can still complete it", async () => {
      const complete = await harness.sendSigned(bob, {
        method: 'POST',
        target: `/tvm-files/bob/big?uploadId=${bobsUpload}`,
        body: Buffer.from(
          `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${createHash('md5').update('bob part').digest('hex')}"</ETag></Part></CompleteMultipartUpload>`,
        ),
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

    test("a parameter whose case differs from S3's (Prefix=bob/) is refused, not ignored", async () => {
      const answer = await harness.sendSigned(alice, {
        method: 'GET',
        target: '/tvm-files?list-type=2&prefix=alice%2F&Prefix=bob%2F',
      });
      expect(outcome(answer)).toEqual({ status: 400, code: 'InvalidArgument' });
    });

    test.each([
      ['wholly percent-encoded', '%2Ftvm-files%2Fbob%2Fsecret.txt'],
      ['with an encoded slash before the key', '/tvm-files/bob%2Fsecret.txt'],
      ['without the leading slash', 'tvm-files/bob/secret.txt'],
    ])("a copy source naming bob's object %s is AccessDenied", async (_name, source) => {
      const answer = await harness.sendSigned(alice, {
        method: 'PUT',
        target: '/tvm-files/alice/stolen.txt',
        headers: { 'x-amz-copy-source': source },
      });
      expect(outcome(answer)).toEqual({ status: 403, code: 'AccessDenied' });
      const stolen = await harness.sendSigned(alice, { method: 'GET', target: '/tvm-files/alice/stolen.txt' });
      expect(stolen.status).toBe(404);
    });
  });

  describe('UploadPart part numbers', () => {
    let uploadId: string;

    beforeAll(async () => {
      const created = await harness.sendSigned(alice, { method: 'POST', target: '/tvm-files/alice/big?uploads' });
      uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(text(created))?.[1] ?? '';
      if (!/^[0-9a-f]{32}$/.test(uploadId)) throw new Error(`could not start an upload: ${text(created)}`);
    });

    test.each([
      ['into bob/ (overwriting bob/secret.txt)', '..%2F..%2Fbob%2Fsecret.txt._S3rver_object'],
      ['outside the storage folder', '..%2F..%2F..%2F..%2Fqa-outside'],
      ['a negative part number', '-1'],
      ['a part number above 10,000', '10001'],
      ['a part number that is not a number', 'x'],
    ])(
      'UploadPart with a partNumber %s is refused with InvalidArgument and writes nothing',
      async (_name, partNumber) => {
        const answer = await harness.sendSigned(alice, {
          method: 'PUT',
          target: `/tvm-files/alice/big?partNumber=${partNumber}&uploadId=${uploadId}`,
          body: Buffer.from('written by alice'),
        });
        expect(outcome(answer)).toEqual({ status: 400, code: 'InvalidArgument' });
        const bobsFile = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files/bob/secret.txt' });
        expect(text(bobsFile)).toBe('bob');
        expect(existsSync(join(root, 'qa-outside'))).toBe(false);
        expect(readdirSync(root)).toEqual(['s3']);
      },
    );

    test('an UploadPartCopy with a traversing partNumber is refused too', async () => {
      const answer = await harness.sendSigned(alice, {
        method: 'PUT',
        target: `/tvm-files/alice/big?partNumber=..%2F..%2Fbob%2Fcopied.txt._S3rver_object&uploadId=${uploadId}`,
        headers: { 'x-amz-copy-source': '/tvm-files/alice/a.txt' },
      });
      expect(outcome(answer)).toEqual({ status: 400, code: 'InvalidArgument' });
      const listing = await harness.sendSigned(bob, { method: 'GET', target: '/tvm-files?list-type=2&prefix=bob%2F' });
      expect(text(listing)).not.toContain('bob/copied.txt');
    });
  });
});

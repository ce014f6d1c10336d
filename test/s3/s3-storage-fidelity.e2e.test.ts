/**
 * Own-folder operations behave as S3 does (or as docs/sandbox.md says the sandbox differs),
 * through the gate to the emulator's process, signed as alice: ListParts, response overrides,
 * ranges (suffix, malformed, unsatisfiable), tags given with PutObject and never inherited by
 * a new object of a deleted key, Content-MD5 and checksums, conditional writes and reads,
 * CompleteMultipartUpload's checks, and a garbage continuation token. Browser POST uploads,
 * made by the real SDK's createPresignedPost (@aws-sdk/s3-presigned-post) and sent as a browser
 * sends them (fetch with FormData): alice's own folder works; another user's key, an expired
 * policy, a violated condition, a field the policy does not name and a tampered policy are
 * refused as S3 refuses them, and store nothing.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsSession } from '../../local/sts/session-store';
import { startGateHarness, type GateHarness, type RawAnswer } from '../support/s3-gate-harness';
import { xmlErrorCode } from '../support/e2e';
import { SANDBOX_BUCKET, SANDBOX_REGION } from '../../local/names';

let root: string;
let harness: GateHarness;
let alice: StsSession;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tvm-s3-fidelity-'));
  harness = await startGateHarness(root);
  alice = harness.sessionFor('alice');
}, 30_000);

afterAll(async () => {
  await harness?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const text = (answer: RawAnswer) => answer.body.toString('utf8');
const code = (answer: RawAnswer) => xmlErrorCode(text(answer));
const md5 = (body: string | Buffer) => createHash('md5').update(body).digest();
const send = (method: string, target: string, headers: Record<string, string> = {}, body?: string | Buffer) =>
  harness.sendSigned(alice, {
    method,
    target: `/tvm-files/alice/${target}`,
    headers,
    ...(body !== undefined ? { body: Buffer.from(body) } : {}),
  });
const tagsOf = async (key: string) =>
  [...text(await send('GET', `${key}?tagging`)).matchAll(/<Key>([^<]*)<\/Key><Value>([^<]*)<\/Value>/g)].map(
    ([, name, value]) => `${name}=${value}`,
  );

describe('reads', () => {
  beforeAll(async () => {
    const put = await send('PUT', 'eleven.txt', { 'content-type': 'text/plain' }, 'hello world');
    if (put.status !== 200) throw new Error(`seeding eleven.txt: ${put.status}`);
  });

  test.each([
    ['bytes=-3 (a suffix): the last 3 bytes', 'bytes=-3', 206, 'rld', 'bytes 8-10/11'],
    ['bytes=0-4', 'bytes=0-4', 206, 'hello', 'bytes 0-4/11'],
    ['bytes=6- : from byte 6 to the end', 'bytes=6-', 206, 'world', 'bytes 6-10/11'],
    ['bytes=6-99 : the end clamped to the object', 'bytes=6-99', 206, 'world', 'bytes 6-10/11'],
    [
      'bytes=-50 : a suffix longer than the object is the whole object',
      'bytes=-50',
      206,
      'hello world',
      'bytes 0-10/11',
    ],
    ['bytes=1.5- (malformed): ignored, the whole object', 'bytes=1.5-', 200, 'hello world', undefined],
    ['bytes=4-2 (last before first): ignored', 'bytes=4-2', 200, 'hello world', undefined],
    ['two ranges: ignored', 'bytes=0-1,3-4', 200, 'hello world', undefined],
    ['items=0-1 (another unit): ignored', 'items=0-1', 200, 'hello world', undefined],
  ])('Range %s', async (_name, range, status, body, contentRange) => {
    const answer = await send('GET', 'eleven.txt', { range });
    expect(answer.status).toBe(status);
    expect(text(answer)).toBe(body);
    expect(answer.headers['content-range']).toBe(contentRange);
  });

  test.each([['bytes=11-'], ['bytes=50-60'], ['bytes=-0']])(
    'Range %s that no byte satisfies is 416 InvalidRange',
    async (range) => {
      const answer = await send('GET', 'eleven.txt', { range });
      expect(answer.status).toBe(416);
      expect(code(answer)).toBe('InvalidRange');
    },
  );

  test('every response override sets its header on GET and HEAD', async () => {
    const overrides = {
      'response-content-disposition': 'attachment; filename="report.txt"',
      'response-content-type': 'application/x-report',
      'response-content-language': 'fr',
      'response-expires': 'Thu, 01 Dec 2044 16:00:00 GMT',
      'response-cache-control': 'no-cache',
      'response-content-encoding': 'identity',
    };
    const query = Object.entries(overrides)
      .map(
        ([name, value]) =>
          `${name}=${encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
      )
      .join('&');
    for (const method of ['GET', 'HEAD']) {
      const answer = await send(method, `eleven.txt?${query}`);
      expect(answer.status).toBe(200);
      for (const [name, value] of Object.entries(overrides))
        expect(answer.headers[name.slice('response-'.length)]).toBe(value);
    }
  });

  test('If-Match and If-None-Match on GET and HEAD: 412 and 304 as S3', async () => {
    const etag = (await send('HEAD', 'eleven.txt')).headers.etag ?? '';
    expect((await send('GET', 'eleven.txt', { 'if-match': etag })).status).toBe(200);
    const wrong = await send('GET', 'eleven.txt', { 'if-match': '"00000000000000000000000000000000"' });
    expect([wrong.status, code(wrong)]).toEqual([412, 'PreconditionFailed']);
    expect((await send('HEAD', 'eleven.txt', { 'if-match': '"00000000000000000000000000000000"' })).status).toBe(412);
    expect((await send('GET', 'eleven.txt', { 'if-none-match': etag })).status).toBe(304);
    expect((await send('HEAD', 'eleven.txt', { 'if-none-match': etag })).status).toBe(304);
    expect((await send('GET', 'eleven.txt', { 'if-none-match': '"00000000000000000000000000000000"' })).status).toBe(
      200,
    );
  });

  test('If-Modified-Since and If-Unmodified-Since on GET: 304 and 412 as S3; If-Match wins over If-Unmodified-Since', async () => {
    const future = new Date(Date.now() + 3600_000).toUTCString();
    const past = 'Mon, 01 Jan 2001 00:00:00 GMT';
    expect((await send('GET', 'eleven.txt', { 'if-modified-since': future })).status).toBe(304);
    expect((await send('GET', 'eleven.txt', { 'if-modified-since': past })).status).toBe(200);
    expect((await send('GET', 'eleven.txt', { 'if-unmodified-since': past })).status).toBe(412);
    expect((await send('GET', 'eleven.txt', { 'if-unmodified-since': future })).status).toBe(200);
    const etag = (await send('HEAD', 'eleven.txt')).headers.etag ?? '';
    expect((await send('GET', 'eleven.txt', { 'if-match': etag, 'if-unmodified-since': past })).status).toBe(200);
  });
});

describe('writes', () => {
  test('tags given with PutObject (x-amz-tagging) are kept', async () => {
    expect(
      (await send('PUT', 'tagged.txt', { 'x-amz-tagging': 'project=blue&owner=alice%20s' }, 'tagged')).status,
    ).toBe(200);
    expect(await tagsOf('tagged.txt')).toEqual(['project=blue', 'owner=alice s']);
  });

  test("a deleted key's tags never come back on a new object with that key", async () => {
    expect((await send('PUT', 'retagged.txt', { 'x-amz-tagging': 'secret=1' }, 'one')).status).toBe(200);
    expect((await send('DELETE', 'retagged.txt')).status).toBe(204);
    expect((await send('PUT', 'retagged.txt', {}, 'two')).status).toBe(200);
    expect(await tagsOf('retagged.txt')).toEqual([]);
    // An overwrite without tags also leaves the new object untagged, as in S3.
    expect((await send('PUT', 'retagged.txt', { 'x-amz-tagging': 'a=1' }, 'three')).status).toBe(200);
    expect((await send('PUT', 'retagged.txt', {}, 'four')).status).toBe(200);
    expect(await tagsOf('retagged.txt')).toEqual([]);
  });

  test('more than 10 tags, or one key twice, is InvalidTag and stores nothing', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
    for (const tagging of [eleven, 'a=1&a=2']) {
      const answer = await send('PUT', 'too-many-tags.txt', { 'x-amz-tagging': tagging }, 'x');
      expect([answer.status, code(answer)]).toEqual([400, 'InvalidTag']);
    }
    expect((await send('HEAD', 'too-many-tags.txt')).status).toBe(404);
  });

  test('a wrong Content-MD5 is BadDigest and a malformed one InvalidDigest; nothing is stored', async () => {
    const bad = await send(
      'PUT',
      'digest.txt',
      { 'content-md5': md5('something else').toString('base64') },
      'the body',
    );
    expect([bad.status, code(bad)]).toEqual([400, 'BadDigest']);
    const malformed = await send('PUT', 'digest.txt', { 'content-md5': 'not-a-digest' }, 'the body');
    expect([malformed.status, code(malformed)]).toEqual([400, 'InvalidDigest']);
    expect((await send('HEAD', 'digest.txt')).status).toBe(404);
    expect(
      (await send('PUT', 'digest.txt', { 'content-md5': md5('the body').toString('base64') }, 'the body')).status,
    ).toBe(200);
  });

  test.each([
    ['x-amz-checksum-crc32', 'AAAAAA=='],
    ['x-amz-checksum-crc32c', 'AAAAAA=='],
    ['x-amz-checksum-crc64nvme', 'AAAAAAAAAAA='],
    ['x-amz-checksum-sha1', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['x-amz-checksum-sha256', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
  ])('a wrong %s header is BadDigest and stores nothing', async (name, value) => {
    const answer = await send('PUT', 'checksum.txt', { [name]: value }, 'the body');
    expect([answer.status, code(answer)]).toEqual([400, 'BadDigest']);
    expect((await send('HEAD', 'checksum.txt')).status).toBe(404);
  });

  test('If-None-Match: * writes only a new key (412 PreconditionFailed otherwise)', async () => {
    expect((await send('PUT', 'once.txt', { 'if-none-match': '*' }, 'first')).status).toBe(200);
    const second = await send('PUT', 'once.txt', { 'if-none-match': '*' }, 'second');
    expect([second.status, code(second)]).toEqual([412, 'PreconditionFailed']);
    expect(text(await send('GET', 'once.txt'))).toBe('first');
  });

  test('concurrent If-None-Match: * writes of one new key: exactly one wins', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => send('PUT', 'race-once.txt', { 'if-none-match': '*' }, `writer ${i}`)),
    );
    const winners = answers.filter((answer) => answer.status === 200);
    expect(winners).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 412)).toHaveLength(5);
    const stored = text(await send('GET', 'race-once.txt'));
    expect(winners[0]?.headers.etag).toBe(`"${md5(stored).toString('hex')}"`);
  });

  test('If-Match on PUT: the ETag of the current object writes, another is 412, a missing object 404 NoSuchKey', async () => {
    const etag = (await send('PUT', 'cas.txt', {}, 'v1')).headers.etag ?? '';
    const stale = await send('PUT', 'cas.txt', { 'if-match': '"00000000000000000000000000000000"' }, 'v2');
    expect([stale.status, code(stale)]).toEqual([412, 'PreconditionFailed']);
    expect((await send('PUT', 'cas.txt', { 'if-match': etag }, 'v2')).status).toBe(200);
    expect(text(await send('GET', 'cas.txt'))).toBe('v2');
    const missing = await send('PUT', 'no-such.txt', { 'if-match': etag }, 'v1');
    expect([missing.status, code(missing)]).toEqual([404, 'NoSuchKey']);
  });

  test('If-None-Match with an ETag on PUT is NotImplemented (S3 supports only *)', async () => {
    const answer = await send('PUT', 'inm.txt', { 'if-none-match': '"00000000000000000000000000000000"' }, 'x');
    expect([answer.status, code(answer)]).toEqual([501, 'NotImplemented']);
  });
});

/** Starts an upload of `key` with the given parts; returns its id and the parts' ETags. */
async function upload(key: string, parts: readonly Buffer[]): Promise<{ uploadId: string; etags: string[] }> {
  const created = await send('POST', `${key}?uploads`);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(text(created))?.[1] ?? '';
  const etags: string[] = [];
  for (const [index, body] of parts.entries()) {
    const answer = await send('PUT', `${key}?partNumber=${index + 1}&uploadId=${uploadId}`, {}, body);
    expect(answer.status).toBe(200);
    etags.push(answer.headers.etag ?? '');
  }
  return { uploadId, etags };
}

const completeXml = (parts: readonly (readonly [number, string])[]) =>
  `<CompleteMultipartUpload>${parts.map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

describe('multipart uploads', () => {
  const big = Buffer.alloc(5 * 1024 * 1024, 7);

  test('ListParts lists the uploaded parts with their sizes and ETags, paginated', async () => {
    const { uploadId, etags } = await upload('listed.bin', [big, Buffer.from('two'), Buffer.from('three')]);
    const all = text(await send('GET', `listed.bin?uploadId=${uploadId}`));
    expect([...all.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((match) => Number(match[1]))).toEqual([1, 2, 3]);
    expect([...all.matchAll(/<Size>(\d+)<\/Size>/g)].map((match) => Number(match[1]))).toEqual([big.length, 3, 5]);
    expect([...all.matchAll(/<ETag>([^<]+)<\/ETag>/g)].map((match) => match[1]?.replace(/&quot;/g, '"'))).toEqual(
      etags,
    );
    const page = text(await send('GET', `listed.bin?max-parts=1&part-number-marker=1&uploadId=${uploadId}`));
    expect(page).toContain('<IsTruncated>true</IsTruncated>');
    expect(page).toContain('<NextPartNumberMarker>2</NextPartNumberMarker>');
    expect([...page.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((match) => Number(match[1]))).toEqual([2]);
    expect((await send('DELETE', `listed.bin?uploadId=${uploadId}`)).status).toBe(204);
    expect(code(await send('GET', `listed.bin?uploadId=${uploadId}`))).toBe('NoSuchUpload');
  });

  test('Complete naming a part of another upload, or a wrong ETag, is InvalidPart; nothing is written', async () => {
    const mine = await upload('checked.bin', [big, Buffer.from('tail')]);
    const other = await upload('other.bin', [big, Buffer.from('other tail')]);
    for (const parts of [
      [
        [1, mine.etags[0] ?? ''],
        [2, other.etags[1] ?? ''],
      ],
      [
        [1, mine.etags[0] ?? ''],
        [3, mine.etags[1] ?? ''],
      ],
      [[1, '"0123456789abcdef0123456789abcdef"']],
    ] as const) {
      const answer = await send('POST', `checked.bin?uploadId=${mine.uploadId}`, {}, completeXml(parts));
      expect([answer.status, code(answer)]).toEqual([400, 'InvalidPart']);
    }
    expect((await send('HEAD', 'checked.bin')).status).toBe(404);
    // The upload is still there: the right parts complete it.
    const done = await send(
      'POST',
      `checked.bin?uploadId=${mine.uploadId}`,
      {},
      completeXml([
        [1, mine.etags[0] ?? ''],
        [2, mine.etags[1] ?? ''],
      ]),
    );
    expect(done.status).toBe(200);
    expect((await send('HEAD', 'checked.bin')).headers['content-length']).toBe(String(big.length + 4));
  });

  test('Complete with a part under 5 MiB before the last is EntityTooSmall', async () => {
    const { uploadId, etags } = await upload('small.bin', [Buffer.from('small'), Buffer.from('last')]);
    const answer = await send(
      'POST',
      `small.bin?uploadId=${uploadId}`,
      {},
      completeXml([
        [1, etags[0] ?? ''],
        [2, etags[1] ?? ''],
      ]),
    );
    expect([answer.status, code(answer)]).toEqual([400, 'EntityTooSmall']);
    // One small part alone is the last part: allowed.
    expect((await send('POST', `small.bin?uploadId=${uploadId}`, {}, completeXml([[1, etags[0] ?? '']]))).status).toBe(
      200,
    );
  });

  test('Complete with parts out of order is InvalidPartOrder', async () => {
    const { uploadId, etags } = await upload('order.bin', [big, big]);
    const answer = await send(
      'POST',
      `order.bin?uploadId=${uploadId}`,
      {},
      completeXml([
        [2, etags[1] ?? ''],
        [1, etags[0] ?? ''],
      ]),
    );
    expect([answer.status, code(answer)]).toEqual([400, 'InvalidPartOrder']);
  });

  test('the tags given to CreateMultipartUpload are on the completed object', async () => {
    const created = await send('POST', 'tagged-upload.bin?uploads', { 'x-amz-tagging': 'kind=upload' });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(text(created))?.[1] ?? '';
    const part = await send('PUT', `tagged-upload.bin?partNumber=1&uploadId=${uploadId}`, {}, 'only part');
    expect(
      (await send('POST', `tagged-upload.bin?uploadId=${uploadId}`, {}, completeXml([[1, part.headers.etag ?? '']])))
        .status,
    ).toBe(200);
    expect(await tagsOf('tagged-upload.bin')).toEqual(['kind=upload']);
  });

  test('a part sent to an aborted upload is NoSuchUpload, and the upload stays gone', async () => {
    const { uploadId } = await upload('aborted.bin', [Buffer.from('one')]);
    expect((await send('DELETE', `aborted.bin?uploadId=${uploadId}`)).status).toBe(204);
    expect(code(await send('PUT', `aborted.bin?partNumber=2&uploadId=${uploadId}`, {}, 'late'))).toBe('NoSuchUpload');
    expect(code(await send('DELETE', `aborted.bin?uploadId=${uploadId}`))).toBe('NoSuchUpload');
  });
});

describe('listings', () => {
  test.each([['garbage'], ['AAAAAAAAAAAAAAAAAAAAAA%3D%3D'], ['%2F%2F']])(
    'a continuation-token the sandbox did not make (%s) is 400 InvalidArgument',
    async (token) => {
      const answer = await harness.sendSigned(alice, {
        method: 'GET',
        target: `/tvm-files?continuation-token=${token}&list-type=2&prefix=alice%2F`,
      });
      expect([answer.status, code(answer)]).toEqual([400, 'InvalidArgument']);
    },
  );

  test('a continuation-token the sandbox made pages on', async () => {
    for (const name of ['p/1', 'p/2', 'p/3']) expect((await send('PUT', name, {}, name)).status).toBe(200);
    const first = text(
      await harness.sendSigned(alice, {
        method: 'GET',
        target: '/tvm-files?list-type=2&max-keys=2&prefix=alice%2Fp%2F',
      }),
    );
    const token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(first)?.[1] ?? '';
    const next = await harness.sendSigned(alice, {
      method: 'GET',
      target: `/tvm-files?continuation-token=${encodeURIComponent(token)}&list-type=2&max-keys=2&prefix=alice%2Fp%2F`,
    });
    expect(next.status).toBe(200);
    expect([...text(next).matchAll(/<Key>([^<]+)<\/Key>/g)].map((match) => match[1])).toEqual(['alice/p/3']);
  });
});

describe('browser POST uploads', () => {
  beforeAll(async () => {
    await harness.seed('bob/secret.txt', 'bob');
  });

  function clientFor(session: StsSession, clockOffsetMs = 0): S3Client {
    return new S3Client({
      endpoint: harness.gate.url,
      region: SANDBOX_REGION,
      forcePathStyle: true,
      systemClockOffset: clockOffsetMs,
      credentials: {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
      },
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
    const body = await answer.text();
    return { status: answer.status, code: xmlErrorCode(body), text: body };
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
      const answer = await post(
        { Key: 'alice/post.txt', Conditions: [['content-length-range', 0, 1000]] },
        'posted body',
      );
      expect(answer.status).toBe(204);
      expect((await stored('alice/post.txt'))?.body).toBe('posted body');
    });

    test("${filename} in the key takes the file name, within the policy's starts-with", async () => {
      const answer = await post({ Key: 'alice/uploads/${filename}' }, 'by name');
      expect(answer.status).toBe(204);
      expect((await stored('alice/uploads/photo.txt'))?.body).toBe('by name');
    });

    test('success_action_status 201 answers a PostResponse, and a Content-Type field is stored', async () => {
      const answer = await post(
        {
          Key: 'alice/typed.txt',
          Fields: { success_action_status: '201', 'Content-Type': 'text/markdown' },
          Conditions: [['starts-with', '$Content-Type', 'text/']],
        },
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
      const bobs = await harness.sendSigned(harness.sessionFor('bob'), {
        method: 'GET',
        target: `/${SANDBOX_BUCKET}/bob/secret.txt`,
      });
      expect(bobs.body.toString('utf8')).toBe('bob');
    });

    test('the key field changed after signing fails its policy condition (403 AccessDenied)', async () => {
      const answer = await post({ Key: 'alice/allowed.txt' }, 'moved', (fields) => ({
        ...fields,
        key: 'alice/elsewhere.txt',
      }));
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
      const answer = await post(
        { Key: 'alice/big.txt', Conditions: [['content-length-range', 0, 5]] },
        'more than five bytes',
      );
      expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'EntityTooLarge' });
      expect(await stored('alice/big.txt')).toBeUndefined();
    });

    test('a Content-Type outside its starts-with condition (403 AccessDenied)', async () => {
      const answer = await post(
        {
          Key: 'alice/image.txt',
          Fields: { 'Content-Type': 'image/png' },
          Conditions: [['starts-with', '$Content-Type', 'image/']],
        },
        'x',
        (fields) => ({ ...fields, 'Content-Type': 'text/html' }),
      );
      expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
      expect(await stored('alice/image.txt')).toBeUndefined();
    });

    test('a field the policy does not name (403 AccessDenied, "Extra input fields")', async () => {
      const answer = await post({ Key: 'alice/meta.txt' }, 'x', (fields) => ({
        ...fields,
        'x-amz-meta-added': 'later',
      }));
      expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'AccessDenied' });
      expect(answer.text).toContain('Extra input fields: x-amz-meta-added');
      expect(await stored('alice/meta.txt')).toBeUndefined();
    });

    test('a tampered policy (403 SignatureDoesNotMatch)', async () => {
      const answer = await post(
        { Key: 'alice/tampered.txt', Conditions: [['content-length-range', 0, 5]] },
        'more than five bytes',
        (fields) => {
          const policy = JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as {
            conditions: unknown[];
          };
          policy.conditions = policy.conditions.filter(
            (condition) => !(Array.isArray(condition) && condition[0] === 'content-length-range'),
          );
          return { ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') };
        },
      );
      expect({ status: answer.status, code: answer.code }).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
      expect(await stored('alice/tampered.txt')).toBeUndefined();
    });

    test('a form without a file, or not multipart at all, is a 4xx', async () => {
      const { url, fields } = await createPresignedPost(clientFor(alice), {
        Bucket: SANDBOX_BUCKET,
        Key: 'alice/nofile.txt',
      });
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const noFile = await fetch(url, { method: 'POST', body: form });
      expect(noFile.status).toBe(400);
      const broken = await fetch(url, {
        method: 'POST',
        body: '--x\r\nContent-Disposition: form-data; name="key"\r\n\r\nalice/a',
        headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
      });
      expect(broken.status).toBeGreaterThanOrEqual(400);
      expect(broken.status).toBeLessThan(500);
    });
  });
});

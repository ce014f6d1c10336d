import { parseAccessLogLine } from '../../lambda/usage/access-log';
import { tallyAccessLog } from '../../lambda/usage/request-tally';
import { accessLogLines, startAccessLogWriter, logObjectKey } from '../../local/s3/access-log-writer';
import type { CompletedS3Request } from '../../local/s3/request-record';

const ALICE = 'arn:aws:sts::000000000000:assumed-role/tvm-vending/alice';
const base: CompletedS3Request = {
  requestId: '0123456789ABCDEF',
  receivedAt: Date.UTC(2026, 11, 8, 1, 2, 3, 456),
  answeredAt: Date.UTC(2026, 11, 8, 1, 2, 3, 500),
  remoteIp: '127.0.0.1',
  requester: ALICE,
  method: 'GET',
  requestLine: 'GET /tvm-files/alice/a%20b.txt HTTP/1.1',
  operation: 'GetObject',
  bucket: 'tvm-files',
  key: 'alice/a b.txt',
  status: 200,
  bytesSent: 11,
  objectSize: 11,
  userAgent: 'aws-sdk-js/3 "x"',
  authType: 'AuthHeader',
};

describe("the sandbox's access log lines", () => {
  it("writes S3's format, read back by the stack's parser field for field", () => {
    const [line] = accessLogLines(base);
    expect(parseAccessLogLine(line ?? '')).toMatchObject({
      bucket: 'tvm-files',
      time: Date.UTC(2026, 11, 8, 1, 2, 3),
      requester: ALICE,
      operation: 'REST.GET.OBJECT',
      key: 'alice/a b.txt',
      requestUri: 'GET /tvm-files/alice/a%20b.txt HTTP/1.1',
      httpStatus: 200,
      bytesSent: 11,
      objectSize: 11,
      totalTimeMs: 44,
      userAgent: 'aws-sdk-js/3 "x"',
      signatureVersion: 'SigV4',
      authType: 'AuthHeader',
    });
  });

  it('writes a DeleteObjects request as one request line and one BATCH line per deleted key', () => {
    const lines = accessLogLines({
      ...base,
      method: 'POST',
      operation: 'DeleteObjects',
      key: undefined,
      deletedKeys: ['alice/x', 'alice/y'],
    } as CompletedS3Request);
    expect(lines.map((line) => parseAccessLogLine(line).operation)).toEqual([
      'REST.POST.MULTI_OBJECT_DELETE',
      'BATCH.DELETE.OBJECT',
      'BATCH.DELETE.OBJECT',
    ]);
    const tally = tallyAccessLog(lines.join('\n'), { bucket: 'tvm-files', vendingRoleName: 'tvm-vending' });
    expect(tally.days[0]?.counts.delete).toBe(1);
  });

  it('names a refused request it never understood by its method, with its error code and no requester', () => {
    const [line] = accessLogLines({
      ...base,
      requester: undefined,
      operation: undefined,
      status: 403,
      errorCode: 'SignatureDoesNotMatch',
    } as CompletedS3Request);
    expect(parseAccessLogLine(line ?? '')).toMatchObject({
      operation: 'REST.GET.OBJECT',
      httpStatus: 403,
      errorCode: 'SignatureDoesNotMatch',
    });
  });

  it("names log objects as S3 does: prefix, the roll's UTC second, 16 hex digits", () => {
    expect(logObjectKey('file-bucket/', Date.UTC(2026, 11, 8, 1, 2, 3))).toMatch(
      /^file-bucket\/2026-12-08-01-02-03-[0-9A-F]{16}$/,
    );
  });

  it('rolls only requests of the logged bucket into a log object, and keeps the lines when storing fails', async () => {
    const stored: { key: string; body: string }[] = [];
    let fail = true;
    const writer = startAccessLogWriter({
      bucket: 'tvm-files',
      prefix: 'file-bucket/',
      rollMs: 60_000,
      store: async (key, body) => {
        if (fail) throw new Error('emulator down');
        stored.push({ key, body: body.toString() });
      },
    });
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    writer.record(base);
    writer.record({ ...base, bucket: 'another' });
    await expect(writer.roll()).resolves.toBeUndefined();
    fail = false;
    writer.record({ ...base, requestId: 'SECOND' });
    await writer.stop();
    spy.mockRestore();
    expect(stored).toHaveLength(1);
    const ids = stored[0]?.body
      .trim()
      .split('\n')
      .map((line) => parseAccessLogLine(line).requestId);
    expect(ids).toEqual(['0123456789ABCDEF', 'SECOND']);
  });
});

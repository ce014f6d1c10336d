import fc from 'fast-check';
import {
  MalformedAccessLogLine,
  decodeLogKey,
  encodeLogKey,
  formatAccessLogRecord,
  formatAccessLogTime,
  parseAccessLogLine,
  parseAccessLogTime,
  type AccessLogRecord,
} from '../../lambda/usage/access-log';

// Lines in the documented format (fields in S3's order), values of our own. The first has every
// field of today's format plus one S3 added later (it must be ignored); the second is an older
// line that ends at the version id; the third an anonymous refused request.
const CURRENT =
  '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be tvm-files [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ' +
  'arn:aws:sts::123456789012:assumed-role/tvm-vending/alice 3E57427F3EXAMPLE REST.GET.OBJECT alice/photos/2019/a%20b.jpg ' +
  '"GET /tvm-files/alice/photos/2019/a%20b.jpg HTTP/1.1" 200 - 2662992 3462992 70 10 "-" "aws-sdk-js/3.0 \\"quoted\\"" - ' +
  's9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 ' +
  'AuthHeader tvm-files.s3.us-west-1.amazonaws.com TLSV1.2 - - us-east-1';
const OLDER =
  '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be tvm-files [06/Feb/2019:00:01:57 +0000] 192.0.2.3 ' +
  'arn:aws:sts::123456789012:assumed-role/tvm-vending/bob DD6CC733AEXAMPLE REST.PUT.OBJECT bob/notes.txt ' +
  '"PUT /tvm-files/bob/notes.txt HTTP/1.1" 200 - - 1024 45 44 "-" "S3Console/0.4" -';
const ANONYMOUS =
  '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be tvm-files [31/Dec/2026:23:59:59 +0000] 198.51.100.7 ' +
  '- 1206F460AEXAMPLE REST.GET.BUCKET - "GET /tvm-files?list-type=2 HTTP/1.1" 403 AccessDenied 243 - 5 - "-" "curl/8.5.0" -';

describe('S3 server access log lines', () => {
  it('reads every field of a current line and ignores fields S3 added after the ones it names', () => {
    const record = parseAccessLogLine(CURRENT);
    expect(record).toMatchObject({
      bucket: 'tvm-files',
      time: Date.UTC(2019, 1, 6, 0, 0, 38),
      remoteIp: '192.0.2.3',
      requester: 'arn:aws:sts::123456789012:assumed-role/tvm-vending/alice',
      operation: 'REST.GET.OBJECT',
      key: 'alice/photos/2019/a b.jpg',
      requestUri: 'GET /tvm-files/alice/photos/2019/a%20b.jpg HTTP/1.1',
      httpStatus: 200,
      bytesSent: 2662992,
      objectSize: 3462992,
      userAgent: 'aws-sdk-js/3.0 "quoted"',
      signatureVersion: 'SigV4',
      authType: 'AuthHeader',
    });
    expect(record.errorCode).toBeUndefined();
    expect(record.referer).toBeUndefined();
    expect(record.versionId).toBeUndefined();
  });

  it('reads an older line that ends at the version id, and "-" bytes as 0', () => {
    const record = parseAccessLogLine(OLDER);
    expect(record).toMatchObject({
      operation: 'REST.PUT.OBJECT',
      key: 'bob/notes.txt',
      bytesSent: 0,
      objectSize: 1024,
    });
    expect(record.hostId).toBeUndefined();
  });

  it('reads an anonymous refused request: no requester, no key, its error code', () => {
    const record = parseAccessLogLine(ANONYMOUS);
    expect(record.requester).toBeUndefined();
    expect(record.key).toBeUndefined();
    expect(record).toMatchObject({ httpStatus: 403, errorCode: 'AccessDenied', bytesSent: 243 });
  });

  it.each([
    ['too few fields', CURRENT.split(' ').slice(0, 10).join(' ')],
    ['an unterminated quote', CURRENT.slice(0, CURRENT.indexOf('"GET') + 10)],
    ['a bad month', CURRENT.replace('Feb', 'Fbr')],
    ['the 31st of February', CURRENT.replace('06/Feb', '31/Feb')],
    ['a non-numeric status', CURRENT.replace(' 200 ', ' OK ')],
    ['two spaces between fields', CURRENT.replace(' 200 ', '  200 ')],
    ['a broken escape in the key', CURRENT.replace('a%20b', 'a%2')],
    ['an unquoted user agent', OLDER.replace('"S3Console/0.4"', 'S3Console/0.4')],
    ['an empty line', ''],
  ])('refuses %s', (_, line) => {
    expect(() => parseAccessLogLine(line)).toThrow(MalformedAccessLogLine);
  });

  it('reads a time with an offset as the same instant in UTC', () => {
    expect(parseAccessLogTime('06/Feb/2019:02:00:38 +0200')).toBe(Date.UTC(2019, 1, 6, 0, 0, 38));
    expect(formatAccessLogTime(Date.UTC(2019, 1, 6, 0, 0, 38))).toBe('06/Feb/2019:00:00:38 +0000');
  });

  it('encodes a key so it holds no space, quote or bracket, and decodes it back', () => {
    expect(encodeLogKey('alice/a b+c"[d].txt')).toBe('alice/a%20b%2Bc%22%5Bd%5D.txt');
    expect(decodeLogKey('alice/a%20b%2Bc+d')).toBe('alice/a b+c+d');
  });

  // Any record the sandbox's gate can write reads back as itself.
  const bare = fc.stringMatching(/^[A-Za-z0-9:/=+._-]{1,40}$/).filter((value) => value !== '-');
  const text = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
    // eslint-disable-next-line no-control-regex -- control characters are what the writer replaces.
    .filter((value) => value !== '-' && !/[\u0000-\u001f\u007f]/.test(value));
  const record: fc.Arbitrary<AccessLogRecord> = fc.record(
    {
      bucketOwner: bare,
      bucket: bare,
      time: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }).map((ms) => ms - (ms % 1000)),
      remoteIp: bare,
      requester: bare,
      requestId: bare,
      operation: bare,
      key: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
      requestUri: text,
      httpStatus: fc.integer({ min: 100, max: 599 }),
      errorCode: bare,
      bytesSent: fc.integer({ min: 1, max: 2 ** 40 }),
      objectSize: fc.integer({ min: 0, max: 2 ** 40 }),
      totalTimeMs: fc.nat(100_000),
      turnAroundTimeMs: fc.nat(100_000),
      referer: text,
      userAgent: text,
      versionId: bare,
      hostId: bare,
      signatureVersion: bare,
      cipherSuite: bare,
      authType: bare,
      hostHeader: bare,
      tlsVersion: bare,
      accessPointArn: bare,
      aclRequired: bare,
    },
    { requiredKeys: ['time', 'operation', 'bytesSent'] },
  );

  it('reads back every record it writes, with any key and any quoted text (property)', () => {
    fc.assert(
      fc.property(record, (written) => {
        expect(parseAccessLogLine(formatAccessLogRecord(written))).toEqual(written);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but MalformedAccessLogLine on any line (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          record.map((written) => formatAccessLogRecord(written)),
          fc
            .tuple(fc.constantFrom(CURRENT, OLDER, ANONYMOUS), fc.nat(400), fc.string({ maxLength: 5 }))
            .map(([line, at, insert]) => line.slice(0, at % line.length) + insert + line.slice(at % line.length)),
        ),
        (line) => {
          let thrown: unknown;
          try {
            parseAccessLogLine(line);
          } catch (error) {
            thrown = error;
          }
          expect(thrown === undefined || thrown instanceof MalformedAccessLogLine).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

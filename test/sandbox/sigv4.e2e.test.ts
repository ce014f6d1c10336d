/**
 * The sandbox's SigV4 verifier against AWS's own published examples ("Signature
 * Calculations for the Authorization Header", "Query string", and "Signature Calculations
 * for Transferring Payload in Multiple Chunks" in the S3 API reference). Matching them
 * proves the gate computes what AWS computes, independently of the SDK that signs.
 */
import { decodeAwsChunked } from '../../local/s3/aws-chunked';
import { AwsAuthError, signingKey, verifySignature, type WireRequest } from '../../local/shared/sigv4';
import { readSignatureClaim } from '../../local/shared/sigv4-claim';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function wire(method: string, rawPath: string, rawQuery: string, headers: Record<string, string>): WireRequest {
  return {
    method,
    rawPath,
    rawQuery,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
  };
}

function queryOf(rawQuery: string): [string, string][] {
  return rawQuery === ''
    ? []
    : rawQuery.split('&').map((pair) => pair.split('=').map(decodeURIComponent) as [string, string]);
}

const getObjectExample = wire('GET', '/test.txt', '', {
  host: 'examplebucket.s3.amazonaws.com',
  range: 'bytes=0-9',
  'x-amz-content-sha256': EMPTY,
  'x-amz-date': '20130524T000000Z',
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
});

test("accepts AWS's example GET Object signature (Authorization header)", () => {
  const claim = readSignatureClaim(getObjectExample, []);
  expect(claim).toBeDefined();
  expect(() => verifySignature(getObjectExample, [], claim!, EMPTY, SECRET)).not.toThrow();
});

test('refuses the same request with one header changed after signing', () => {
  const changed = { ...getObjectExample, headers: { ...getObjectExample.headers, range: ['bytes=0-99'] } };
  const claim = readSignatureClaim(changed, [])!;
  expect(() => verifySignature(changed, [], claim, EMPTY, SECRET)).toThrow(
    expect.objectContaining({ code: 'SignatureDoesNotMatch' }) as AwsAuthError,
  );
});

test("accepts AWS's example presigned URL and refuses it with another key", () => {
  const rawQuery =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const presigned = wire('GET', '/test.txt', rawQuery, { host: 'examplebucket.s3.amazonaws.com' });
  const claim = readSignatureClaim(presigned, queryOf(rawQuery))!;
  expect(claim.kind).toBe('query');
  expect(() => verifySignature(presigned, queryOf(rawQuery), claim, 'UNSIGNED-PAYLOAD', SECRET)).not.toThrow();
  const otherKey = { ...presigned, rawPath: '/other.txt' };
  expect(() => verifySignature(otherKey, queryOf(rawQuery), claim, 'UNSIGNED-PAYLOAD', SECRET)).toThrow(AwsAuthError);
});

describe("AWS's example aws-chunked upload (66560 bytes in 64 KiB chunks)", () => {
  const key = signingKey(SECRET, '20130524', 'us-east-1', 's3');
  const signing = {
    key,
    amzDate: '20130524T000000Z',
    scope: '20130524/us-east-1/s3/aws4_request',
    seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  };
  const chunk = (data: Buffer, signature: string) =>
    Buffer.concat([
      Buffer.from(`${data.length.toString(16)};chunk-signature=${signature}\r\n`),
      data,
      Buffer.from('\r\n'),
    ]);
  const body = (lastSignature: string) =>
    Buffer.concat([
      chunk(Buffer.alloc(65536, 'a'), 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'),
      chunk(Buffer.alloc(1024, 'a'), '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'),
      chunk(Buffer.alloc(0), lastSignature),
    ]);

  test('decodes it with every chunk signature verified', () => {
    const decoded = decodeAwsChunked(
      body('b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'),
      signing,
      false,
    );
    expect(decoded.payload).toEqual(Buffer.alloc(66560, 'a'));
  });

  test('refuses it when a chunk signature is wrong', () => {
    expect(() => decodeAwsChunked(body('0'.repeat(64)), signing, false)).toThrow(
      expect.objectContaining({ code: 'SignatureDoesNotMatch' }) as AwsAuthError,
    );
  });
});

/**
 * A differential test of what an accepted shared path means to the components that parse it
 * again: the AWS SDK for JavaScript (the client package and the web app use it) writes the key
 * into a request URL with its own encoding, and the sandbox's S3 gate (local/s3/request.ts,
 * operations.ts) reads the URL back and builds the resource ARN and `s3:prefix` that IAM
 * judges. For every accepted path, the key, the ListBucket prefix and the ARN the gate reads
 * from the SDK's URL must be exactly the ones the share's policy names, or the gate must refuse
 * the request outright for one of its documented sandbox-only reasons; never another key.
 *
 * The URLs are the SDK's presigned URLs: the same serialiser and query builder as a sent
 * request, with no network. The path is cut from the URL text, never re-parsed by `new URL`
 * (whose normalisation is a third reading).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import type { Username } from '../../lambda/accounts/username';
import { bucketArn } from '../../lambda/credentials/policy';
import { parseSharePath, sharePathKind } from '../../lambda/sharing/share-path';
import { renderSharePolicy, sharedPrefix } from '../../lambda/sharing/share-policy';
import { SANDBOX_BUCKET, SANDBOX_REGION } from '../../local/names';
import { describeS3Operation } from '../../local/s3/operations';
import { parseS3Request } from '../../local/s3/request';
import { AwsAuthError } from '../../local/shared/sigv4';
import { acceptedPath, pathSegment, sandboxOnlyRefusal } from './share-arbitraries';

const ORIGIN = 'http://127.0.0.1:9000';
const client = new S3Client({
  region: SANDBOX_REGION,
  endpoint: ORIGIN,
  forcePathStyle: true,
  credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
});
afterAll(() => client.destroy());

/** What the gate reads from the SDK's URL for `command`: the parsed request, or its refusal. */
async function gateReading(
  command: GetObjectCommand | PutObjectCommand | ListObjectsV2Command,
): Promise<ReturnType<typeof parseS3Request> | AwsAuthError> {
  // The presigner's generic parameters cannot take a union of commands; each is presigned as it is.
  const url = await getSignedUrl(client, command as GetObjectCommand, { expiresIn: 300 });
  expect(url.startsWith(`${ORIGIN}/`)).toBe(true);
  const target = url.slice(ORIGIN.length);
  try {
    return parseS3Request(command instanceof PutObjectCommand ? 'PUT' : 'GET', target, {
      host: ['127.0.0.1:9000'],
    });
  } catch (error) {
    if (error instanceof AwsAuthError) return error;
    throw error;
  }
}

const owners = fc.constantFrom('al', 'alice', 'a-b', 'a.b', 'o'.repeat(64)).map((name) => name as Username);

describe('an accepted shared path names the same key to the AWS SDK and to the sandbox S3 gate', () => {
  it('GetObject and PutObject of the shared file (or a file in the shared folder): the gate reads exactly that key and judges exactly that ARN (property)', async () => {
    await fc.assert(
      fc.asyncProperty(owners, acceptedPath, pathSegment, fc.boolean(), async (owner, raw, name, put) => {
        const shared = parseSharePath(raw);
        const key =
          sharePathKind(shared) === 'file' ? sharedPrefix(owner, shared) : `${sharedPrefix(owner, shared)}${name}`;
        const command = put
          ? new PutObjectCommand({ Bucket: SANDBOX_BUCKET, Key: key })
          : new GetObjectCommand({ Bucket: SANDBOX_BUCKET, Key: key });
        const reading = await gateReading(command);
        // A refusal, never another key; and only for what the sandbox documents it cannot store.
        const read = reading instanceof AwsAuthError ? 'refused' : reading.key;
        expect(read).toBe(sandboxOnlyRefusal(key) ? 'refused' : key);
        expect(['none', 'InvalidArgument', 'KeyTooLongError']).toContain(
          reading instanceof AwsAuthError ? reading.code : 'none',
        );
        if (reading instanceof AwsAuthError) return;
        expect(reading.bucket).toBe(SANDBOX_BUCKET);
        expect(reading.key).toBe(key);
        const operation = describeS3Operation({
          method: reading.method,
          bucket: reading.bucket as string,
          key: reading.key as string,
          query: reading.query,
          header: (header) => reading.headers.get(header),
        });
        expect(operation.checks.map((check) => [check.action, check.resource])).toEqual([
          [put ? 's3:PutObject' : 's3:GetObject', `${bucketArn(SANDBOX_BUCKET)}/${key}`],
        ]);
        // The policy's own resource names that ARN (a file) or a pattern whose literal part starts it (a folder).
        const resource = renderSharePolicy({
          bucketArn: bucketArn(SANDBOX_BUCKET),
          owner,
          path: shared,
          access: 'read',
        }).Statement[0]?.Resource as string;
        expect(
          sharePathKind(shared) === 'file'
            ? resource === operation.checks[0]?.resource
            : resource.endsWith('*') && operation.checks[0]?.resource.startsWith(resource.slice(0, -1)),
        ).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('ListObjectsV2 with the shared folder as Prefix: the gate reads exactly that s3:prefix (property)', async () => {
    await fc.assert(
      fc.asyncProperty(owners, acceptedPath, async (owner, raw) => {
        const shared = parseSharePath(raw);
        fc.pre(sharePathKind(shared) !== 'file');
        const prefix = sharedPrefix(owner, shared);
        const reading = await gateReading(
          new ListObjectsV2Command({ Bucket: SANDBOX_BUCKET, Prefix: prefix, Delimiter: '/' }),
        );
        if (reading instanceof AwsAuthError) throw new Error(`the gate refused a listing of ${JSON.stringify(prefix)}`);
        expect(reading.key).toBeUndefined();
        expect(reading.query.get('prefix')).toBe(prefix);
        const operation = describeS3Operation({
          method: reading.method,
          bucket: reading.bucket as string,
          query: reading.query,
          header: (header) => reading.headers.get(header),
        });
        expect(operation.checks).toEqual([
          expect.objectContaining({
            action: 's3:ListBucket',
            resource: bucketArn(SANDBOX_BUCKET),
            context: expect.objectContaining({ 's3:prefix': prefix }),
          }),
        ]);
        // The listing prefix is one the policy allows, literally (StringLike's first value is the prefix itself).
        const list = renderSharePolicy({ bucketArn: bucketArn(SANDBOX_BUCKET), owner, path: shared, access: 'read' })
          .Statement[1];
        expect(list?.Condition?.StringLike?.['s3:prefix']).toEqual([prefix, `${prefix}*`]);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['a space and a plus', 'a b+c/d.jpg'],
    ['a percent-encoded slash spelt literally', 'a%2Fb/c'],
    ['URL query syntax', 'x&list-type=2/y=1;z'],
    ['an accented name, decomposed', 'cafe\u0301/menu.pdf'],
    ['a CJK name', '写真/夏.jpg'],
    ['an emoji', '😀/🎉.png'],
    ['dots that are not segments', '.a/a./...'],
  ])('%s (%j) reaches the gate as the same key', async (_what, raw) => {
    const key = sharedPrefix('alice' as Username, parseSharePath(raw));
    const reading = await gateReading(new GetObjectCommand({ Bucket: SANDBOX_BUCKET, Key: key }));
    expect(reading).not.toBeInstanceOf(AwsAuthError);
    expect((reading as ReturnType<typeof parseS3Request>).key).toBe(key);
  });

  it('a "#" in a shared path is refused by the sandbox gate (InvalidArgument), never read as a shorter key', async () => {
    const reading = await gateReading(
      new GetObjectCommand({ Bucket: SANDBOX_BUCKET, Key: sharedPrefix('alice' as Username, parseSharePath('a#b/c')) }),
    );
    expect(reading).toBeInstanceOf(AwsAuthError);
    expect((reading as AwsAuthError).code).toBe('InvalidArgument');
  });
});

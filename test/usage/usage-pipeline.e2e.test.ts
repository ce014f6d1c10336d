/**
 * The sandbox's usage path end to end: every successful mutation through the S3 gate sends
 * S3's notification JSON (keys encoded as S3 encodes them, decoded back to themselves by the
 * meter's parser; a sequencer growing per key; sizes of copies and multipart completions read
 * back), a lifecycle expiration sends LifecycleExpiration:Delete; the gate's S3 server access
 * log lines are rolled into the log bucket, whose notification runs the access-log processor
 * function (the stack's handler, on the function threads), and `tvm-admin usage report`
 * shows each user's requests. The functions' key reads the log objects and nothing else; a
 * user's credentials never reach the log bucket.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { readSandboxSecrets } from '../../local/secrets';
import { SANDBOX_LOG_BUCKET } from '../../local/names';
import { ACCESS_LOG_PREFIX } from '../../lambda/usage/access-log';
import { parseNotification, type S3ObjectEvent } from '../../lambda/usage/s3-events';
import { compareSequencers } from '../../lambda/usage/sequencer';
import type { UsageReport } from '../../lambda/usage/usage-report';
import { localTarget } from '../../admin/target';
import { accountStores } from '../../lambda/adapters/account-deletion-wiring';
import { DynamoUsageTotals } from '../../lambda/adapters/dynamo/usage-totals';
import { parseUsername } from '../../lambda/accounts/username';
import type { TvmConfig } from '../../lambda/platform/config';
import { MemoryLog, testConfig } from '../support/in-memory';
import { register, runAdmin, s3ClientFor, s3ErrorCode, sandboxForThisFile } from '../support/e2e';

const notifications: { bucket: string; body: string }[] = [];
const sandbox = sandboxForThisFile('tvm-usage-pipeline-', {
  // Rolled by the test, so it knows when a log object exists.
  accessLogRollMs: 3_600_000,
  onS3Notification: (bucket, body) => notifications.push({ bucket, body }),
});
const PASSWORD = 'correct horse battery staple 26';
const quietLog = new MemoryLog();

function fileEvents(): S3ObjectEvent[] {
  return notifications
    .filter((entry) => entry.bucket === sandbox().bucket)
    .flatMap((entry) => parseNotification(entry.body).events);
}

function keyClient(accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    region: sandbox().region,
    endpoint: sandbox().s3Url,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey },
  });
}

describe('usage events and access logs in the sandbox', () => {
  it("sends S3's notification for every mutation, counts the access log per user, and reports it", async () => {
    const alice = await register(sandbox().apiUrl, 'alice', PASSWORD);
    const bob = await register(sandbox().apiUrl, 'bob', PASSWORD);
    const s3 = s3ClientFor(alice);
    const Bucket = sandbox().bucket;
    const odd = 'alice/a b+c %2B é/ü.txt';
    await s3.send(new PutObjectCommand({ Bucket, Key: 'alice/a.txt', Body: 'hello world' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: odd, Body: '12345' }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'alice/copy.txt', CopySource: `${Bucket}/alice/a.txt` }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'alice/multi.bin' }));
    const part = await s3.send(
      new UploadPartCommand({
        Bucket,
        Key: 'alice/multi.bin',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'x'.repeat(100),
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'alice/multi.bin',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'alice/tmp/old.txt', Body: 'old' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'alice/a.txt' }));
    await got.Body?.transformToString();
    await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'alice/' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'alice/copy.txt' }));
    await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: odd }, { Key: 'alice/never-there' }] } }),
    );
    // Refused: no event, but a log line (a put, by alice, 403).
    expect(await s3ErrorCode(s3.send(new PutObjectCommand({ Bucket, Key: 'bob/x', Body: 'no' })))).toBe('AccessDenied');
    await s3ClientFor(bob).send(new PutObjectCommand({ Bucket, Key: 'bob/b.txt', Body: 'bob' }));

    await sandbox().usage.settled();
    const events = fileEvents();
    expect(events.map((event) => [event.eventName, event.key, event.size])).toEqual([
      ['ObjectCreated:Put', 'alice/a.txt', 11],
      ['ObjectCreated:Put', odd, 5],
      ['ObjectCreated:Copy', 'alice/copy.txt', 11],
      ['ObjectCreated:CompleteMultipartUpload', 'alice/multi.bin', 100],
      ['ObjectCreated:Put', 'alice/tmp/old.txt', 3],
      ['ObjectRemoved:Delete', 'alice/copy.txt', 0],
      ['ObjectRemoved:Delete', odd, 0],
      ['ObjectRemoved:Delete', 'alice/never-there', 0],
      ['ObjectCreated:Put', 'bob/b.txt', 3],
    ]);
    // S3's encoding on the wire: a space is +, a plus %2B.
    const raw = JSON.parse(
      notifications.find((entry) => entry.body.includes('ObjectCreated:Put') && entry.body.includes('%2B'))?.body ??
        '{}',
    );
    expect(raw.Records[0]).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: sandbox().region,
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: Bucket, arn: `arn:aws:s3:::${Bucket}` },
        object: { key: 'alice/a+b%2Bc+%252B+%C3%A9/%C3%BC.txt', size: 5 },
      },
    });
    // Sequencers grow with every event (so per key).
    for (let index = 1; index < events.length; index++)
      expect(compareSequencers(events[index]!.sequencer, events[index - 1]!.sequencer)).toBeGreaterThan(0);

    // A lifecycle expiration of alice/tmp/: S3 itself deletes, and says so.
    expect(await sandbox().usage.expire({ prefix: 'alice/tmp/', olderThanMs: 0 })).toEqual(['alice/tmp/old.txt']);
    await sandbox().usage.settled();
    expect(fileEvents().at(-1)).toMatchObject({
      eventName: 'LifecycleExpiration:Delete',
      key: 'alice/tmp/old.txt',
      kind: 'removed',
    });
    expect(await s3ErrorCode(s3.send(new GetObjectCommand({ Bucket, Key: 'alice/tmp/old.txt' })))).toBe('NoSuchKey');

    // The access log: rolled into the log bucket, counted by the processor function.
    const logKey = await sandbox().usage.rollAccessLog();
    expect(logKey).toMatch(new RegExp(`^${ACCESS_LOG_PREFIX}\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-[0-9A-F]{16}$`));
    await sandbox().usage.settled();
    expect(notifications.filter((entry) => entry.bucket === SANDBOX_LOG_BUCKET)).toHaveLength(1);

    const run = await runAdmin(['--local', '--json', 'usage', 'report', '--since', '1d']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out) as UsageReport;
    const row = (name: string) => report.rows.find((entry) => entry.username === name)?.requests;
    // Puts: 2 PUTs, the copy, create + part + complete, tmp, the refused one; gets: the read
    // and the NoSuchKey after the expiry.
    expect(row('alice')).toMatchObject({
      get: 2,
      put: 8,
      list: 1,
      delete: 2,
      bytesDownloaded: 11,
      bytesUploaded: 11 + 5 + 100 + 3,
    });
    expect(row('bob')).toMatchObject({ put: 1, get: 0, bytesUploaded: 3 });
    // The meter (the stack's function, fed by the sandbox's queue) counted the same history:
    // a.txt and multi.bin remain; the copy and the odd key were deleted, tmp/ expired.
    expect(report.rows.find((entry) => entry.username === 'alice')).toMatchObject({ bytes: 111, objects: 2 });
    expect(report.rows.find((entry) => entry.username === 'bob')).toMatchObject({ bytes: 3, objects: 1 });
  }, 60_000);

  it("measures the meter's lag: from S3's answer to the totals counting the write", async () => {
    const dave = await register(sandbox().apiUrl, 'dave', PASSWORD);
    const s3 = s3ClientFor(dave);
    const target = localTarget();
    const user = await accountStores(
      target.dynamo,
      target.tableName,
      quietLog,
      testConfig() as TvmConfig,
    ).users.getUser(parseUsername('dave'));
    const totals = new DynamoUsageTotals(target.dynamo, target.tableName);
    const lags: number[] = [];
    try {
      for (let index = 1; index <= 10; index++) {
        await s3.send(
          new PutObjectCommand({ Bucket: sandbox().bucket, Key: `dave/f${index}`, Body: 'x'.repeat(1000) }),
        );
        const answered = performance.now();
        while ((await totals.usageTotals(parseUsername('dave'), user?.userId ?? '')).bytes < index * 1000) {
          expect(performance.now() - answered).toBeLessThan(10_000);
          await new Promise((wait) => setTimeout(wait, 5));
        }
        lags.push(performance.now() - answered);
      }
    } finally {
      target.close();
    }
    lags.sort((a, b) => a - b);
    console.log(
      `meter lag over ${lags.length} PUTs: median ${Math.round(lags[5]!)} ms, max ${Math.round(lags.at(-1)!)} ms`,
    );
    expect(lags.at(-1)).toBeLessThan(10_000);
  }, 60_000);

  it("lets the functions' key read log objects and nothing else, and keeps users out of the log bucket", async () => {
    const secrets = readSandboxSecrets(process.env.TVM_DATA_DIR ?? '');
    const functions = keyClient(secrets.functionKey.accessKeyId, secrets.functionKey.secretAccessKey);
    const operator = keyClient(secrets.operatorKey.accessKeyId, secrets.operatorKey.secretAccessKey);
    const carol = await register(sandbox().apiUrl, 'carol', PASSWORD);
    const s3 = s3ClientFor(carol);
    await s3.send(new PutObjectCommand({ Bucket: sandbox().bucket, Key: 'carol/x', Body: 'x' }));
    const key = await sandbox().usage.rollAccessLog();
    const logObject = await functions.send(new GetObjectCommand({ Bucket: SANDBOX_LOG_BUCKET, Key: key }));
    expect(await logObject.Body?.transformToString()).toContain('REST.PUT.OBJECT carol/x');
    expect(await s3ErrorCode(functions.send(new GetObjectCommand({ Bucket: sandbox().bucket, Key: 'carol/x' })))).toBe(
      'AccessDenied',
    );
    expect(
      await s3ErrorCode(
        functions.send(
          new PutObjectCommand({ Bucket: SANDBOX_LOG_BUCKET, Key: `${ACCESS_LOG_PREFIX}forged`, Body: 'x' }),
        ),
      ),
    ).toBe('AccessDenied');
    expect(await s3ErrorCode(s3.send(new GetObjectCommand({ Bucket: SANDBOX_LOG_BUCKET, Key: key })))).toBe(
      'AccessDenied',
    );
    expect(await s3ErrorCode(s3.send(new ListObjectsV2Command({ Bucket: SANDBOX_LOG_BUCKET })))).toBe('AccessDenied');
    // The bucket owner reads its logs too.
    expect(await s3ErrorCode(operator.send(new GetObjectCommand({ Bucket: SANDBOX_LOG_BUCKET, Key: key })))).toBe(
      'resolved',
    );
  }, 60_000);
});

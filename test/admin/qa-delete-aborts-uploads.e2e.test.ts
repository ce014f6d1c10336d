/**
 * QA: `users delete --delete-files` promises that the user's data is gone. An unfinished
 * multipart upload holds the user's bytes too; on AWS the purge aborts it
 * (ListMultipartUploads), and the sandbox must do the same rather than skip it silently.
 */
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register, runAdmin, s3ClientFor, sandboxForThisFile } from './helpers';

const sandbox = sandboxForThisFile('tvm-qa-delete-uploads-');

function uploadsFor(prefix: string): string[] {
  const folder = join(process.env.TVM_DATA_DIR ?? '', 's3', 'tvm-files', '._S3rver_uploads');
  if (!existsSync(folder)) return [];
  return readdirSync(folder).filter((id) => readFileSync(join(folder, id, 'key'), 'utf8').startsWith(prefix));
}

test("users delete --delete-files leaves none of the user's unfinished multipart uploads", async () => {
  const vended = await register(sandbox().apiUrl, 'qa-uploader', 'correct horse battery');
  const s3 = s3ClientFor(vended);
  try {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: vended.storage.bucket, Key: 'qa-uploader/big.bin' }));
    await s3.send(new UploadPartCommand({ Bucket: vended.storage.bucket, Key: 'qa-uploader/big.bin', UploadId, PartNumber: 1, Body: 'private bytes' }));
  } finally {
    s3.destroy();
  }
  expect(uploadsFor('qa-uploader/')).toHaveLength(1);
  const deleted = await runAdmin(['users', 'delete', 'qa-uploader', '--delete-files', '--yes'], { cutOffMarginMs: 1000 });
  expect(deleted.errors.filter((line) => line.startsWith('tvm-admin:'))).toEqual([]);
  expect(deleted.code).toBe(0);
  expect(uploadsFor('qa-uploader/')).toEqual([]);
}, 60_000);

test('a user aborts their own unfinished upload: its parts are gone and the upload id is dead', async () => {
  const vended = await register(sandbox().apiUrl, 'qa-aborter', 'correct horse battery');
  const s3 = s3ClientFor(vended);
  try {
    const Bucket = vended.storage.bucket;
    const Key = 'qa-aborter/big.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'private bytes' }));
    expect(uploadsFor('qa-aborter/')).toHaveLength(1);
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    expect(uploadsFor('qa-aborter/')).toEqual([]);
    await expect(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'more' }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
  } finally {
    s3.destroy();
  }
}, 60_000);

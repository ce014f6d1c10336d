/**
 * `users delete --delete-files` empties a folder of a versioned bucket for good, with S3
 * mocked by a small model of a versioned bucket (aws-sdk-client-mock): every version and
 * delete marker under `<user>/` is deleted by version id, nothing of any other folder is
 * touched, unfinished uploads are aborted, and a purge that fails half-way is finished by
 * running it again.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { folderEntries, purgeFolder } from '../../admin/folder-purge';
import { parseUsername } from '../../lambda/accounts/username';

const BUCKET = 'files';
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-west-1' });

interface Entry {
  key: string;
  versionId: string;
  marker: boolean;
}

/** A versioned bucket: versions and delete markers by key, listed in key order, at most MaxKeys per page. */
class VersionedBucket {
  entries: Entry[] = [];
  uploads: Array<{ key: string; uploadId: string }> = [];
  deleteRequests = 0;
  failDeleteAfter: number | undefined;

  constructor() {
    s3Mock.on(ListObjectVersionsCommand).callsFake((input: { Prefix?: string; MaxKeys?: number }) => {
      const listed = this.entries
        .filter((entry) => entry.key.startsWith(input.Prefix ?? ''))
        .slice(0, input.MaxKeys ?? 1000);
      return {
        Versions: listed
          .filter((entry) => !entry.marker)
          .map((entry) => ({ Key: entry.key, VersionId: entry.versionId })),
        DeleteMarkers: listed
          .filter((entry) => entry.marker)
          .map((entry) => ({ Key: entry.key, VersionId: entry.versionId })),
        IsTruncated: this.entries.filter((entry) => entry.key.startsWith(input.Prefix ?? '')).length > listed.length,
      };
    });
    s3Mock
      .on(DeleteObjectsCommand)
      .callsFake((input: { Delete: { Objects: Array<{ Key: string; VersionId?: string }> } }) => {
        this.deleteRequests += 1;
        if (this.failDeleteAfter !== undefined && this.deleteRequests > this.failDeleteAfter)
          throw new Error('connection reset');
        for (const object of input.Delete.Objects) {
          // Without a version id a versioned bucket only adds a delete marker: the purge must never do that.
          if (object.VersionId === undefined) throw new Error(`DeleteObjects without a VersionId for ${object.Key}`);
          this.entries = this.entries.filter(
            (entry) => !(entry.key === object.Key && entry.versionId === object.VersionId),
          );
        }
        return { Deleted: input.Delete.Objects };
      });
    s3Mock.on(ListMultipartUploadsCommand).callsFake((input: { Prefix?: string }) => ({
      Uploads: this.uploads
        .filter((upload) => upload.key.startsWith(input.Prefix ?? ''))
        .map((upload) => ({ Key: upload.key, UploadId: upload.uploadId })),
    }));
    s3Mock.on(AbortMultipartUploadCommand).callsFake((input: { Key: string; UploadId: string }) => {
      this.uploads = this.uploads.filter((upload) => !(upload.key === input.Key && upload.uploadId === input.UploadId));
      return {};
    });
  }

  /** `versions` versions of each key, every other key ending in a delete marker. */
  fill(folder: string, keys: number, versions: number): void {
    for (let index = 0; index < keys; index++) {
      const key = `${folder}file-${String(index).padStart(5, '0')}.txt`;
      for (let version = 0; version < versions; version++)
        this.entries.push({ key, versionId: `v${version}-${index}`, marker: false });
      if (index % 2 === 0) this.entries.push({ key, versionId: `m-${index}`, marker: true });
    }
    this.entries.sort((a, b) => a.key.localeCompare(b.key));
  }
}

beforeEach(() => s3Mock.reset());

describe('purging a folder of a versioned bucket', () => {
  const alice = parseUsername('alice');

  it('deletes every version and delete marker under alice/ by version id, and nothing under al/ or alice2/', async () => {
    const bucket = new VersionedBucket();
    bucket.fill('alice/', 1_500, 3);
    bucket.fill('al/', 10, 2);
    bucket.fill('alice2/', 10, 2);
    const before = bucket.entries.filter((entry) => entry.key.startsWith('alice/')).length;
    const progress: string[] = [];
    expect(await purgeFolder(s3, BUCKET, alice, (message) => progress.push(message))).toBe(before);
    expect(bucket.entries.filter((entry) => entry.key.startsWith('alice/'))).toEqual([]);
    expect(bucket.entries.filter((entry) => entry.key.startsWith('al/'))).toHaveLength(25);
    expect(bucket.entries.filter((entry) => entry.key.startsWith('alice2/'))).toHaveLength(25);
    expect(before).toBe(1_500 * 3 + 750);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatch(/^deleted 5250 object versions and delete markers under alice\//);
  });

  it('counts versions and markers, so a folder of only old versions still needs --delete-files', async () => {
    const bucket = new VersionedBucket();
    bucket.entries.push(
      { key: 'alice/gone.txt', versionId: 'v1', marker: false },
      { key: 'alice/gone.txt', versionId: 'm1', marker: true },
    );
    expect(await folderEntries(s3, BUCKET, alice)).toBe(2);
  });

  it('aborts unfinished multipart uploads under the folder only', async () => {
    const bucket = new VersionedBucket();
    bucket.uploads.push({ key: 'alice/big.bin', uploadId: 'u1' }, { key: 'bob/big.bin', uploadId: 'u2' });
    await purgeFolder(s3, BUCKET, alice, () => undefined);
    expect(bucket.uploads).toEqual([{ key: 'bob/big.bin', uploadId: 'u2' }]);
  });

  it('finishes on a second run after failing half-way', async () => {
    const bucket = new VersionedBucket();
    bucket.fill('alice/', 2_500, 1);
    bucket.failDeleteAfter = 1;
    await expect(purgeFolder(s3, BUCKET, alice, () => undefined)).rejects.toThrow('connection reset');
    expect(bucket.entries.length).toBeGreaterThan(0);
    bucket.failDeleteAfter = undefined;
    await purgeFolder(s3, BUCKET, alice, () => undefined);
    expect(bucket.entries).toEqual([]);
  });

  it('stops with an error when S3 refuses some deletions, instead of looping', async () => {
    new VersionedBucket().fill('alice/', 3, 1);
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'alice/file-00000.txt', Code: 'AccessDenied' }] });
    await expect(purgeFolder(s3, BUCKET, alice, () => undefined)).rejects.toThrow(
      'S3 refused to delete 1 of 5 entries, e.g. alice/file-00000.txt: AccessDenied',
    );
  });

  it("falls back to plain objects in a store without versions (the sandbox's emulator)", async () => {
    let objects = ['alice/a.txt', 'alice/b.txt'];
    const notImplemented = new S3ServiceException({ name: 'NotImplemented', $fault: 'server', $metadata: {} });
    s3Mock.on(ListObjectVersionsCommand).rejects(notImplemented);
    s3Mock.on(ListMultipartUploadsCommand).rejects(notImplemented);
    s3Mock.on(ListObjectsV2Command).callsFake(() => ({ Contents: objects.map((Key) => ({ Key })) }));
    s3Mock.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: Array<{ Key: string }> } }) => {
      objects = objects.filter((key) => !input.Delete.Objects.some((object) => object.Key === key));
      return {};
    });
    expect(await purgeFolder(s3, BUCKET, alice, () => undefined)).toBe(2);
    expect(objects).toEqual([]);
  });
});

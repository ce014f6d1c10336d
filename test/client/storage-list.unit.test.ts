import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { TvmStorage } from '@serverless-tvm/client/storage';
import { FakeTvm, json, loggedInClient, vendResult } from './fake-tvm';

const s3 = mockClient(S3Client);

afterEach(() => s3.reset());

function storageFor(): TvmStorage {
  return new TvmStorage({ client: loggedInClient(new FakeTvm(() => json(200, vendResult()))) });
}

describe('TvmStorage.list', () => {
  it('pages through a folder with continuation tokens, in the own folder only, by names relative to it', async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        IsTruncated: true,
        NextContinuationToken: 'page-2',
        CommonPrefixes: [{ Prefix: 'alice/photos/2026/' }],
        Contents: [
          { Key: 'alice/photos/', Size: 0 },
          { Key: 'alice/photos/a.jpg', Size: 1 },
        ],
      })
      .on(ListObjectsV2Command, { ContinuationToken: 'page-2' })
      .resolves({ IsTruncated: false, Contents: [{ Key: 'alice/photos/b.jpg', Size: 2 }] });
    const storage = storageFor();

    const pages = [];
    for await (const page of storage.pages({ folder: 'photos/', pageSize: 2 })) pages.push(page);

    expect(pages).toEqual([
      {
        folder: 'photos/',
        folders: ['photos/2026/'],
        files: [{ name: 'photos/a.jpg', sizeBytes: 1, lastModified: undefined }],
        nextPageToken: 'page-2',
      },
      { folder: 'photos/', folders: [], files: [{ name: 'photos/b.jpg', sizeBytes: 2, lastModified: undefined }] },
    ]);
    const inputs = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { Bucket: 'files-bucket', Prefix: 'alice/photos/', Delimiter: '/', MaxKeys: 2 },
      { Bucket: 'files-bucket', Prefix: 'alice/photos/', Delimiter: '/', MaxKeys: 2, ContinuationToken: 'page-2' },
    ]);
    storage.dispose();
  });

  it('refuses a folder name that would leave the own folder before any request', async () => {
    const storage = storageFor();
    await expect(storage.list({ folder: '../bob/' })).rejects.toThrow('cannot be stored');
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    storage.dispose();
  });
});

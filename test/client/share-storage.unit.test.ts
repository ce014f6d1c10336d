import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ShareEndedError } from '@serverless-tvm/client';
import { InvalidFileNameError, ReadOnlyShareError, ShareStorage } from '@serverless-tvm/client/storage';
import { apiError, FakeTvm, json, loggedInClient, shareCredentials } from './fake-tvm';

const s3 = mockClient(S3Client);

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-07T12:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
});

afterEach(() => {
  s3.reset();
  jest.useRealTimers();
});

function shareStorage(answer: Record<string, unknown>, tvm = new FakeTvm(() => json(200, answer))): ShareStorage {
  return new ShareStorage({ client: loggedInClient(tvm), shareId: 'share-1' });
}

describe('ShareStorage', () => {
  it('lists a folder share by names relative to the shared folder, under its prefix only', async () => {
    s3.on(ListObjectsV2Command).resolves({
      CommonPrefixes: [{ Prefix: 'alice/photos/2026/' }],
      Contents: [{ Key: 'alice/photos/a.jpg', Size: 3 }],
    });
    const storage = shareStorage(shareCredentials());

    await expect(storage.list()).resolves.toEqual({
      folder: '',
      folders: ['2026/'],
      files: [{ name: 'a.jpg', sizeBytes: 3, lastModified: undefined }],
    });
    await storage.list({ folder: '2026/' });
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix)).toEqual([
      'alice/photos/',
      'alice/photos/2026/',
    ]);
    storage.dispose();
  });

  it('downloads, uploads and deletes inside a read-write folder share', async () => {
    s3.on(GetObjectCommand).resolves({ ContentLength: 2, Body: 'hi' as never });
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    const storage = shareStorage(shareCredentials({ access: 'readwrite' }));

    await storage.download('2026/b.jpg');
    await storage.upload('new.txt', 'hello').done;
    await storage.delete('new.txt');

    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input.Key).toBe('alice/photos/2026/b.jpg');
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).toBe('alice/photos/new.txt');
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input.Key).toBe('alice/photos/new.txt');
    storage.dispose();
  });

  it('refuses writes to a read-only share before any S3 request', async () => {
    const storage = shareStorage(shareCredentials({ access: 'read' }));

    await expect(storage.upload('x.txt', 'x').done).rejects.toEqual(expect.any(ReadOnlyShareError));
    await expect(storage.delete('a.jpg')).rejects.toEqual(expect.any(ReadOnlyShareError));
    await expect(storage.createFolder('new')).rejects.toEqual(expect.any(ReadOnlyShareError));
    expect(s3.calls()).toHaveLength(0);
    storage.dispose();
  });

  it('refuses a name leaving the shared folder before any request', async () => {
    const storage = shareStorage(shareCredentials({ access: 'readwrite' }));
    await expect(storage.download('../secret.txt')).rejects.toEqual(expect.any(InvalidFileNameError));
    await expect(storage.list({ folder: '../' })).rejects.toEqual(expect.any(InvalidFileNameError));
    expect(s3.calls()).toHaveLength(0);
    storage.dispose();
  });

  it('holds exactly one name in a file share: lists it with HeadObject (no ListBucket) and refuses any other', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 5 });
    s3.on(GetObjectCommand).resolves({ ContentLength: 5, Body: 'hello' as never });
    const storage = shareStorage(shareCredentials({ prefix: 'alice/photos/a.jpg' }));

    await expect(storage.list()).resolves.toEqual({
      folder: '',
      folders: [],
      files: [{ name: 'a.jpg', sizeBytes: 5, lastModified: undefined }],
    });
    await storage.download('a.jpg');
    await expect(storage.download('a.jpg.bak')).rejects.toEqual(expect.any(InvalidFileNameError));
    await expect(storage.list({ folder: 'x/' })).rejects.toEqual(expect.any(InvalidFileNameError));

    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'files-bucket',
      Key: 'alice/photos/a.jpg',
    });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input.Key).toBe('alice/photos/a.jpg');
    storage.dispose();
  });

  it('a share revoked under a download ends in ShareEndedError: S3 refuses, and the fresh credentials are refused with 404', async () => {
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    const tvm = new FakeTvm().answer(json(200, shareCredentials()), apiError(404, 'not_found', 'Not found.'));
    const storage = shareStorage({}, tvm);

    await expect(storage.download('a.jpg')).rejects.toEqual(expect.any(ShareEndedError));
    expect(tvm.requests).toHaveLength(2);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    storage.dispose();
  });
});

/**
 * TvmStorage.upload with the S3 client mocked: what it sends to S3 when an upload is aborted,
 * when a part's connection resets, and when S3 refuses a part's credentials. (Against the
 * sandbox: test/client/client-storage.e2e.test.ts.)
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AbortedError, TvmStorage } from '@serverless-tvm/client/storage';
import { FakeTvm, json, loggedInClient, vendResult } from './fake-tvm';

const MiB = 1024 * 1024;
const s3 = mockClient(S3Client);

afterEach(() => s3.reset());

function storageFor(tvm: FakeTvm): TvmStorage {
  return new TvmStorage({
    client: loggedInClient(tvm),
    partSizeBytes: 5 * MiB,
    queueSize: 2,
    recovery: { initialDelayMs: 1, maxDelayMs: 2 },
  });
}

function delayed<T>(value: T, ms = 20): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

describe('TvmStorage.upload', () => {
  it('abort stops the parts and aborts the multipart upload at S3; done rejects with AbortedError and nothing is completed', async () => {
    const storage = storageFor(new FakeTvm(() => json(200, vendResult())));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    let aborting: Promise<void> | undefined;
    s3.on(UploadPartCommand).callsFake((input: { PartNumber?: number }) => {
      aborting ??= task.abort();
      return delayed({ ETag: `"etag-${input.PartNumber}"` });
    });

    const task = storage.upload('big.bin', new Uint8Array(15 * MiB));
    await expect(task.done).rejects.toBeInstanceOf(AbortedError);
    await aborting;

    expect(s3.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input)).toContainEqual({
      Bucket: 'files-bucket',
      Key: 'alice/big.bin',
      UploadId: 'upload-1',
    });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    storage.dispose();
  });

  it('sends a part again after its connection resets, keeps the parts already sent, and completes', async () => {
    const storage = storageFor(new FakeTvm(() => json(200, vendResult())));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-2' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    let failed = false;
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber?: number }) => {
      if (input.PartNumber === 2 && !failed) {
        failed = true;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      return delayed({ ETag: `"etag-${input.PartNumber}"` }, 1);
    });

    await storage.upload('big.bin', new Uint8Array(15 * MiB)).done;

    expect(
      s3
        .commandCalls(UploadPartCommand)
        .map((call) => call.args[0].input.PartNumber)
        .sort(),
    ).toEqual([1, 2, 2, 3]);
    expect(
      s3
        .commandCalls(CompleteMultipartUploadCommand)[0]
        ?.args[0].input.MultipartUpload?.Parts?.map((part) => part.ETag),
    ).toEqual(['"etag-1"', '"etag-2"', '"etag-3"']);
    expect(storage.connectivity.state).toBe('online');
    storage.dispose();
  });

  it('fetches fresh credentials once when S3 refuses a part with AccessDenied, then sends the part again', async () => {
    const tvm = new FakeTvm(() => json(200, vendResult()));
    const storage = storageFor(tvm);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-3' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    let refused = false;
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber?: number }) => {
      if (!refused) {
        refused = true;
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      }
      return { ETag: `"etag-${input.PartNumber}"` };
    });

    await storage.upload('big.bin', new Uint8Array(10 * MiB)).done;

    // One /token for the first credentials, one forced by the refusal.
    expect(tvm.callsTo('/token')).toHaveLength(2);
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(3);
    storage.dispose();
  });
});

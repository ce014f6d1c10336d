/**
 * Lists a user's folder for the meter's reconcile: ListObjectsV2 under `<username>/`
 * (current versions only, which is what the meter counts), page by page. Pages follow
 * `StartAfter` the last key rather than a continuation token, which every S3 emulator reads.
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { Username } from '../accounts/username';
import { userPrefix } from '../credentials/policy';
import { BackendUnavailableError } from '../platform/errors';
import type { FolderLister, ListedObject } from '../usage/ports';

/** {@link FolderLister} on the file bucket. */
export class S3FolderLister implements FolderLister {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async *list(username: Username): AsyncIterable<ListedObject> {
    const prefix = userPrefix(username);
    let startAfter: string | undefined;
    for (;;) {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: 1000 }),
        );
      } catch (error) {
        throw new BackendUnavailableError('S3', { cause: error });
      }
      const contents = page.Contents ?? [];
      for (const object of contents) {
        if (object.Key === undefined || !object.Key.startsWith(prefix)) continue;
        yield { keyInFolder: object.Key.slice(prefix.length), size: object.Size ?? 0 };
      }
      if (!page.IsTruncated || contents.length === 0) return;
      startAfter = contents[contents.length - 1]?.Key;
    }
  }
}

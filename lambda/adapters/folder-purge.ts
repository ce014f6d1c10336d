/**
 * Deleting a user's folder for good: every object version and delete marker under
 * `<username>/` (the bucket is versioned, so deleting current keys alone leaves every file
 * recoverable), and every unfinished multipart upload there.
 *
 * Each pass lists from the start and deletes what it listed, until a listing comes back
 * empty, so a purge that failed half-way is completed by running it again, and nothing
 * depends on a continuation token.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { userPrefix } from '../credentials/policy';
import type { Username } from '../accounts/username';

/** S3's limit on keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

type Progress = (message: string) => void;

/** One object version (or delete marker) to delete; `versionId` is absent in a store without versions. */
interface Deletable {
  readonly key: string;
  readonly versionId?: string;
}

/**
 * Whether the store answered that it does not implement a listing (the sandbox's S3 emulator
 * keeps no versions and no upload list); on AWS this never happens.
 */
function notImplemented(error: unknown): boolean {
  const name = (error as Error | undefined)?.name ?? '';
  return name === 'NotImplemented' || name === 'MethodNotAllowed';
}

/** The first page of versions and delete markers under the prefix, or of plain objects in a store without versions. */
async function listPage(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  prefix: string,
): Promise<{ items: Deletable[]; versioned: boolean }> {
  try {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, MaxKeys: DELETE_BATCH }),
    );
    const items = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((entry) => ({
      key: entry.Key!,
      ...(entry.VersionId !== undefined ? { versionId: entry.VersionId } : {}),
    }));
    return { items, versioned: true };
  } catch (error) {
    if (!notImplemented(error)) throw error;
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: DELETE_BATCH }));
    return { items: (page.Contents ?? []).map((object) => ({ key: object.Key! })), versioned: false };
  }
}

/** How many versions, delete markers and objects the folder holds (counting stops at 1,000). */
export async function folderEntries(s3: Pick<S3Client, 'send'>, bucket: string, username: Username): Promise<number> {
  return (await listPage(s3, bucket, userPrefix(username))).items.length;
}

/**
 * Deletes every version and delete marker under `<username>/` and aborts every unfinished
 * multipart upload there; returns how many versions and markers it deleted.
 */
export async function purgeFolder(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  username: Username,
  progress: Progress,
): Promise<number> {
  const prefix = userPrefix(username);
  let deleted = 0;
  let previousFirst = '';
  for (;;) {
    const { items, versioned } = await listPage(s3, bucket, prefix);
    if (items.length === 0) break;
    // A store that acknowledges deletes but keeps listing the same entries must not loop forever.
    const first = `${items[0]!.key}\u0000${items[0]!.versionId ?? ''}\u0000${items.length}`;
    if (first === previousFirst)
      throw new Error(`S3 still lists ${items[0]!.key} after deleting it; run the command again later.`);
    previousFirst = first;
    for (let start = 0; start < items.length; start += DELETE_BATCH) {
      const batch = items.slice(start, start + DELETE_BATCH);
      const result = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: {
            Objects: batch.map((item) => ({
              Key: item.key,
              ...(item.versionId !== undefined ? { VersionId: item.versionId } : {}),
            })),
            Quiet: true,
          },
        }),
      );
      const refused = result.Errors ?? [];
      if (refused.length > 0) {
        throw new Error(
          `S3 refused to delete ${refused.length} of ${batch.length} entries, e.g. ${refused[0]?.Key}: ${refused[0]?.Code}`,
        );
      }
      deleted += batch.length;
    }
    progress(`deleted ${deleted} ${versioned ? 'object versions and delete markers' : 'objects'} under ${prefix}...`);
  }
  const aborted = await abortUploads(s3, bucket, prefix);
  if (aborted > 0) progress(`aborted ${aborted} unfinished multipart uploads under ${prefix}`);
  return deleted;
}

/** Aborts every unfinished multipart upload under the prefix; returns how many. */
async function abortUploads(s3: Pick<S3Client, 'send'>, bucket: string, prefix: string): Promise<number> {
  let aborted = 0;
  for (;;) {
    let uploads;
    try {
      uploads =
        (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, MaxUploads: DELETE_BATCH })))
          .Uploads ?? [];
    } catch (error) {
      if (notImplemented(error)) return aborted;
      throw error;
    }
    if (uploads.length === 0) return aborted;
    for (const upload of uploads) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
      aborted += 1;
    }
  }
}

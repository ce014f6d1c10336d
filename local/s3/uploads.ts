/**
 * The emulator's records of unfinished multipart uploads (`._S3rver_uploads/<id>/key` in its
 * storage folder), as the S3 gate needs them: the key an upload belongs to, and
 * ListMultipartUploads, which the emulator itself lacks and the gate answers (tvm-admin's
 * account deletion must find a user's uploads, as on AWS). AbortMultipartUpload is the
 * emulator's process's own (emulator/operations.ts), under the upload's lock.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SANDBOX_ACCOUNT_ID } from '../names';
import { escapeXml } from '../shared/xml';

/** The bucket owner's canonical user id in the sandbox (any stable 64-hex id). */
export const OWNER_CANONICAL_ID = createHash('sha256').update(`tvm-sandbox-owner:${SANDBOX_ACCOUNT_ID}`).digest('hex');

/** One unfinished multipart upload. */
export interface PendingUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

const uploadsFolder = (s3rverDirectory: string, bucket: string) => join(s3rverDirectory, bucket, '._S3rver_uploads');

/** The key an upload was started for, as the emulator recorded it; undefined if there is no such upload. */
function s3rverUploadKeyReader(
  s3rverDirectory: string,
): (bucket: string, uploadId: string) => Promise<string | undefined> {
  return async (bucket, uploadId) => {
    try {
      return await readFile(join(uploadsFolder(s3rverDirectory, bucket), uploadId, 'key'), 'utf8');
    } catch {
      return undefined;
    }
  };
}

/** The emulator's unfinished uploads of a bucket. */
function s3rverUploadsLister(s3rverDirectory: string): (bucket: string) => Promise<PendingUpload[]> {
  return async (bucket) => {
    const folder = uploadsFolder(s3rverDirectory, bucket);
    let ids: string[];
    try {
      ids = await readdir(folder);
    } catch {
      return [];
    }
    const uploads: PendingUpload[] = [];
    for (const uploadId of ids) {
      try {
        const keyFile = join(folder, uploadId, 'key');
        uploads.push({ key: await readFile(keyFile, 'utf8'), uploadId, initiated: (await stat(keyFile)).mtime });
      } catch {
        // Completed or aborted while being read.
      }
    }
    return uploads;
  };
}

/** The S3 gate's options for the emulator's multipart uploads, read from its storage folder. */
export function s3rverUploadRecords(s3rverDirectory: string) {
  return {
    multipartUploadKey: s3rverUploadKeyReader(s3rverDirectory),
    multipartUploads: s3rverUploadsLister(s3rverDirectory),
  };
}

/** What a ListMultipartUploads request asks for. */
export interface UploadListing {
  readonly bucket: string;
  readonly prefix: string;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly maxUploads: number;
}

/** S3's ListMultipartUploadsResult: uploads by key, then upload id, after the markers. */
export function listMultipartUploadsXml(
  uploads: readonly PendingUpload[],
  listing: UploadListing,
  ownerId: string,
): string {
  const after = (upload: PendingUpload) =>
    upload.key > listing.keyMarker ||
    (upload.key === listing.keyMarker && listing.uploadIdMarker !== '' && upload.uploadId > listing.uploadIdMarker);
  const matching = uploads
    .filter((upload) => upload.key.startsWith(listing.prefix) && (listing.keyMarker === '' || after(upload)))
    .sort((a, b) => (a.key === b.key ? (a.uploadId < b.uploadId ? -1 : 1) : a.key < b.key ? -1 : 1));
  const page = matching.slice(0, listing.maxUploads);
  const truncated = matching.length > page.length;
  const last = page.at(-1);
  const owner = `<ID>${escapeXml(ownerId)}</ID>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${escapeXml(listing.bucket)}</Bucket><KeyMarker>${escapeXml(listing.keyMarker)}</KeyMarker><UploadIdMarker>${escapeXml(listing.uploadIdMarker)}</UploadIdMarker>` +
    (truncated && last
      ? `<NextKeyMarker>${escapeXml(last.key)}</NextKeyMarker><NextUploadIdMarker>${escapeXml(last.uploadId)}</NextUploadIdMarker>`
      : '') +
    `<Prefix>${escapeXml(listing.prefix)}</Prefix><MaxUploads>${listing.maxUploads}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
    page
      .map(
        (upload) =>
          `<Upload><Key>${escapeXml(upload.key)}</Key><UploadId>${escapeXml(upload.uploadId)}</UploadId><Initiator>${owner}</Initiator><Owner>${owner}</Owner>` +
          `<StorageClass>STANDARD</StorageClass><Initiated>${upload.initiated.toISOString()}</Initiated></Upload>`,
      )
      .join('') +
    '</ListMultipartUploadsResult>'
  );
}

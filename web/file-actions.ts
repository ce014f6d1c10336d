/**
 * What S3 has no single call for, built from the calls it has, inside the user's own folder:
 * rename or move a file (copy, then delete the original) and delete a folder (every object
 * under its prefix, the folder's own marker included). Names are relative to the user's folder;
 * `keyFor` refuses any that would leave it.
 */
import { CopyObjectCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { keyFor } from '@serverless-tvm/client/storage';
import { UserMistake } from './messages';
import { storage } from './session';

/** CopyObject copies at most 5 GiB in one request; a larger file would need a multipart copy. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
/** Deletes sent at once when a folder is emptied. */
const DELETE_CONCURRENCY = 4;

/** `x-amz-copy-source`: the bucket and key, each segment URL-encoded as S3 expects. */
function copySource(bucket: string, key: string): string {
  return `${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Where `typed` points, relative to the user's folder: a bare name stays in `folder`, a path with `/` is from the top. */
export function targetName(typed: string, folder: string): string {
  const trimmed = typed.trim().replace(/^\/+/, '');
  if (trimmed === '' || trimmed.endsWith('/'))
    throw new UserMistake('Enter a file name, for example "notes.txt" or "photos/notes.txt".');
  return trimmed.includes('/') ? trimmed : folder + trimmed;
}

/**
 * Renames or moves `from` to `to` (both relative): a copy, then the original's delete. If the
 * copy fails nothing changed; if the delete fails, both names exist and the error says so.
 */
export async function moveFile(from: string, to: string, sizeBytes: number): Promise<void> {
  if (sizeBytes > MAX_COPY_BYTES)
    throw new UserMistake(
      'Files larger than 5 GB cannot be renamed here yet. Download it and upload it under the new name.',
    );
  const { client, info } = await storage.s3Client();
  const source = keyFor(info.prefix, from);
  const target = keyFor(info.prefix, to);
  if (source === target) return;
  await client.send(
    new CopyObjectCommand({ Bucket: info.bucket, Key: target, CopySource: copySource(info.bucket, source) }),
  );
  await client.send(new DeleteObjectCommand({ Bucket: info.bucket, Key: source }));
}

/** Every key under `folder` (relative, ending in `/`), the folder's marker included. */
async function keysUnder(folder: string): Promise<string[]> {
  const { client, info } = await storage.s3Client();
  const prefix = keyFor(info.prefix, folder);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: info.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
    keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** How many files a folder holds, its sub-folders' included (the confirmation says it). */
export async function countFiles(folder: string): Promise<number> {
  return (await keysUnder(folder)).filter((key) => !key.endsWith('/')).length;
}

/** Deletes `folder` and everything under it; resolves with the number of objects removed. */
export async function deleteFolder(folder: string): Promise<number> {
  const { client, info } = await storage.s3Client();
  const keys = await keysUnder(folder);
  // Files first, the folder markers last (longest first): a failure half-way leaves a folder that still shows.
  keys.sort((a, b) => Number(a.endsWith('/')) - Number(b.endsWith('/')) || b.length - a.length);
  const files = keys.filter((key) => !key.endsWith('/'));
  const markers = keys.filter((key) => key.endsWith('/'));
  for (const batch of [files, markers]) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const key = batch[next++]!;
        await client.send(new DeleteObjectCommand({ Bucket: info.bucket, Key: key }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, batch.length) }, worker));
  }
  return keys.length;
}

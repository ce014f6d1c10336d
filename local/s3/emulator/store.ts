/**
 * The S3 emulator's storage, made safe for concurrent requests: a subclass of
 * @20minutes/s3rver's FilesystemStore, loaded in the emulator's own process
 * (child.ts), keeping its on-disk layout (`<key>._S3rver_object`, `.md5`,
 * `metadata.json`, `tagging.xml`, `._S3rver_uploads/<id>/`).
 *
 * What the original does wrong under concurrency, and what this does instead:
 * - It writes an object in place (truncate, then stream), then its MD5 and metadata in two
 *   more files: a reader can see half an object, or new metadata over old bytes, and two
 *   writers of one key interleave. Here every file is written under a temporary name outside
 *   the bucket and renamed into place; the renames of one write, and every read of an
 *   object's files (metadata, then an open handle), happen under one lock per key, so a
 *   reader sees one whole version. Bodies are copied outside the lock; the lock is held only
 *   for renames, stats and opens.
 * - DeleteObject removed a folder that had just become empty with a recursive rm: a PutObject
 *   into that folder at the same moment answered 200 and was gone. Here folders are removed
 *   with rmdir, which refuses a folder that is not empty, and a write whose folder vanished
 *   between its mkdir and its first rename makes the folder again and renames again.
 * - A listing walks folders while other requests change them: a file or folder that vanishes
 *   mid-walk makes the walk start over (a few times), instead of a 500.
 * - Tags survived DeleteObject and came back on the next object of that key: deleting an
 *   object (or writing a new one) removes its tags here, as in S3.
 * - Parts, Complete and Abort of one upload are serialised by a lock per upload; a part
 *   written to an aborted or completed upload is refused with NoSuchUpload.
 *
 * Locks are per key and per upload, never per bucket: one user's requests never wait for
 * another user's (lock order: upload, then key; a copy holds its source's and its
 * destination's one after the other, never both).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/* eslint-disable @typescript-eslint/no-require-imports -- s3rver is CommonJS without types */
const FilesystemStore: new (root: string) => FilesystemStoreBase = require('@20minutes/s3rver/lib/stores/filesystem');
const S3Object: new (
  bucket: string,
  key: string,
  content: unknown,
  metadata: Record<string, unknown>,
) => { metadata: Record<string, string> } = require('@20minutes/s3rver/lib/models/object');
const S3Error: new (
  code: string,
  message: string,
  detail?: Record<string, unknown>,
) => Error = require('@20minutes/s3rver/lib/models/error');
/* eslint-enable @typescript-eslint/no-require-imports */

/** The parts of s3rver's FilesystemStore this class uses or replaces. */
interface FilesystemStoreBase {
  rootDirectory: string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  listObjects(bucket: string, options: unknown): Promise<unknown>;
  listBuckets(): Promise<{ name: string }[]>;
}

/** The temporary folder's name inside the storage root: not a valid bucket name, so never reachable by a request. */
export const TEMPORARY_FOLDER = '._S3rver_tmp';

/** One object as read under the lock: its metadata and an open handle on the version read. */
export interface OpenedObject {
  readonly metadata: Record<string, string>;
  readonly size: number;
  readonly lastModified: Date;
  /** The object's S3 ETag, quoted. */
  readonly etag: string;
  /** Its tags (only when asked for), read with the same version. */
  readonly taggingXml?: string;
  readonly handle: FileHandle;
}

/** What a write puts in place besides the bytes. */
export interface ObjectRecord {
  /** Stored metadata (content-type, cache-control, x-amz-meta-*, ...), already filtered. */
  readonly metadata: Record<string, string>;
  /** The object's tags as s3rver's tagging.xml, or undefined for none. */
  readonly taggingXml?: string;
}

/** A condition a write must meet at the moment it commits (If-Match / If-None-Match on PUT). */
export type WriteCondition = (current: { etag: string } | undefined) => void;

/** A part of an unfinished upload. */
export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

/** Serialises async sections by name; re-entrant within one async flow. */
class NamedLocks {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly held = new AsyncLocalStorage<ReadonlySet<string>>();

  async run<T>(name: string, section: () => Promise<T>): Promise<T> {
    const holding = this.held.getStore();
    if (holding?.has(name)) return section();
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    try {
      return await this.held.run(new Set([...(holding ?? []), name]), section);
    } finally {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';
/** Walks a listing starts before giving up on a bucket that keeps changing under it. */
const LISTING_ATTEMPTS = 5;
/** Times a write makes its folder again after a delete removed it (each time another delete must win a race). */
const FOLDER_ATTEMPTS = 20;

/** s3rver's FilesystemStore, with atomic writes, serialised commits and no lost writes. */
export class SafeStore extends FilesystemStore {
  private readonly locks = new NamedLocks();
  private readonly temporary: string;

  constructor(rootDirectory: string) {
    super(rootDirectory);
    this.temporary = join(rootDirectory, TEMPORARY_FOLDER);
    // Leftovers of a crashed process are never part of an object.
    rmSync(this.temporary, { recursive: true, force: true });
    mkdirSync(this.temporary, { recursive: true, mode: 0o700 });
  }

  /** One key's lock: every rename of its files and every read of them. */
  private keyLocked<T>(bucket: string, key: string, section: () => Promise<T>): Promise<T> {
    return this.locks.run(`key:${bucket}/${key}`, section);
  }

  /** One upload's lock: its parts, Complete and Abort. */
  uploadLocked<T>(bucket: string, uploadId: string, section: () => Promise<T>): Promise<T> {
    return this.locks.run(`upload:${bucket}/${uploadId}`, section);
  }

  private temporaryPath(): string {
    return join(this.temporary, randomBytes(12).toString('hex'));
  }

  /** Streams `content` to a new temporary file; returns its path, size and MD5. */
  private async writeTemporary(content: Buffer | Readable): Promise<{ path: string; size: number; md5: string }> {
    const path = this.temporaryPath();
    if (Buffer.isBuffer(content)) {
      // A body the gate already holds: one write, no stream machinery.
      await writeFile(path, content, { mode: 0o600 });
      return { path, size: content.length, md5: createHash('md5').update(content).digest('hex') };
    }
    const md5 = createHash('md5');
    let size = 0;
    try {
      await pipeline(
        content,
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            md5.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        }),
        createWriteStream(path, { mode: 0o600 }),
      );
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { path, size, md5: md5.digest('hex') };
  }

  private async writeTemporaryText(text: string): Promise<string> {
    const path = this.temporaryPath();
    await writeFile(path, text, { mode: 0o600 });
    return path;
  }

  /** The buckets, without the temporary folder. */
  override async listBuckets(): Promise<{ name: string }[]> {
    return (await super.listBuckets()).filter((bucket) => bucket.name !== TEMPORARY_FOLDER);
  }

  /**
   * s3rver's listing, started over if a file or folder vanished under its walk (a delete or
   * an upload's end at the same moment); each key's metadata is read under that key's lock.
   */
  override async listObjects(bucket: string, options: unknown): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.listObjects(bucket, options);
      } catch (error) {
        if (!isMissing(error) || attempt >= LISTING_ATTEMPTS) throw error;
      }
    }
  }

  /** Metadata (with etag, last-modified, content-length) of one whole version. */
  override getMetadata(bucket: string, key: string): Promise<Record<string, string | number>> {
    return this.keyLocked(bucket, key, () => super.getMetadata(bucket, key));
  }

  /** Renames `from` into `to`'s folder, making the folder first, and again if a delete removed it in between. */
  private async renameIntoFolder(from: string, to: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(to), { recursive: true, mode: 0o755 });
        await rename(from, to);
        return;
      } catch (error) {
        if (!isMissing(error) || attempt >= FOLDER_ATTEMPTS) throw error;
      }
    }
  }

  /** Opens the current version of an object, or undefined if there is none. */
  async openObject(bucket: string, key: string, withTags = false): Promise<OpenedObject | undefined> {
    return this.keyLocked(bucket, key, async () => {
      let metadata: Record<string, string | number>;
      let taggingXml: string | undefined;
      let handle: FileHandle;
      try {
        metadata = await super.getMetadata(bucket, key);
        if (withTags)
          taggingXml =
            (await readFile(this.getResourcePath(bucket, key, 'tagging.xml'), 'utf8').catch(ignoreMissing)) ??
            undefined;
        handle = await open(this.getResourcePath(bucket, key, 'object'), 'r');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      const stored: Record<string, string> = {};
      for (const [name, value] of Object.entries(metadata))
        if (!['etag', 'last-modified', 'content-length'].includes(name)) stored[name] = String(value);
      return {
        metadata: stored,
        size: Number(metadata['content-length']),
        lastModified: new Date(String(metadata['last-modified'])),
        etag: String(metadata.etag),
        ...(taggingXml !== undefined ? { taggingXml } : {}),
        handle,
      };
    });
  }

  /**
   * s3rver's getObject (UploadPartCopy's source), from one version: `{ metadata, content,
   * range }` as its controllers expect, null if there is no such object.
   */
  async getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<unknown> {
    const opened = await this.openObject(bucket, key);
    if (!opened) return null;
    const metadata = {
      ...opened.metadata,
      etag: opened.etag,
      'last-modified': opened.lastModified.toUTCString(),
      'content-length': String(opened.size),
    };
    const object = new S3Object(bucket, key, null, metadata) as {
      metadata: Record<string, string>;
      content?: Readable;
      range?: { start: number; end: number };
    };
    const lastByte = Math.max(0, opened.size - 1);
    const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
    const range = { start: options?.start ?? 0, end: Math.min(options?.end ?? Number.POSITIVE_INFINITY, lastByte) };
    if (ranged) object.range = range;
    if (range.start < 0 || range.end < range.start) {
      await opened.handle.close();
      return object;
    }
    object.content = opened.handle.createReadStream({ start: range.start, end: range.end });
    return object;
  }

  /**
   * Puts a whole object in place: bytes, MD5, metadata and tags, committed together under the
   * bucket's lock after `condition` (if any) has accepted the current version.
   */
  async putObjectRecord(
    bucket: string,
    key: string,
    content: Buffer | Readable,
    record: ObjectRecord,
    condition?: WriteCondition,
  ): Promise<{ md5: string; size: number; lastModified: Date }> {
    const body = await this.writeTemporary(content);
    const [md5Path, metadataPath, taggingPath] = await Promise.all([
      this.writeTemporaryText(body.md5),
      this.writeTemporaryText(JSON.stringify(record.metadata, null, 2)),
      record.taggingXml === undefined ? undefined : this.writeTemporaryText(record.taggingXml),
    ]);
    let committed = false;
    try {
      const lastModified = await this.keyLocked(bucket, key, async () => {
        if (condition) {
          const current = await super.getMetadata(bucket, key).catch((error: unknown) => {
            if (isMissing(error)) return undefined;
            throw error;
          });
          condition(current ? { etag: String(current.etag) } : undefined);
        }
        const objectPath = this.getResourcePath(bucket, key, 'object');
        // Metadata first, bytes last: the object file is what makes a key exist. Once the
        // first file is in, the folder is not empty, so no delete can remove it.
        await this.renameIntoFolder(md5Path, this.getResourcePath(bucket, key, 'object.md5'));
        await Promise.all([
          rename(metadataPath, this.getResourcePath(bucket, key, 'metadata.json')),
          taggingPath
            ? rename(taggingPath, this.getResourcePath(bucket, key, 'tagging.xml'))
            : unlink(this.getResourcePath(bucket, key, 'tagging.xml')).catch(ignoreMissing),
        ]);
        await rename(body.path, objectPath);
        committed = true;
        return (await stat(objectPath)).mtime;
      });
      return { md5: body.md5, size: body.size, lastModified };
    } finally {
      if (!committed)
        await Promise.all(
          [body.path, md5Path, metadataPath, taggingPath].map((path) => (path ? rm(path, { force: true }) : undefined)),
        );
    }
  }

  /** s3rver's putObject (its POST and PUT controllers): an object without tags. */
  async putObject(object: {
    bucket: string;
    key: string;
    content: Buffer | Readable;
    metadata: Record<string, string>;
  }): Promise<{ md5: string; size: number; lastModified: Date }> {
    return this.putObjectRecord(object.bucket, object.key, object.content, {
      metadata: storedMetadata(object.metadata),
    });
  }

  /** CopyObject: the source's bytes, its metadata (or the replacement) and its tags, as one new version. */
  async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, string> | null,
  ): Promise<Record<string, string | number>> {
    const source = await this.openObject(srcBucket, srcKey, true);
    if (!source) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: srcKey });
    const taggingXml = source.taggingXml;
    const metadata = replacementMetadata
      ? storedMetadata(new S3Object(destBucket, destKey, null, replacementMetadata).metadata)
      : source.metadata;
    let written: { md5: string; size: number; lastModified: Date };
    try {
      written = await this.putObjectRecord(destBucket, destKey, source.handle.createReadStream({ autoClose: false }), {
        metadata,
        ...(taggingXml !== undefined ? { taggingXml } : {}),
      });
    } finally {
      await source.handle.close();
    }
    // What was written, not read back: a delete may already have followed it.
    return {
      ...metadata,
      etag: `"${written.md5}"`,
      'last-modified': written.lastModified.toUTCString(),
      'content-length': written.size,
    };
  }

  /** DeleteObject: the object's files and tags, then any folder left empty (never one that is not). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.keyLocked(bucket, key, async () => {
      for (const resource of ['object', 'object.md5', 'metadata.json', 'tagging.xml']) {
        await unlink(this.getResourcePath(bucket, key, resource)).catch(ignoreMissing);
      }
      const bucketPath = join(this.rootDirectory, bucket);
      const parts = key.split('/').slice(0, -1);
      while (parts.length > 0) {
        try {
          await rmdir(join(bucketPath, ...parts));
        } catch {
          // Not empty (another object, a write in progress) or already gone: stop here.
          break;
        }
        parts.pop();
      }
    });
  }

  private uploadFolder(bucket: string, uploadId: string): string {
    return join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  }

  /** The key and stored request headers of an unfinished upload, or undefined. */
  async readUpload(
    bucket: string,
    uploadId: string,
  ): Promise<{ key: string; headers: Record<string, string> } | undefined> {
    try {
      const folder = this.uploadFolder(bucket, uploadId);
      const key = await readFile(join(folder, 'key'), 'utf8');
      const headers = JSON.parse(await readFile(join(folder, 'metadata'), 'utf8')) as Record<string, string>;
      return { key, headers };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** CreateMultipartUpload: the headers first, the key last (an upload exists once its key file does). */
  async initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void> {
    const folder = this.uploadFolder(bucket, uploadId);
    await this.uploadLocked(bucket, uploadId, async () => {
      await this.renameIntoFolder(await this.writeTemporaryText(JSON.stringify(metadata)), join(folder, 'metadata'));
      await rename(await this.writeTemporaryText(key), join(folder, 'key'));
    });
  }

  /** UploadPart (and UploadPartCopy): the part under its number, replacing an earlier one whole. */
  async putPart(
    bucket: string,
    uploadId: string,
    partNumber: number | string,
    content: Buffer | Readable,
  ): Promise<{ md5: string; size: number }> {
    const body = await this.writeTemporary(content);
    try {
      return await this.uploadLocked(bucket, uploadId, async () => {
        if (!(await this.readUpload(bucket, uploadId))) throw noSuchUpload(uploadId);
        const partPath = join(this.uploadFolder(bucket, uploadId), String(partNumber));
        const md5Path = await this.writeTemporaryText(body.md5);
        try {
          await rename(md5Path, `${partPath}.md5`);
        } finally {
          await rm(md5Path, { force: true });
        }
        await rename(body.path, partPath);
        return { md5: body.md5, size: body.size };
      });
    } finally {
      await rm(body.path, { force: true });
    }
  }

  /** The parts of an upload, by number. Call under the upload's lock for a stable answer. */
  async listStoredParts(bucket: string, uploadId: string): Promise<StoredPart[]> {
    const folder = this.uploadFolder(bucket, uploadId);
    const parts: StoredPart[] = [];
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (!/^[1-9][0-9]*$/.test(name)) continue;
      try {
        const [info, md5] = await Promise.all([
          stat(join(folder, name)),
          readFile(join(folder, `${name}.md5`), 'utf8'),
        ]);
        parts.push({ partNumber: Number(name), size: info.size, etag: `"${md5}"`, lastModified: info.mtime });
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Concatenates the chosen parts into the upload's object and removes the upload. Call under the upload's lock. */
  async completeUpload(
    bucket: string,
    uploadId: string,
    key: string,
    partNumbers: readonly number[],
    record: ObjectRecord,
    condition?: WriteCondition,
  ): Promise<{ md5: string; size: number; lastModified: Date }> {
    const folder = this.uploadFolder(bucket, uploadId);
    const paths = partNumbers.map((number) => join(folder, String(number)));
    async function* concatenated(): AsyncGenerator<Buffer> {
      for (const path of paths) for await (const chunk of createReadStream(path)) yield chunk as Buffer;
    }
    const result = await this.putObjectRecord(bucket, key, Readable.from(concatenated()), record, condition);
    await rm(folder, { recursive: true, force: true });
    return result;
  }

  /** AbortMultipartUpload: removes the upload's folder. Call under the upload's lock. */
  async abortUpload(bucket: string, uploadId: string): Promise<void> {
    await rm(this.uploadFolder(bucket, uploadId), { recursive: true, force: true });
  }
}

function ignoreMissing(error: unknown): void {
  if (!isMissing(error)) throw error;
}

/** S3's NoSuchUpload, as s3rver's error model. */
export function noSuchUpload(uploadId: string): Error {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

/** The metadata s3rver keeps for an object (its own allowlist, and user metadata). */
export function storedMetadata(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (
      [
        'cache-control',
        'content-disposition',
        'content-encoding',
        'content-language',
        'content-type',
        'expires',
        'x-amz-storage-class',
        'x-amz-website-redirect-location',
      ].includes(name) ||
      name.startsWith('x-amz-meta-')
    ) {
      kept[name] = value;
    }
  }
  return kept;
}

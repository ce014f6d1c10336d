/**
 * What S3 can store, from AWS's documented limits, so an app can refuse a file with a clear
 * message before it uploads a single byte.
 */
import { FileTooLargeError, InvalidFileNameError } from './errors';

/** S3's limits on one object, as documented by AWS. */
export const S3_LIMITS = {
  /** The largest object: 5 TiB, which takes a multipart upload. */
  maxObjectBytes: 5 * 1024 ** 4,
  /** Parts in one multipart upload. */
  maxParts: 10_000,
  /** The smallest part but the last. */
  minPartBytes: 5 * 1024 ** 2,
  /** A key's length in UTF-8 bytes, the user's folder included. */
  maxKeyBytes: 1024,
} as const;

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8, as S3 counts a key. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * The full key of a file or folder (`folder/` with its trailing slash) in the user's folder,
 * or InvalidFileNameError with what is wrong. Names are relative to the folder: no leading
 * `/`, no empty, `.` or `..` segment (they would look like another folder to people), no
 * control characters, and the key fits S3's 1,024 bytes.
 */
export function keyFor(prefix: string, name: string): string {
  const isFolder = name.endsWith('/');
  const body = isFolder ? name.slice(0, -1) : name;
  if (body === '') throw new InvalidFileNameError(name, 'A name cannot be empty.');
  if (name.startsWith('/')) throw new InvalidFileNameError(name, 'A name cannot start with "/".');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw new InvalidFileNameError(name, 'A name cannot contain control characters.');
  for (const segment of body.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InvalidFileNameError(name, 'A folder in the name is empty, "." or "..".');
    }
  }
  const limit = S3_LIMITS.maxKeyBytes - utf8Bytes(prefix);
  if (utf8Bytes(name) > limit)
    throw new InvalidFileNameError(name, `A name can be at most ${limit} bytes long (in UTF-8) here.`);
  return prefix + name;
}

/** Throws FileTooLargeError when `sizeBytes` is over what one S3 object can hold. */
export function checkSize(name: string, sizeBytes: number | undefined): void {
  if (sizeBytes !== undefined && sizeBytes > S3_LIMITS.maxObjectBytes) {
    throw new FileTooLargeError(name, sizeBytes, S3_LIMITS.maxObjectBytes);
  }
}

/**
 * The part size for an upload of `sizeBytes`: the configured one, grown when the file would
 * otherwise need more than 10,000 parts.
 */
export function partSizeFor(sizeBytes: number | undefined, configured: number): number {
  const base = Math.max(configured, S3_LIMITS.minPartBytes);
  return sizeBytes === undefined ? base : Math.max(base, Math.ceil(sizeBytes / S3_LIMITS.maxParts));
}

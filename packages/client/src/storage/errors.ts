/**
 * Errors of the storage helpers. Failures S3 reports (AccessDenied, NoSuchKey) come through
 * as the AWS SDK's own errors; a refused session is the core's LoginRequiredError.
 */

/** Every code a {@link StorageError} can carry. */
export type StorageErrorCode = 'file_too_large' | 'invalid_name' | 'aborted' | 'unreachable' | 'read_only';

/** Base class of the storage helpers' own errors. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
  }
}

/** The file is larger than one S3 object can be; nothing was uploaded. */
export class FileTooLargeError extends StorageError {
  constructor(
    readonly fileName: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super('file_too_large', `"${fileName}" is ${sizeBytes} bytes; one file can be at most ${limitBytes} bytes.`);
    this.name = 'FileTooLargeError';
  }
}

/** The name cannot be a key in the user's folder; `reason` says why. Nothing was sent. */
export class InvalidFileNameError extends StorageError {
  constructor(
    readonly fileName: string,
    readonly reason: string,
  ) {
    super('invalid_name', `"${fileName}" cannot be stored: ${reason}`);
    this.name = 'InvalidFileNameError';
  }
}

/** The upload (or the wait for the network) was cancelled; no multipart upload is left behind. */
export class AbortedError extends StorageError {
  constructor(message = 'Cancelled.') {
    super('aborted', message);
    this.name = 'AbortedError';
  }
}

/** The network (or the TVM) stayed unreachable for longer than the recovery policy's patience. */
export class StorageUnreachableError extends StorageError {
  constructor(waitedMs: number, cause: unknown) {
    super('unreachable', `The file store was unreachable for ${Math.round(waitedMs / 1000)} s; gave up.`, { cause });
    this.name = 'StorageUnreachableError';
  }
}

/** A write (upload, delete, new folder) into a share that is read-only; nothing was sent. */
export class ReadOnlyShareError extends StorageError {
  constructor(readonly fileName: string) {
    super('read_only', `"${fileName}" cannot be changed: this share is read-only.`);
    this.name = 'ReadOnlyShareError';
  }
}

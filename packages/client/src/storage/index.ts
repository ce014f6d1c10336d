/**
 * `@serverless-tvm/client/storage`: upload (multipart above one part, with progress, abort and
 * recovery), list, download and delete in the user's own folder (`TvmStorage`) or a share received (`ShareStorage`), on top of the AWS SDK
 * (`@aws-sdk/client-s3` and `@aws-sdk/lib-storage`, the app's own copies).
 */
export {
  AbortedError,
  FileTooLargeError,
  InvalidFileNameError,
  ReadOnlyShareError,
  StorageError,
  StorageUnreachableError,
} from './errors';
export type { StorageErrorCode } from './errors';
export { checkSize, keyFor, partSizeFor, S3_LIMITS, utf8Bytes } from './limits';
export {
  DEFAULT_RECOVERY_POLICY,
  isCredentialRefusal,
  isNoAnswer,
  isWorthWaitingFor,
  sendWithRecovery,
} from './recovery';
export type { RecoveryContext, RecoveryPolicy } from './recovery';
export { ShareStorage } from './share-storage';
export type { ShareStorageOptions } from './share-storage';
export { DEFAULT_PART_SIZE_BYTES, TvmStorage } from './tvm-storage';
export type {
  Download,
  FileInfo,
  ListOptions,
  ListPage,
  TvmStorageOptions,
  UploadBody,
  UploadOptions,
  UploadProgress,
  UploadTask,
} from './tvm-storage';

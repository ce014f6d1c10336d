/**
 * Storage helpers on top of the AWS SDK: the user's own folder, by names relative to it.
 * Uploads go through `@aws-sdk/lib-storage` (multipart above one part), every request through
 * {@link sendWithRecovery}.
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { fromTvm, type Connectivity, type StorageInfo, type TvmClient, type TvmCredentialProvider } from '../index';
import { AbortedError } from './errors';
import { checkSize, keyFor, partSizeFor } from './limits';
import { DEFAULT_RECOVERY_POLICY, sendWithRecovery, type RecoveryPolicy } from './recovery';

/** Options of {@link TvmStorage}. */
export interface TvmStorageOptions {
  /** The logged-in client; its session and connectivity are shared. */
  readonly client: TvmClient;
  /** The credential provider. Default `fromTvm(client)`; pass yours to share one cache. */
  readonly credentials?: TvmCredentialProvider;
  /**
   * The size of one multipart part, and so the threshold: a file larger than one part goes
   * multipart. Grown per file when it would need over 10,000 parts. Default 7 MiB (S3's
   * minimum is 5 MiB): in browsers the AWS SDK hashes a body of 8 MiB or more for SigV4 in
   * JavaScript on the main thread (about a second per part), below that with WebCrypto, off it.
   */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once per file. Default 4. Memory held per file is about this times the part size. */
  readonly queueSize?: number;
  /** How long and how often to retry while the network is down. */
  readonly recovery?: Partial<RecoveryPolicy>;
  /** Extra S3 client settings (an endpoint through a proxy, a request handler). */
  readonly s3?: Partial<S3ClientConfig>;
  /** One request's time limit, so a connection that hangs is retried. Default 60,000 ms. */
  readonly requestTimeoutMs?: number;
  /** The current time in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** The jitter source, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** A file in the user's folder. */
export interface FileInfo {
  /** The name relative to the user's folder, e.g. `photos/cat.jpg`. */
  readonly name: string;
  readonly sizeBytes: number;
  readonly lastModified: Date | undefined;
}

/** One page of a folder listing. */
export interface ListPage {
  /** The folder listed, relative (`''` for the top, else ending in `/`). */
  readonly folder: string;
  /** Sub-folders, relative names ending in `/`. */
  readonly folders: readonly string[];
  readonly files: readonly FileInfo[];
  /** Pass to {@link TvmStorage.list} for the next page; absent on the last page. */
  readonly nextPageToken?: string;
}

/** Options of {@link TvmStorage.list}. */
export interface ListOptions {
  /** The folder, relative, ending in `/`; `''` (the default) for the top of the user's folder. */
  readonly folder?: string;
  /** Entries per page (at most 1,000). Default 1,000. */
  readonly pageSize?: number;
  readonly pageToken?: string;
  readonly signal?: AbortSignal;
}

/** Progress of one upload. */
export interface UploadProgress {
  readonly loadedBytes: number;
  /** Absent when the body's size is unknown (a stream without `sizeBytes`). */
  readonly totalBytes: number | undefined;
}

/** What can be uploaded: bytes, a string, a Blob or File, a web ReadableStream or a Node Readable. */
export type UploadBody = NonNullable<PutObjectCommandInput['Body']>;

/** Options of {@link TvmStorage.upload}. */
export interface UploadOptions {
  readonly contentType?: string;
  /** The body's size, when it is a stream (for progress, the size check and the part size). */
  readonly sizeBytes?: number;
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Aborting it is the same as {@link UploadTask.abort}. */
  readonly signal?: AbortSignal;
}

/** A running upload. */
export interface UploadTask {
  readonly name: string;
  /** Resolves when the file is stored; rejects with AbortedError after an abort. */
  readonly done: Promise<void>;
  /**
   * Cancels the upload. Resolves once nothing is left behind: the parts in flight are
   * stopped and the multipart upload, if one was started, is aborted at S3. Rejects when S3
   * could not be told (the bucket's lifecycle rule then removes the parts within days).
   */
  abort(): Promise<void>;
}

/** A downloaded file: its details and its body, which the AWS SDK lets you read as bytes, text or a stream. */
export interface Download extends FileInfo {
  readonly contentType: string | undefined;
  readonly body: NonNullable<GetObjectCommandOutput['Body']>;
}

type AnyCommand = Parameters<S3Client['send']>[0];

/** The default part size: see {@link TvmStorageOptions.partSizeBytes}. */
export const DEFAULT_PART_SIZE_BYTES = 7 * 1024 ** 2;

/**
 * Files in the user's own S3 folder. Every name is relative to that folder, so the helpers
 * cannot address anyone else's. Every request survives a credential rotation or cut-off
 * (fresh credentials, once) and a network drop (wait, retry, report offline); only a 401 from
 * the TVM ends the session.
 */
export class TvmStorage {
  readonly credentials: TvmCredentialProvider;
  readonly connectivity: Connectivity;
  private readonly client: TvmClient;
  private readonly partSizeBytes: number;
  private readonly queueSize: number;
  private readonly recovery: RecoveryPolicy;
  private readonly s3Overrides: Partial<S3ClientConfig>;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly ownsCredentials: boolean;
  private s3: { client: S3Client; endpoint: string | undefined; region: string } | undefined;
  private readonly unsubscribe: () => void;

  constructor(options: TvmStorageOptions) {
    this.client = options.client;
    this.ownsCredentials = options.credentials === undefined;
    this.credentials = options.credentials ?? fromTvm(options.client);
    this.connectivity = options.client.connectivity;
    this.partSizeBytes = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    this.queueSize = options.queueSize ?? 4;
    this.recovery = { ...DEFAULT_RECOVERY_POLICY, ...options.recovery };
    this.s3Overrides = options.s3 ?? {};
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    // A new login may bring another region or endpoint: the next call builds a new client.
    this.unsubscribe = this.client.onSessionChange(() => this.dropS3Client());
  }

  /** The S3 client for the user's storage and the storage details, for calls the helpers do not cover. */
  async s3Client(): Promise<{ readonly client: S3Client; readonly info: StorageInfo }> {
    const info = await this.credentials.storage();
    if (!this.s3 || this.s3.endpoint !== info.endpoint || this.s3.region !== info.region) {
      this.dropS3Client();
      const client = new S3Client({
        region: info.region,
        credentials: this.credentials,
        // A local endpoint (the sandbox) serves every bucket on one host: path-style addressing.
        ...(info.endpoint ? { endpoint: info.endpoint, forcePathStyle: true } : {}),
        // Checksums only where S3 requires them: no CRC of every part on a phone's main thread.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          requestTimeout: this.requestTimeoutMs,
          connectionTimeout: Math.min(this.requestTimeoutMs, 10_000),
        },
        ...this.s3Overrides,
      });
      this.s3 = { client, endpoint: info.endpoint, region: info.region };
    }
    return { client: this.s3.client, info };
  }

  /**
   * Uploads `body` as `name` (relative, e.g. `photos/cat.jpg`), replacing any file of that
   * name. Files larger than one part go multipart, parts in parallel; a part that fails is
   * sent again (fresh credentials once on a refusal, and after the network comes back on a
   * drop). Throws InvalidFileNameError or FileTooLargeError at once, before any request.
   */
  upload(name: string, body: UploadBody, options: UploadOptions = {}): UploadTask {
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (options.signal?.aborted) controller.abort();
    const sizeBytes = options.sizeBytes ?? sizeOf(body);
    checkSize(name, sizeBytes);

    const inFlight = new Set<Promise<unknown>>();
    let uploadId: string | undefined;
    let key: string | undefined;
    let cleanup: Promise<void> | undefined;

    const run = async (): Promise<void> => {
      const { client, info } = await this.s3Client();
      key = this.keyOf(info, name, 'write');
      // lib-storage sees a client whose send recovers; Create, Complete and Abort are never
      // cut short by an abort, so an upload that S3 started is always known, and aborted.
      const partSize = partSizeFor(sizeBytes, this.partSizeBytes);
      const resilient = Object.create(client, {
        send: {
          value: (original: AnyCommand) => {
            const command = asBlobSlice(original, body, partSize);
            const stoppable = !(
              command instanceof CreateMultipartUploadCommand || command instanceof AbortMultipartUploadCommand
            );
            const signal = stoppable ? controller.signal : undefined;
            // Every command of an upload writes but the abort, which frees space and is never refused for quota.
            const intent = command instanceof AbortMultipartUploadCommand ? 'read' : 'write';
            const sent = this.recover((sendOptions) => client.send(command, sendOptions), signal, intent).then(
              (output) => {
                if (command instanceof CreateMultipartUploadCommand)
                  uploadId = (output as { UploadId?: string }).UploadId;
                return output;
              },
            );
            inFlight.add(sent);
            void sent.catch(() => undefined).finally(() => inFlight.delete(sent));
            return sent;
          },
        },
      }) as S3Client;
      const upload = new Upload({
        client: resilient,
        params: {
          Bucket: info.bucket,
          Key: key,
          Body: body,
          ...(options.contentType ? { ContentType: options.contentType } : {}),
          ...(sizeBytes !== undefined ? { ContentLength: sizeBytes } : {}),
        },
        partSize,
        queueSize: this.queueSize,
        abortController: controller,
      });
      if (options.onProgress) {
        const report = options.onProgress;
        upload.on('httpUploadProgress', (progress) =>
          report({ loadedBytes: progress.loaded ?? 0, totalBytes: progress.total ?? sizeBytes }),
        );
      }
      try {
        await upload.done();
      } catch (error) {
        cleanup ??= removeLeftovers();
        // A failed clean-up is abort()'s to report; `done` says why the upload stopped.
        await cleanup.catch(() => undefined);
        throw controller.signal.aborted ? new AbortedError() : error;
      } finally {
        options.signal?.removeEventListener('abort', onOuterAbort);
      }
    };

    /** Waits for the requests in flight to stop, then aborts the multipart upload if S3 has one. */
    const removeLeftovers = async (): Promise<void> => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      if (uploadId === undefined || key === undefined) return;
      const { client, info } = await this.s3Client();
      try {
        await this.recover((sendOptions) =>
          client.send(
            new AbortMultipartUploadCommand({ Bucket: info.bucket, Key: key, UploadId: uploadId }),
            sendOptions,
          ),
        );
      } catch (error) {
        // lib-storage may have aborted it already.
        if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
      }
    };

    const done = run();
    // The caller may only ever call abort(); the rejection is theirs to read from `done`.
    done.catch(() => undefined);
    return {
      name,
      done,
      abort: async () => {
        controller.abort();
        await done.catch(() => undefined);
        await cleanup;
      },
    };
  }

  /** Details of `name`, or undefined when there is no such file. */
  async stat(name: string, options: { readonly signal?: AbortSignal } = {}): Promise<FileInfo | undefined> {
    const { client, info } = await this.s3Client();
    try {
      const key = this.keyOf(info, name, 'read');
      const head = await this.recover(
        (sendOptions) => client.send(new HeadObjectCommand({ Bucket: info.bucket, Key: key }), sendOptions),
        options.signal,
      );
      return { name, sizeBytes: head.ContentLength ?? 0, lastModified: head.LastModified };
    } catch (error) {
      if (
        (error as { name?: string }).name === 'NotFound' ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        return undefined;
      throw error;
    }
  }

  /** One page of a folder: its sub-folders and files, by name. */
  async list(options: ListOptions = {}): Promise<ListPage> {
    const folder = options.folder ?? '';
    const { client, info } = await this.s3Client();
    const base = this.baseOf(info);
    const prefix = folder === '' ? base : this.keyOf(info, folder.endsWith('/') ? folder : `${folder}/`, 'read');
    const page = await this.recover(
      (sendOptions) =>
        client.send(
          new ListObjectsV2Command({
            Bucket: info.bucket,
            Prefix: prefix,
            Delimiter: '/',
            ...(options.pageSize !== undefined ? { MaxKeys: options.pageSize } : {}),
            ...(options.pageToken !== undefined ? { ContinuationToken: options.pageToken } : {}),
          }),
          sendOptions,
        ),
      options.signal,
    );
    const relative = (key: string): string => key.slice(base.length);
    const files = (page.Contents ?? [])
      // The folder's own marker object (created by createFolder) is the folder, not a file in it.
      .filter((object) => object.Key !== undefined && object.Key !== prefix)
      .map((object) => ({
        name: relative(object.Key ?? ''),
        sizeBytes: object.Size ?? 0,
        lastModified: object.LastModified,
      }));
    const folders = (page.CommonPrefixes ?? []).flatMap((common) => (common.Prefix ? [relative(common.Prefix)] : []));
    const next = page.IsTruncated ? page.NextContinuationToken : undefined;
    return {
      folder: relative(prefix),
      folders,
      files,
      ...(next !== undefined ? { nextPageToken: next } : {}),
    };
  }

  /** Every page of a folder, one at a time. */
  async *pages(options: Omit<ListOptions, 'pageToken'> = {}): AsyncGenerator<ListPage> {
    let pageToken: string | undefined;
    do {
      const page = await this.list({ ...options, ...(pageToken !== undefined ? { pageToken } : {}) });
      yield page;
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
  }

  /** Downloads `name`. Read the body once: `await download.body.transformToByteArray()`, `.transformToWebStream()`. */
  async download(name: string, options: { readonly signal?: AbortSignal } = {}): Promise<Download> {
    const { client, info } = await this.s3Client();
    const key = this.keyOf(info, name, 'read');
    const object = await this.recover(
      (sendOptions) => client.send(new GetObjectCommand({ Bucket: info.bucket, Key: key }), sendOptions),
      options.signal,
    );
    if (!object.Body) throw new Error(`S3 sent no body for "${name}".`);
    return {
      name,
      sizeBytes: object.ContentLength ?? 0,
      lastModified: object.LastModified,
      contentType: object.ContentType,
      body: object.Body,
    };
  }

  /** Deletes `name`. Deleting a file that is not there succeeds, as in S3. */
  async delete(name: string): Promise<void> {
    const { client, info } = await this.s3Client();
    const key = this.keyOf(info, name, 'write');
    await this.recover((sendOptions) =>
      client.send(new DeleteObjectCommand({ Bucket: info.bucket, Key: key }), sendOptions),
    );
  }

  /** Creates an empty folder (`name` with or without its trailing `/`), shown by {@link list} until it has files. */
  async createFolder(name: string): Promise<string> {
    const folder = name.endsWith('/') ? name : `${name}/`;
    const { client, info } = await this.s3Client();
    const key = this.keyOf(info, folder, 'write');
    await this.recover(
      (sendOptions) =>
        client.send(new PutObjectCommand({ Bucket: info.bucket, Key: key, Body: new Uint8Array() }), sendOptions),
      undefined,
      'write',
    );
    return folder;
  }

  /** Stops following the client's logins and closes the S3 client. */
  dispose(): void {
    this.unsubscribe();
    if (this.ownsCredentials) this.credentials.dispose();
    this.dropS3Client();
  }

  /**
   * The key of `name` (relative) for a read or a write, or a StorageError before any request.
   * Subclasses narrow it (a share: read-only, or one file).
   */
  protected keyOf(info: StorageInfo, name: string, _intent: 'read' | 'write'): string {
    return keyFor(info.prefix, name);
  }

  /** The prefix names are relative to: the user's folder (a share: the shared folder). */
  protected baseOf(info: StorageInfo): string {
    return info.prefix;
  }

  private dropS3Client(): void {
    this.s3?.client.destroy();
    this.s3 = undefined;
  }

  /**
   * Sends through {@link sendWithRecovery}; `send` gets the options carrying `signal` for the SDK.
   * A `write` refused while the folder is over its quota becomes QuotaExceededError.
   */
  private recover<T>(
    send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
    signal?: AbortSignal,
    intent: 'read' | 'write' = 'read',
  ): Promise<T> {
    return sendWithRecovery(() => send(signal ? { abortSignal: signal } : {}), {
      policy: this.recovery,
      connectivity: this.connectivity,
      refreshCredentials: () => this.credentials({ forceRefresh: true, credentialsRefused: true }),
      ...(intent === 'write' ? { writeUsage: () => this.credentials.cached()?.storage.usage } : {}),
      ...(signal ? { signal } : {}),
      now: this.now,
      random: this.random,
    });
  }
}

/**
 * A Blob (a File from a picker or a drop) goes up as slices of itself rather than as the bytes
 * lib-storage read from it: the browser streams a slice from its blob store, while bytes are
 * copied into the request on the page's main thread (about 40 ms per MiB measured in
 * Chromium), and a Blob body is sent with an unsigned payload instead of being hashed there.
 * lib-storage still cuts the parts (every part but the last is exactly `partSize`).
 */
function asBlobSlice(command: AnyCommand, body: UploadBody, partSize: number): AnyCommand {
  if (typeof Blob === 'undefined' || !(body instanceof Blob)) return command;
  if (command instanceof UploadPartCommand) {
    const start = ((command.input.PartNumber ?? 1) - 1) * partSize;
    return new UploadPartCommand({
      ...command.input,
      Body: body.slice(start, start + partSize),
    }) as unknown as AnyCommand;
  }
  if (command instanceof PutObjectCommand)
    return new PutObjectCommand({ ...command.input, Body: body }) as unknown as AnyCommand;
  return command;
}

/** The size of a body whose size is known without reading it. */
function sizeOf(body: UploadBody): number | undefined {
  if (typeof body === 'string') return new TextEncoder().encode(body).byteLength;
  if (body instanceof Uint8Array) return body.byteLength;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  return undefined;
}

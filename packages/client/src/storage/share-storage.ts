/**
 * The storage helpers over a share received: the same calls as {@link TvmStorage}, by names
 * relative to the shared folder, with the share's credentials ({@link fromShare}). A read-only
 * share refuses writes before any request; a file share holds exactly one name, the file's own.
 *
 * ```ts
 * const shared = new ShareStorage({ client: tvm, shareId });
 * const page = await shared.list(); // the shared folder
 * const file = await shared.download(page.files[0].name);
 * ```
 */
import {
  fromShare,
  type FromShareOptions,
  type ShareCredentialProvider,
  type ShareInfo,
  type StorageInfo,
} from '../index';
import { InvalidFileNameError, ReadOnlyShareError } from './errors';
import { TvmStorage, type ListOptions, type ListPage, type TvmStorageOptions } from './tvm-storage';

/** Options of {@link ShareStorage}: the share by id (a provider is made for it), or a provider of one's own. */
export type ShareStorageOptions = Omit<TvmStorageOptions, 'credentials'> &
  ({ readonly shareId: string; readonly share?: FromShareOptions } | { readonly credentials: ShareCredentialProvider });

/** Files in a share received, by names relative to the shared folder (a file share: the file's name). */
export class ShareStorage extends TvmStorage {
  declare readonly credentials: ShareCredentialProvider;
  private readonly ownsShareCredentials: boolean;

  constructor(options: ShareStorageOptions) {
    const credentials =
      'credentials' in options ? options.credentials : fromShare(options.client, options.shareId, options.share);
    super({ ...options, credentials });
    this.ownsShareCredentials = !('credentials' in options);
  }

  /** The share's details: bucket, prefix, access, end and kind. */
  info(): Promise<ShareInfo> {
    return this.credentials.storage();
  }

  /**
   * The shared folder's page (a file share: the one file, read with HeadObject since its
   * credentials cannot list; no file if it is gone).
   */
  override async list(options: ListOptions = {}): Promise<ListPage> {
    const info = await this.info();
    if (info.kind === 'folder') return super.list(options);
    const name = fileNameOf(info);
    if ((options.folder ?? '') !== '')
      throw new InvalidFileNameError(options.folder ?? '', `This share holds one file, "${name}".`);
    const file = await this.stat(name, options.signal ? { signal: options.signal } : {});
    return { folder: '', folders: [], files: file ? [file] : [] };
  }

  override dispose(): void {
    super.dispose();
    if (this.ownsShareCredentials) this.credentials.dispose();
  }

  protected override keyOf(info: StorageInfo, name: string, intent: 'read' | 'write'): string {
    const share = info as ShareInfo;
    if (intent === 'write' && share.access !== 'readwrite') throw new ReadOnlyShareError(name);
    if (share.kind === 'folder') return super.keyOf(info, name, intent);
    const only = fileNameOf(share);
    if (name !== only) throw new InvalidFileNameError(name, `This share holds one file, "${only}".`);
    return share.prefix;
  }

  protected override baseOf(info: StorageInfo): string {
    const share = info as ShareInfo;
    return share.kind === 'folder' ? share.prefix : share.prefix.slice(0, share.prefix.lastIndexOf('/') + 1);
  }
}

/** A file share's one name: the last segment of its key. */
function fileNameOf(info: ShareInfo): string {
  return info.prefix.slice(info.prefix.lastIndexOf('/') + 1);
}

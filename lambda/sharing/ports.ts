/**
 * What sharing needs from the outside: where shares and links are kept (the TVM's table,
 * lambda/adapters/dynamo/) and how a revocation reaches credentials already issued (the
 * vending role's cut-off list, applied by the worker). DynamoDB here has no transactions
 * (dynalite has none): each record has one canonical item, and every other item is a pointer
 * that is only believed once the canonical item confirms it.
 */
import type { IssuedCredentials, ShareAccess } from '../contract/wire';
import type { Username } from '../platform/identity';
import type { SharePath } from './share-path';

/** A share as stored: the canonical record in the owner's partition. */
export interface ShareRecord {
  readonly id: string;
  readonly owner: Username;
  /** The owner's registration (user record `userId`): a name registered again later owns nothing of this. */
  readonly ownerUserId: string;
  readonly grantee: Username;
  /** The grantee's registration: a later account under the freed name inherits nothing. */
  readonly granteeUserId: string;
  readonly path: SharePath;
  readonly access: ShareAccess;
  /** Epoch ms, or undefined for a share that lasts until revoked. */
  readonly expiresAt?: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the last credential vend. */
  readonly lastUsedAt?: number;
  readonly lastUsedBy?: Username;
}

/** A share link as stored: one file of the owner's folder. */
export interface LinkRecord {
  /** The link id (the bearer secret in the URL). */
  readonly id: string;
  readonly owner: Username;
  readonly ownerUserId: string;
  /** Always a file path (never `""` or a folder). */
  readonly path: SharePath;
  /** Epoch ms, or undefined for a link that lasts until revoked. */
  readonly expiresAt?: number;
  readonly createdAt: number;
  readonly lastUsedAt?: number;
  /** The source IP of the last open. */
  readonly lastUsedBy?: string;
}

/** A revoked share whose issued credentials must stop working (the vending role's cut-off list). */
export interface RevokedShare {
  readonly shareId: string;
  /** Epoch ms, a whole second: share credentials issued before it are denied. */
  readonly cutOffAt: number;
}

/**
 * Shares in the TVM's table (lambda/adapters/dynamo/share-store.ts). The methods the
 * lifecycle (account deletion, disable, tvm-admin) relies on are the listing and `remove`;
 * the rest serve the routes.
 */
export interface ShareStore {
  /**
   * Takes one of the owner's places (the `shareCount` on registration `ownerUserId`'s user
   * record) if fewer than `max` are taken. False when full, or when the user is not that
   * registration. A place taken by a create that then failed stays taken until a recount.
   */
  reserve(owner: Username, ownerUserId: string, max: number): Promise<boolean>;
  /** Sets the owner's count to `count` (after a recount of {@link listGiven}), if the user is still that registration. */
  recount(owner: Username, ownerUserId: string, count: number): Promise<void>;
  /** Stores a new share: the grantee's pointer first, then the canonical record (a pointer alone is never believed). */
  put(share: ShareRecord): Promise<void>;
  /** The canonical record of share `id` in the owner's partition. */
  get(owner: Username, id: string): Promise<ShareRecord | undefined>;
  /** The owner the grantee's pointer names for share `id` (to be confirmed by the canonical record). */
  receivedFrom(grantee: Username, id: string): Promise<Username | undefined>;
  /** Records a credential vend on the canonical record, if it still exists. */
  recordUse(share: ShareRecord, at: number, by: Username): Promise<void>;
  /** Every share the owner has given (canonical records), oldest first. */
  listGiven(owner: Username): Promise<ShareRecord[]>;
  /** Every share the grantee has received, as their canonical records (dangling pointers skipped). */
  listReceived(grantee: Username): Promise<ShareRecord[]>;
  /**
   * Removes the share: its canonical record, the grantee's pointer and the owner's count.
   * Idempotent: removing a share that is already gone does nothing.
   */
  remove(share: ShareRecord): Promise<void>;
}

/** Links in the TVM's table (lambda/adapters/dynamo/link-store.ts). */
export interface LinkStore {
  /** Takes one of the owner's link places (`linkCount`), as {@link ShareStore.reserve}. */
  reserve(owner: Username, ownerUserId: string, max: number): Promise<boolean>;
  /** Sets the owner's link count, as {@link ShareStore.recount}. */
  recount(owner: Username, ownerUserId: string, count: number): Promise<void>;
  /** Stores a new link: the owner's listing item first, then the canonical record (what `GET /l/{id}` reads). */
  put(link: LinkRecord): Promise<void>;
  /** The canonical record of link `id`. */
  get(id: string): Promise<LinkRecord | undefined>;
  /** Records an open on the canonical record, if it still exists. */
  recordOpen(link: LinkRecord, at: number, by: string): Promise<void>;
  /** Every link the owner has, oldest first. */
  listByOwner(owner: Username): Promise<LinkRecord[]>;
  /** Removes the link and the owner's count. Idempotent. */
  remove(link: LinkRecord): Promise<void>;
}

/**
 * Cuts off credentials already issued for shares (lambda/adapters/share-cut-off.ts): records
 * each share on the vending role's cut-off list and asks the worker to put the list on the
 * role (at once in the sandbox; on AWS within seconds, then IAM's propagation).
 */
export interface ShareCutOff {
  /** Records the cut-off for every share id (idempotent) and requests that it is applied. */
  cutOff(shareIds: readonly string[]): Promise<void>;
}

/** Signs a GET of one object with the credentials vended for it (lambda/adapters/link-presigner.ts). */
export interface LinkPresigner {
  /** A presigned GET URL for `key` in `bucket`, valid `seconds`, signed with `credentials`. */
  presignGet(credentials: IssuedCredentials, bucket: string, key: string, seconds: number): Promise<string>;
}

/**
 * What sharing needs from the outside: where shares and links are kept (the TVM's table,
 * lambda/adapters/dynamo/) and how a revocation reaches credentials already issued (the
 * vending role's cut-off list, applied by the worker). DynamoDB here has no transactions
 * (dynalite has none): each record has one canonical item, and every other item is a pointer
 * that is only believed once the canonical item confirms it.
 */
import type { ShareAccess } from '../contract/wire';
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

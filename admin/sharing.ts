/**
 * tvm-admin's view of a user's shares and links: listing them, revoking one (a share is cut off
 * on the vending role first, so credentials already issued for it stop, then removed), and what
 * `users disable` and `users delete` do to them (lambda/sharing/share-lifecycle.ts). Every
 * revocation is audited in the trails of the people it concerns, as the operator's act.
 */
import { DynamoLinkStore } from '../lambda/adapters/dynamo/link-store';
import { DynamoShareStore } from '../lambda/adapters/dynamo/share-store';
import { recordShareCutOffs } from '../lambda/adapters/share-cut-off';
import { DynamoRevocationStore } from '../lambda/operator/revocation-store';
import { AuditRecorder, OPERATOR_ORIGIN, type DomainLog } from '../lambda/platform/audit';
import { readRuntimeSettings, type TvmConfig } from '../lambda/platform/config';
import { LINK_ID_AUDIT_CHARACTERS } from '../lambda/sharing/link-service';
import type { LinkRecord, ShareRecord } from '../lambda/sharing/ports';
import { SharingLifecycle } from '../lambda/sharing/share-lifecycle';
import type { Username } from '../lambda/accounts/username';
import { accountStores } from '../lambda/adapters/account-deletion-wiring';
import type { RevocationList } from './revocations';
import { AdminError, type AdminTarget } from './target';

/** The share and link stores on the target's table. */
export interface SharingStores {
  readonly shares: DynamoShareStore;
  readonly links: DynamoLinkStore;
}

/** The stores of the target. */
export function sharingStores(target: Pick<AdminTarget, 'dynamo' | 'tableName'>): SharingStores {
  return {
    shares: new DynamoShareStore(target.dynamo, target.tableName),
    links: new DynamoLinkStore(target.dynamo, target.tableName),
  };
}

/**
 * The lifecycle's view of the target's shares: its cut-off records the entries only, since the
 * command applies the whole list right after (with the user's own cut-off, or
 * {@link RevocationList.applyPending}).
 */
export function sharingLifecycle(
  target: Pick<AdminTarget, 'dynamo' | 'tableName' | 'cutOffMarginMs' | 'maxCredentialSeconds'>,
): SharingLifecycle {
  const store = new DynamoRevocationStore(target.dynamo, target.tableName);
  return new SharingLifecycle({
    ...sharingStores(target),
    cutOff: { cutOff: async (ids) => void (await recordShareCutOffs(store, ids, target)) },
  });
}

/** A share as tvm-admin shows it. */
export interface ShareView {
  readonly id: string;
  /** `given` (the user owns it) or `received`. */
  readonly direction: 'given' | 'received';
  readonly owner: string;
  readonly grantee: string;
  readonly path: string;
  readonly access: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly lastUsedAt?: string;
  readonly lastUsedBy?: string;
}

/** A link as tvm-admin shows it (the id is the link's secret: the operator sees it, as the owner does). */
export interface LinkView {
  readonly id: string;
  readonly path: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly lastUsedAt?: string;
  readonly lastUsedBy?: string;
}

const iso = (epochMs: number | undefined) => (epochMs === undefined ? undefined : new Date(epochMs).toISOString());

function shareView(share: ShareRecord, direction: ShareView['direction']): ShareView {
  return {
    id: share.id,
    direction,
    owner: share.owner,
    grantee: share.grantee,
    path: share.path,
    access: share.access,
    createdAt: iso(share.createdAt)!,
    ...(share.expiresAt !== undefined ? { expiresAt: iso(share.expiresAt)! } : {}),
    ...(share.lastUsedAt !== undefined ? { lastUsedAt: iso(share.lastUsedAt)! } : {}),
    ...(share.lastUsedBy !== undefined ? { lastUsedBy: share.lastUsedBy } : {}),
  };
}

function linkView(link: LinkRecord): LinkView {
  return {
    id: link.id,
    path: link.path,
    createdAt: iso(link.createdAt)!,
    ...(link.expiresAt !== undefined ? { expiresAt: iso(link.expiresAt)! } : {}),
    ...(link.lastUsedAt !== undefined ? { lastUsedAt: iso(link.lastUsedAt)! } : {}),
    ...(link.lastUsedBy !== undefined ? { lastUsedBy: link.lastUsedBy } : {}),
  };
}

/** Every share the user gave, then every one they received, oldest first. */
export async function listShares(stores: SharingStores, username: Username): Promise<ShareView[]> {
  const [given, received] = await Promise.all([
    stores.shares.listGiven(username),
    stores.shares.listReceived(username),
  ]);
  return [...given.map((share) => shareView(share, 'given')), ...received.map((share) => shareView(share, 'received'))];
}

/** Every link the user has, oldest first. */
export async function listLinks(stores: SharingStores, username: Username): Promise<LinkView[]> {
  return (await stores.links.listByOwner(username)).map(linkView);
}

/** The user's share `id` (given or received), or an AdminError naming what was not found. */
export async function findShare(stores: SharingStores, username: Username, id: string): Promise<ShareRecord> {
  const [given, received] = await Promise.all([
    stores.shares.listGiven(username),
    stores.shares.listReceived(username),
  ]);
  const share = [...given, ...received].find((candidate) => candidate.id === id);
  if (!share) throw new AdminError(`${username} has no share ${id} (given or received); see shares list ${username}.`);
  return share;
}

/** The user's link `id`, or an AdminError. */
export async function findLink(stores: SharingStores, username: Username, id: string): Promise<LinkRecord> {
  const link = (await stores.links.listByOwner(username)).find((candidate) => candidate.id === id);
  if (!link) throw new AdminError(`${username} has no link ${id}; see links list ${username}.`);
  return link;
}

/** The audit recorder of the target's trail, as the operator's account tools write it. */
function auditor(target: Pick<AdminTarget, 'dynamo' | 'tableName'>, log: DomainLog): AuditRecorder {
  // The recorder reads only runtime settings (the audit retention), as the functions do.
  return new AuditRecorder(
    accountStores(target.dynamo, target.tableName, log, readRuntimeSettings(process.env) as TvmConfig),
  );
}

/**
 * Revokes the user's share `id`: cut off on the vending role (credentials already issued for it
 * are denied once IAM applies it), then removed, then audited (`share_revoked`) in the owner's
 * and the grantee's trails. Returns the share and the cut-off instant.
 */
export async function revokeShare(
  context: { readonly revocations: RevocationList; readonly target: AdminTarget; readonly log: DomainLog },
  username: Username,
  id: string,
): Promise<{ share: ShareRecord; cutOffAt: number }> {
  const stores = sharingStores(context.target);
  const share = await findShare(stores, username, id);
  const { cutOffAt } = await context.revocations.cutOffShares([share.id]);
  await stores.shares.remove(share);
  const details = {
    shareId: share.id,
    owner: share.owner,
    grantee: share.grantee,
    path: share.path,
    access: share.access,
  };
  const recorder = auditor(context.target, context.log);
  await Promise.all([
    recorder.record('share_revoked', share.owner, OPERATOR_ORIGIN, details),
    recorder.record('share_revoked', share.grantee, OPERATOR_ORIGIN, details),
  ]);
  return { share, cutOffAt: cutOffAt! };
}

/**
 * Revokes the user's link `id`: removed, so `GET /l/{id}` answers 404 from now on (a presigned
 * URL it handed out lives at most LINK_URL_SECONDS more), and audited (`link_revoked`).
 */
export async function revokeLink(
  context: { readonly target: AdminTarget; readonly log: DomainLog },
  username: Username,
  id: string,
): Promise<LinkRecord> {
  const stores = sharingStores(context.target);
  const link = await findLink(stores, username, id);
  await stores.links.remove(link);
  await auditor(context.target, context.log).record('link_revoked', link.owner, OPERATOR_ORIGIN, {
    linkId: link.id.slice(0, LINK_ID_AUDIT_CHARACTERS),
    path: link.path,
  });
  return link;
}

/** What `users disable` and `users delete` would do to the user's shares and links, for --dry-run. */
export async function sharingPlanSteps(
  target: Pick<AdminTarget, 'dynamo' | 'tableName'>,
  username: Username,
  action: 'disable' | 'delete',
): Promise<string[]> {
  const stores = sharingStores(target);
  const [given, received, links] = await Promise.all([
    stores.shares.listGiven(username),
    action === 'delete' ? stores.shares.listReceived(username) : Promise.resolve([]),
    action === 'delete' ? stores.links.listByOwner(username) : Promise.resolve([]),
  ]);
  if (action === 'disable') {
    return given.length === 0
      ? []
      : [
          `cut off the ${given.length} share(s) ${username} gave (kept; no credentials are vended for them while disabled)`,
        ];
  }
  const steps = [];
  if (given.length + received.length > 0)
    steps.push(`cut off the ${given.length} share(s) ${username} gave and the ${received.length} they received`);
  if (given.length + received.length + links.length > 0)
    steps.push(`remove those shares and ${username}'s ${links.length} link(s)`);
  return steps;
}

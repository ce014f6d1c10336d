/**
 * Shares between users (docs/api.md#shares-and-links): an owner gives a grantee read or
 * read-write access to their whole folder, a folder in it or one file, until an optional end;
 * the grantee vends credentials that reach exactly that (either side ends it: share-revoker.ts).
 * Pure: the stores, the vendor, the cut-off and the clock are ports.
 */
import type { UserRecord, UserStore } from '../accounts/ports';
import { SHARES_PER_OWNER_MAX } from '../contract/limits';
import type { ShareCredentialsResult, ShareList, ShareSummary } from '../contract/wire';
import type { CredentialVendor } from '../credentials/vending';
import { SHARE_GROUP_SESSION_TAG, SHARE_SESSION_TAG, shareRevocationGroup } from '../credentials/revocation';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { NotFoundError, ValidationError } from '../platform/errors';
import type { LiveSession } from '../sessions/ports';
import { hasEnded, isoOrNull, takePlace } from './places';
import type { ShareRecord, ShareStore } from './ports';
import { isGrantId, newGrantId, parseShareCreate } from './requests';
import { renderSharePolicy, sharedPrefix } from './share-policy';

/** What {@link ShareService} needs. */
export interface ShareServiceDependencies {
  /** The live session behind a bearer token and its user (SessionKeeper.live): 401 otherwise. */
  readonly authenticate: (sessionToken: string | undefined) => Promise<LiveSession>;
  readonly users: Pick<UserStore, 'getUser'>;
  readonly shares: ShareStore;
  readonly vendor: Pick<CredentialVendor, 'vendUnder' | 'storageAt' | 'bucketArn' | 'readTotals' | 'usageOf'>;
  readonly auditor: Pick<AuditRecorder, 'record'>;
  readonly clock: Clock;
}

/** The one answer for a share the caller may not act on: the same as an unknown id, so probing learns nothing. */
export const notFound = () => new NotFoundError('No such share.');

/** A share as the wire shows it. */
export function shareSummary(share: ShareRecord): ShareSummary {
  return {
    id: share.id,
    owner: share.owner,
    path: share.path,
    grantee: share.grantee,
    access: share.access,
    expiresAt: isoOrNull(share.expiresAt),
    createdAt: new Date(share.createdAt).toISOString(),
    ...(share.lastUsedAt !== undefined ? { lastUsedAt: new Date(share.lastUsedAt).toISOString() } : {}),
    ...(share.lastUsedBy !== undefined ? { lastUsedBy: share.lastUsedBy } : {}),
  };
}

/** Whether a share still holds for these registrations: the same owner and grantee accounts, not ended. */
function holds(share: ShareRecord, now: number): boolean {
  return !hasEnded(share.expiresAt, now);
}

/** Whether the user record is the owner the share was given by, able to share now. */
function ownerStands(owner: UserRecord | undefined, share: ShareRecord): boolean {
  return owner !== undefined && owner.userId === share.ownerUserId && !owner.disabled;
}

/** Creating and listing shares, and vending their credentials (ending one: share-revoker.ts). */
export class ShareService {
  constructor(private readonly deps: ShareServiceDependencies) {}

  /**
   * `POST /shares`: the caller shares part of their own folder (there is no way to name
   * anyone else's) with an existing, enabled user other than themselves. Every refusal comes
   * before the first write.
   */
  async create(
    sessionToken: string | undefined,
    body: { path?: unknown; grantee?: unknown; access?: unknown; expiresAt?: unknown },
    origin: RequestOrigin = {},
  ): Promise<ShareSummary> {
    const { shares, users, clock, auditor } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    const request = parseShareCreate(body, clock.now());
    if (request.grantee === user.username) throw new ValidationError('You cannot share with yourself.', 'grantee');
    const grantee = await users.getUser(request.grantee);
    if (grantee === undefined || grantee.disabled) throw new ValidationError('grantee: no such user.', 'grantee');
    await takePlace(shares, user.username, user.userId, SHARES_PER_OWNER_MAX, () => this.countLive(user), 'shares');
    const share: ShareRecord = {
      id: newGrantId(),
      owner: user.username,
      ownerUserId: user.userId,
      grantee: grantee.username,
      granteeUserId: grantee.userId,
      path: request.path,
      access: request.access,
      ...(request.expiresAt !== undefined ? { expiresAt: request.expiresAt } : {}),
      createdAt: clock.now(),
    };
    await shares.put(share);
    await auditor.record('share_created', user.username, origin, shareDetails(share));
    return shareSummary(share);
  }

  /** `GET /shares`: the live shares the caller gave and received, oldest first. */
  async list(sessionToken: string | undefined): Promise<ShareList> {
    const { shares, clock } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    const [given, received] = await Promise.all([shares.listGiven(user.username), shares.listReceived(user.username)]);
    const now = clock.now();
    return {
      given: given.filter((share) => share.ownerUserId === user.userId && holds(share, now)).map(shareSummary),
      received: received
        .filter((share) => share.grantee === user.username && share.granteeUserId === user.userId && holds(share, now))
        .map(shareSummary),
    };
  }

  /**
   * `POST /shares/{id}/credentials`: for the grantee only (anyone else: 404), while the share
   * holds, its owner stands (same registration, enabled) and the grantee's own cut-off allows.
   * The credentials carry the grantee's name (revoking the grantee's credentials cuts these off
   * too) and the share's id; their session policy reaches the shared path alone, and ends at
   * the share's end whatever the credentials' own expiration.
   */
  async credentials(
    sessionToken: string | undefined,
    rawId: unknown,
    origin: RequestOrigin = {},
  ): Promise<ShareCredentialsResult> {
    const { shares, users, vendor, clock, auditor } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    if (!isGrantId(rawId)) throw notFound();
    const ownerName = await shares.receivedFrom(user.username, rawId);
    if (ownerName === undefined) throw notFound();
    // The owner's folder totals beside the share and the owner: the share writes into that folder.
    const ownerUsage = vendor.readTotals(ownerName);
    const [share, owner] = await Promise.all([shares.get(ownerName, rawId), users.getUser(ownerName)]);
    if (
      share === undefined ||
      share.grantee !== user.username ||
      share.granteeUserId !== user.userId ||
      !holds(share, clock.now()) ||
      owner === undefined ||
      !ownerStands(owner, share)
    ) {
      throw notFound();
    }
    // The share writes into the owner's folder: the owner's quota decides its writes.
    const usage = await vendor.usageOf(owner, ownerUsage);
    const policy = renderSharePolicy({
      bucketArn: vendor.bucketArn(),
      owner: share.owner,
      path: share.path,
      access: share.access,
      ...(share.expiresAt !== undefined ? { endsAt: share.expiresAt } : {}),
      overQuota: usage.overQuota,
    });
    const credentials = await vendor.vendUnder(user.username, user.cutOffAt, policy, {
      [SHARE_SESSION_TAG]: share.id,
      [SHARE_GROUP_SESSION_TAG]: shareRevocationGroup(share.id),
    });
    const details = shareDetails(share);
    await Promise.all([
      shares.recordUse(share, clock.now(), user.username),
      auditor.record('share_used', share.owner, origin, details),
      auditor.record('share_used', share.grantee, origin, details),
    ]);
    return {
      credentials,
      storage: vendor.storageAt(sharedPrefix(share.owner, share.path), usage),
      access: share.access,
      expiresAt: isoOrNull(share.expiresAt),
    };
  }

  /** The owner's live shares, for the limit's recount: expired ones are removed (their credentials already end with them). */
  private async countLive(user: UserRecord): Promise<number> {
    const { shares, clock } = this.deps;
    const now = clock.now();
    let live = 0;
    for (const share of await shares.listGiven(user.username)) {
      if (share.ownerUserId === user.userId && holds(share, now)) live += 1;
      else await shares.remove(share);
    }
    return live;
  }
}

/** What the audit trail keeps of a share: no secret in it. */
export function shareDetails(share: ShareRecord): Record<string, string> {
  return { shareId: share.id, owner: share.owner, grantee: share.grantee, path: share.path, access: share.access };
}

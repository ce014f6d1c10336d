/**
 * Share links (docs/api.md#shares-and-links): one file of the owner's folder, opened by whoever
 * holds the link's id until it is revoked or ends. Opening vends credentials that reach that one
 * object for at most LINK_URL_SECONDS and answers a presigned GET signed with them. Pure: the
 * stores, the vendor, the presigner and the clock are ports.
 */
import { createHash } from 'node:crypto';
import type { UserRecord, UserStore } from '../accounts/ports';
import { LINK_URL_SECONDS, LINKS_PER_OWNER_MAX } from '../contract/limits';
import type { LinkCreated, LinkList, LinkSummary } from '../contract/wire';
import type { CredentialVendor } from '../credentials/vending';
import { SHARE_GROUP_SESSION_TAG, SHARE_SESSION_TAG, shareRevocationGroup } from '../credentials/revocation';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { NotFoundError } from '../platform/errors';
import type { LiveSession } from '../sessions/ports';
import { hasEnded, isoOrNull, takePlace } from './places';
import type { LinkPresigner, LinkRecord, LinkStore } from './ports';
import { isGrantId, newGrantId, parseLinkCreate } from './requests';
import { renderSharePolicy, sharedPrefix } from './share-policy';

/** What {@link LinkService} needs. */
export interface LinkServiceDependencies {
  readonly authenticate: (sessionToken: string | undefined) => Promise<LiveSession>;
  readonly users: Pick<UserStore, 'getUser'>;
  readonly links: LinkStore;
  readonly vendor: Pick<CredentialVendor, 'vendUnder' | 'bucketArn' | 'storageAt'>;
  readonly presigner: LinkPresigner;
  readonly auditor: Pick<AuditRecorder, 'record'>;
  readonly clock: Clock;
}

/** Characters of a link id kept in the audit trail: enough to tell links apart, far too few to open one. */
export const LINK_ID_AUDIT_CHARACTERS = 6;

/** The one answer for a link that cannot be opened or is not the caller's, whatever the reason. */
const notFound = () => new NotFoundError('No such link, or it has ended.');

/**
 * The `share` session tag of a link's credentials: a digest of the id, never the id itself
 * (session tags are written to CloudTrail, and the id is the bearer secret).
 */
export function linkSessionTag(linkId: string): string {
  return `link:${createHash('sha256').update(linkId, 'utf8').digest('base64url').slice(0, 32)}`;
}

/** The public URL of a link under the API's base URL (no trailing `/`). */
export function linkUrl(apiBaseUrl: string, linkId: string): string {
  return `${apiBaseUrl}/l/${linkId}`;
}

/** What the audit trail keeps of a link: a short prefix of the id, never the id. */
function linkDetails(link: LinkRecord): Record<string, string> {
  return { linkId: link.id.slice(0, LINK_ID_AUDIT_CHARACTERS), path: link.path };
}

/** Whether the owner still stands for this link: the same registration, enabled. */
function ownerStands(owner: UserRecord | undefined, link: LinkRecord): boolean {
  return owner !== undefined && owner.userId === link.ownerUserId && !owner.disabled;
}

/** Creating, listing, revoking and opening share links. */
export class LinkService {
  constructor(private readonly deps: LinkServiceDependencies) {}

  /** `POST /links`: a link to one file of the caller's own folder. */
  async create(
    sessionToken: string | undefined,
    body: { path?: unknown; expiresAt?: unknown },
    apiBaseUrl: string,
    origin: RequestOrigin = {},
  ): Promise<LinkCreated> {
    const { links, clock, auditor } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    const request = parseLinkCreate(body, clock.now());
    await takePlace(links, user.username, user.userId, LINKS_PER_OWNER_MAX, () => this.countLive(user), 'links');
    const link: LinkRecord = {
      id: newGrantId(),
      owner: user.username,
      ownerUserId: user.userId,
      path: request.path,
      ...(request.expiresAt !== undefined ? { expiresAt: request.expiresAt } : {}),
      createdAt: clock.now(),
    };
    await links.put(link);
    await auditor.record('link_created', user.username, origin, linkDetails(link));
    return { id: link.id, url: linkUrl(apiBaseUrl, link.id), expiresAt: isoOrNull(link.expiresAt) };
  }

  /** `GET /links`: the caller's live links, oldest first. */
  async list(sessionToken: string | undefined, apiBaseUrl: string): Promise<LinkList> {
    const { links, clock } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    const now = clock.now();
    const mine = (await links.listByOwner(user.username)).filter(
      (link) => link.ownerUserId === user.userId && !hasEnded(link.expiresAt, now),
    );
    return { links: mine.map((link) => linkSummary(link, apiBaseUrl)) };
  }

  /** `DELETE /links/{id}`: the owner revokes a link; it answers 404 from then on. Anyone else: 404. */
  async remove(sessionToken: string | undefined, rawId: unknown, origin: RequestOrigin = {}): Promise<void> {
    const { links, auditor } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    if (!isGrantId(rawId)) throw notFound();
    const link = await links.get(rawId);
    if (link === undefined || link.owner !== user.username || link.ownerUserId !== user.userId) throw notFound();
    await links.remove(link);
    await auditor.record('link_revoked', user.username, origin, linkDetails(link));
  }

  /**
   * `GET /l/{id}` (no authentication: the id is the secret): a presigned GET URL of exactly the
   * linked object, valid at most LINK_URL_SECONDS and never past the link's end, signed with
   * credentials vended under the owner's name whose policy reaches that object alone. An
   * unknown, revoked or ended link, or one whose owner is gone or disabled: 404.
   */
  async open(rawId: unknown, origin: RequestOrigin = {}): Promise<string> {
    const { links, users, vendor, presigner, clock, auditor } = this.deps;
    if (!isGrantId(rawId)) throw notFound();
    const link = await links.get(rawId);
    if (link === undefined || hasEnded(link.expiresAt, clock.now())) throw notFound();
    const owner = await users.getUser(link.owner);
    if (!ownerStands(owner, link)) throw notFound();
    const urlEnd = clock.now() + LINK_URL_SECONDS * 1000;
    const policy = renderSharePolicy({
      bucketArn: vendor.bucketArn(),
      owner: link.owner,
      path: link.path,
      access: 'read',
      endsAt: link.expiresAt === undefined ? urlEnd : Math.min(link.expiresAt, urlEnd),
    });
    const tag = linkSessionTag(link.id);
    const credentials = await vendor.vendUnder(link.owner, owner?.cutOffAt, policy, {
      [SHARE_SESSION_TAG]: tag,
      [SHARE_GROUP_SESSION_TAG]: shareRevocationGroup(tag),
    });
    const { bucket } = vendor.storageAt('');
    const url = await presigner.presignGet(credentials, bucket, sharedPrefix(link.owner, link.path), LINK_URL_SECONDS);
    await Promise.all([
      links.recordOpen(link, clock.now(), origin.sourceIp ?? 'unknown'),
      auditor.record('link_opened', link.owner, origin, linkDetails(link)),
    ]);
    return url;
  }

  /** The owner's live links, for the limit's recount: ended ones are removed. */
  private async countLive(user: UserRecord): Promise<number> {
    const { links, clock } = this.deps;
    const now = clock.now();
    let live = 0;
    for (const link of await links.listByOwner(user.username)) {
      if (link.ownerUserId === user.userId && !hasEnded(link.expiresAt, now)) live += 1;
      else await links.remove(link);
    }
    return live;
  }
}

/** A link as `GET /links` lists it. */
export function linkSummary(link: LinkRecord, apiBaseUrl: string): LinkSummary {
  return {
    id: link.id,
    url: linkUrl(apiBaseUrl, link.id),
    expiresAt: isoOrNull(link.expiresAt),
    path: link.path,
    createdAt: new Date(link.createdAt).toISOString(),
    ...(link.lastUsedAt !== undefined ? { lastUsedAt: new Date(link.lastUsedAt).toISOString() } : {}),
    ...(link.lastUsedBy !== undefined ? { lastUsedBy: link.lastUsedBy } : {}),
  };
}

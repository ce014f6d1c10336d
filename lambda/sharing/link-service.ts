/**
 * Share links (docs/api.md#shares-and-links): one file of the owner's folder, opened by whoever
 * holds the link's id until it is revoked or ends (opening one: link-opener.ts). Pure: the store
 * and the clock are ports.
 */
import { createHash } from 'node:crypto';
import type { UserRecord, UserStore } from '../accounts/ports';
import { LINKS_PER_OWNER_MAX } from '../contract/limits';
import type { LinkCreated, LinkList, LinkSummary } from '../contract/wire';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { NotFoundError } from '../platform/errors';
import type { LiveSession } from '../sessions/ports';
import { hasEnded, isoOrNull, takePlace } from './places';
import type { LinkRecord, LinkStore } from './ports';
import { isGrantId, newGrantId, parseLinkCreate } from './requests';

/** What {@link LinkService} needs. */
export interface LinkServiceDependencies {
  readonly authenticate: (sessionToken: string | undefined) => Promise<LiveSession>;
  readonly users: Pick<UserStore, 'getUser'>;
  readonly links: LinkStore;
  readonly auditor: Pick<AuditRecorder, 'record'>;
  readonly clock: Clock;
}

/** Characters of a link id kept in the audit trail: enough to tell links apart, far too few to open one. */
export const LINK_ID_AUDIT_CHARACTERS = 6;

/** The one answer for a link that cannot be opened or is not the caller's, whatever the reason. */
export const notFound = () => new NotFoundError('No such link, or it has ended.');

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
export function linkDetails(link: LinkRecord): Record<string, string> {
  return { linkId: link.id.slice(0, LINK_ID_AUDIT_CHARACTERS), path: link.path };
}

/** Creating, listing and revoking share links (opening one: link-opener.ts). */
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

/**
 * Opening a share link (`GET /l/{id}`, no authentication: the id is the secret): credentials
 * vended for that one object, and a presigned GET signed with them. Apart from LinkService
 * because only this route needs the presigner (and the S3 client it carries). Pure.
 */
import type { UserRecord, UserStore } from '../accounts/ports';
import { LINK_URL_SECONDS } from '../contract/limits';
import type { CredentialVendor } from '../credentials/vending';
import { SHARE_GROUP_SESSION_TAG, SHARE_SESSION_TAG, shareRevocationGroup } from '../credentials/revocation';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { linkDetails, linkSessionTag, notFound } from './link-service';
import { hasEnded } from './places';
import type { LinkPresigner, LinkRecord, LinkStore } from './ports';
import { isGrantId } from './requests';
import { renderSharePolicy, sharedPrefix } from './share-policy';

/** What {@link LinkOpener} needs. */
export interface LinkOpenerDependencies {
  readonly users: Pick<UserStore, 'getUser'>;
  readonly links: Pick<LinkStore, 'get' | 'recordOpen'>;
  readonly vendor: Pick<CredentialVendor, 'vendUnder' | 'bucketArn' | 'bucketName'>;
  readonly presigner: LinkPresigner;
  readonly auditor: Pick<AuditRecorder, 'record'>;
  readonly clock: Clock;
}

/** Whether the owner still stands for this link: the same registration, enabled. */
function ownerStands(owner: UserRecord | undefined, link: LinkRecord): owner is UserRecord {
  return owner !== undefined && owner.userId === link.ownerUserId && !owner.disabled;
}

/** Opens share links. */
export class LinkOpener {
  constructor(private readonly deps: LinkOpenerDependencies) {}

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
    const credentials = await vendor.vendUnder(link.owner, owner.cutOffAt, policy, {
      [SHARE_SESSION_TAG]: tag,
      [SHARE_GROUP_SESSION_TAG]: shareRevocationGroup(tag),
    });
    const url = await presigner.presignGet(
      credentials,
      vendor.bucketName(),
      sharedPrefix(link.owner, link.path),
      LINK_URL_SECONDS,
    );
    await Promise.all([
      links.recordOpen(link, clock.now(), origin.sourceIp ?? 'unknown'),
      auditor.record('link_opened', link.owner, origin, linkDetails(link)),
    ]);
    return url;
  }
}

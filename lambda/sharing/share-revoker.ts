/**
 * Ending a share (`DELETE /shares/{id}`): the owner revokes or the grantee leaves, and
 * credentials already issued for it are cut off before the records go. Apart from ShareService
 * because only this route needs the cut-off (and its adapter's Lambda client). Pure.
 */
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { LiveSession } from '../sessions/ports';
import type { ShareCutOff, ShareRecord, ShareStore } from './ports';
import { isGrantId } from './requests';
import { notFound, shareDetails } from './share-service';

/** What {@link ShareRevoker} needs. */
export interface ShareRevokerDependencies {
  readonly authenticate: (sessionToken: string | undefined) => Promise<LiveSession>;
  readonly shares: Pick<ShareStore, 'get' | 'receivedFrom' | 'remove'>;
  readonly cutOff: ShareCutOff;
  readonly auditor: Pick<AuditRecorder, 'record'>;
}

/** Ends shares, by their owner or their grantee. */
export class ShareRevoker {
  constructor(private readonly deps: ShareRevokerDependencies) {}

  /**
   * `DELETE /shares/{id}`: the owner revokes or the grantee leaves. Credentials already issued
   * for the share are cut off first, then the records go. Anyone else: 404.
   */
  async remove(sessionToken: string | undefined, rawId: unknown, origin: RequestOrigin = {}): Promise<void> {
    const { shares, cutOff, auditor } = this.deps;
    const { user } = await this.deps.authenticate(sessionToken);
    if (!isGrantId(rawId)) throw notFound();
    const [given, ownerName] = await Promise.all([
      shares.get(user.username, rawId),
      shares.receivedFrom(user.username, rawId),
    ]);
    let share: ShareRecord | undefined;
    let type: 'share_revoked' | 'share_left';
    if (given !== undefined && given.ownerUserId === user.userId) {
      share = given;
      type = 'share_revoked';
    } else {
      const received = ownerName === undefined ? undefined : await shares.get(ownerName, rawId);
      if (received === undefined || received.grantee !== user.username || received.granteeUserId !== user.userId) {
        throw notFound();
      }
      share = received;
      type = 'share_left';
    }
    await cutOff.cutOff([share.id]);
    await shares.remove(share);
    const details = shareDetails(share);
    await Promise.all([
      auditor.record(type, share.owner, origin, details),
      auditor.record(type, share.grantee, origin, details),
    ]);
  }
}

/**
 * In-memory stand-ins for what an account's lifecycle does to shares and links
 * (lambda/sharing/share-lifecycle.ts): the share and link stores' listing and removal, and a
 * cut-off that records which share ids were cut off, in order. Plain objects, no mocks.
 */
import { randomBytes } from 'node:crypto';
import type { Username } from '../../lambda/accounts/username';
import type { LinkRecord, LinkStore, ShareCutOff, ShareRecord, ShareStore } from '../../lambda/sharing/ports';
import { parseSharePath } from '../../lambda/sharing/share-path';

/** Shares keyed by id: the canonical records; `given`/`received` are derived as the real store derives them. */
export class MemoryShareStore implements Pick<ShareStore, 'listGiven' | 'listReceived' | 'remove'> {
  readonly shares = new Map<string, ShareRecord>();

  /** Adds a share from `owner` to `grantee` (registration ids as given) and returns it. */
  add(owner: Username, grantee: Username, ids: { ownerUserId?: string; granteeUserId?: string } = {}): ShareRecord {
    const share: ShareRecord = {
      id: randomBytes(24).toString('base64url'),
      owner,
      ownerUserId: ids.ownerUserId ?? `${owner}-1`,
      grantee,
      granteeUserId: ids.granteeUserId ?? `${grantee}-1`,
      path: parseSharePath('photos/'),
      access: 'read',
      createdAt: this.shares.size,
    };
    this.shares.set(share.id, share);
    return share;
  }

  async listGiven(owner: Username): Promise<ShareRecord[]> {
    return [...this.shares.values()].filter((share) => share.owner === owner);
  }

  async listReceived(grantee: Username): Promise<ShareRecord[]> {
    return [...this.shares.values()].filter((share) => share.grantee === grantee);
  }

  async remove(share: ShareRecord): Promise<void> {
    this.shares.delete(share.id);
  }
}

/** Links keyed by id. */
export class MemoryLinkStore implements Pick<LinkStore, 'listByOwner' | 'remove'> {
  readonly links = new Map<string, LinkRecord>();

  add(owner: Username): LinkRecord {
    const link: LinkRecord = {
      id: randomBytes(24).toString('base64url'),
      owner,
      ownerUserId: `${owner}-1`,
      path: parseSharePath('photos/a.jpg', 'path', { file: true }),
      createdAt: this.links.size,
    };
    this.links.set(link.id, link);
    return link;
  }

  async listByOwner(owner: Username): Promise<LinkRecord[]> {
    return [...this.links.values()].filter((link) => link.owner === owner);
  }

  async remove(link: LinkRecord): Promise<void> {
    this.links.delete(link.id);
  }
}

/** A cut-off that remembers every share id it was given, and can be told what else happens at that moment. */
export class RecordingShareCutOff implements ShareCutOff {
  readonly cutOff: ShareCutOff['cutOff'];
  readonly ids: string[] = [];
  /** What each call saw: the stores' share ids still present when it ran. */
  readonly presentAtCall: string[][] = [];

  constructor(present: () => string[] = () => []) {
    this.cutOff = async (shareIds) => {
      this.presentAtCall.push(present());
      this.ids.push(...shareIds);
    };
  }
}

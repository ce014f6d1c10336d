/**
 * What an account's lifecycle does to its shares and links (design item 6), for the self-service
 * deletion worker and tvm-admin alike:
 *
 * - disable: every share the user GAVE is cut off (a cut-off entry each, so credentials already
 *   issued to grantees stop); the records stay, and no vend passes the owner check while the
 *   user is disabled. Links need nothing: `GET /l/{id}` refuses a disabled owner.
 * - delete: every share the user gave or RECEIVED is cut off first, then removed (canonical
 *   record and the grantee's pointer), and every link is removed, so a later account under the
 *   freed name inherits none of them.
 *
 * The cut-off port only records the entries when the caller applies the list itself right after
 * (the worker, tvm-admin); every entry is pending until applied, so none is lost either way.
 * Pure: the stores and the cut-off are ports (lambda/sharing/ports.ts).
 */
import type { Username } from '../platform/identity';
import type { LinkStore, ShareCutOff, ShareRecord, ShareStore } from './ports';

/** What {@link SharingLifecycle} needs. */
export interface SharingLifecycleDependencies {
  readonly shares: Pick<ShareStore, 'listGiven' | 'listReceived' | 'remove'>;
  readonly links: Pick<LinkStore, 'listByOwner' | 'remove'>;
  readonly cutOff: ShareCutOff;
}

/** What {@link SharingLifecycle.removeAll} removed. */
export interface SharingRemoved {
  readonly given: number;
  readonly received: number;
  readonly links: number;
}

/** The shares and links of one account, as its disable and deletion treat them. */
export class SharingLifecycle {
  constructor(private readonly deps: SharingLifecycleDependencies) {}

  /** Cuts off every share the user gave (their grantees' issued credentials). Returns how many. */
  async cutOffGiven(username: Username): Promise<number> {
    const given = await this.deps.shares.listGiven(username);
    await this.deps.cutOff.cutOff(given.map((share) => share.id));
    return given.length;
  }

  /** Cuts off every share the user gave or received. Returns how many. */
  async cutOffAll(username: Username): Promise<number> {
    const shares = await this.sharesOf(username);
    await this.deps.cutOff.cutOff(shares.map((share) => share.id));
    return shares.length;
  }

  /**
   * Removes every share the user gave or received, each cut off first (again: a share that
   * appeared since {@link cutOffAll} is covered too), and every link the user has.
   */
  async removeAll(username: Username): Promise<SharingRemoved> {
    const { shares, links, cutOff } = this.deps;
    const [given, received, owned] = await Promise.all([
      shares.listGiven(username),
      shares.listReceived(username),
      links.listByOwner(username),
    ]);
    const all = unique([...given, ...received]);
    await cutOff.cutOff(all.map((share) => share.id));
    for (const share of all) await shares.remove(share);
    for (const link of owned) await links.remove(link);
    return { given: given.length, received: received.length, links: owned.length };
  }

  private async sharesOf(username: Username): Promise<ShareRecord[]> {
    const [given, received] = await Promise.all([
      this.deps.shares.listGiven(username),
      this.deps.shares.listReceived(username),
    ]);
    return unique([...given, ...received]);
  }
}

/** Shares by id, each once. */
function unique(shares: readonly ShareRecord[]): ShareRecord[] {
  return [...new Map(shares.map((share) => [share.id, share])).values()];
}

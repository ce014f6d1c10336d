/**
 * In-memory fakes of the sharing ports (lambda/sharing/ports.ts), keeping the DynamoDB layout's
 * shape: a canonical share in the owner's partition and a pointer in the grantee's, per-owner
 * counters on the user, canonical links and the owner's listing items. For tests only.
 */
import { parseRegisterRequest } from '../../lambda/accounts/requests';
import type { Username } from '../../lambda/accounts/username';
import type { IssuedCredentials } from '../../lambda/contract/wire';
import type {
  LinkPresigner,
  LinkRecord,
  LinkStore,
  ShareCutOff,
  ShareRecord,
  ShareStore,
} from '../../lambda/sharing/ports';
import { createServices, createSharingServices } from '../../lambda/services';
import { inMemoryBackend } from './in-memory';
import { Faults, waitFor, type FakeOptions } from './in-memory-platform';

/**
 * A counter per owner. The adapter also ties it to the registration (`userId`) on the user item;
 * these fakes keep no user items, so that condition is the integration tests' to check.
 */
class Counters {
  private readonly counts = new Map<Username, number>();

  reserve(owner: Username, max: number): boolean {
    const count = this.counts.get(owner) ?? 0;
    if (count >= max) return false;
    this.counts.set(owner, count + 1);
    return true;
  }

  set(owner: Username, count: number): void {
    this.counts.set(owner, count);
  }

  release(owner: Username): void {
    const count = this.counts.get(owner) ?? 0;
    if (count > 0) this.counts.set(owner, count - 1);
  }

  get(owner: Username): number {
    return this.counts.get(owner) ?? 0;
  }
}

type ShareMethod = 'reserve' | 'recount' | 'put' | 'get' | 'receivedFrom' | 'recordUse' | 'list' | 'remove';

/** {@link ShareStore} in memory. */
export class InMemoryShareStore implements ShareStore {
  /** Canonical records by id. */
  private readonly canonical = new Map<string, ShareRecord>();
  /** The grantee's pointers: `<grantee>#<id>` to the owner. */
  private readonly pointers = new Map<string, Username>();
  private readonly counters = new Counters();
  private readonly faults = new Faults<ShareMethod>();
  readonly calls = new Map<ShareMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: ShareMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async reserve(owner: Username, _ownerUserId: string, max: number): Promise<boolean> {
    await this.faults.enter('reserve', this.calls, this.wait);
    return this.counters.reserve(owner, max);
  }

  async recount(owner: Username, _ownerUserId: string, count: number): Promise<void> {
    await this.faults.enter('recount', this.calls, this.wait);
    this.counters.set(owner, count);
  }

  async put(share: ShareRecord): Promise<void> {
    await this.faults.enter('put', this.calls, this.wait);
    this.pointers.set(`${share.grantee}#${share.id}`, share.owner);
    this.canonical.set(share.id, { ...share });
  }

  async get(owner: Username, id: string): Promise<ShareRecord | undefined> {
    await this.faults.enter('get', this.calls, this.wait);
    const share = this.canonical.get(id);
    return share && share.owner === owner ? { ...share } : undefined;
  }

  async receivedFrom(grantee: Username, id: string): Promise<Username | undefined> {
    await this.faults.enter('receivedFrom', this.calls, this.wait);
    return this.pointers.get(`${grantee}#${id}`);
  }

  async recordUse(share: ShareRecord, at: number, by: Username): Promise<void> {
    await this.faults.enter('recordUse', this.calls, this.wait);
    const stored = this.canonical.get(share.id);
    if (stored) this.canonical.set(share.id, { ...stored, lastUsedAt: at, lastUsedBy: by });
  }

  async listGiven(owner: Username): Promise<ShareRecord[]> {
    await this.faults.enter('list', this.calls, this.wait);
    return [...this.canonical.values()]
      .filter((share) => share.owner === owner)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((share) => ({ ...share }));
  }

  async listReceived(grantee: Username): Promise<ShareRecord[]> {
    await this.faults.enter('list', this.calls, this.wait);
    return [...this.pointers.entries()]
      .filter(([key]) => key.startsWith(`${grantee}#`))
      .map(([key, owner]) => this.canonical.get(key.slice(grantee.length + 1)) ?? { owner, missing: true })
      .filter((share): share is ShareRecord => !('missing' in share) && share.grantee === grantee)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((share) => ({ ...share }));
  }

  async remove(share: ShareRecord): Promise<void> {
    await this.faults.enter('remove', this.calls, this.wait);
    const existed = this.canonical.delete(share.id);
    this.pointers.delete(`${share.grantee}#${share.id}`);
    if (existed) this.counters.release(share.owner);
  }

  /** Test helper: the owner's counter. */
  count(owner: Username): number {
    return this.counters.get(owner);
  }

  /** Test helper: every canonical record and pointer, for "nothing was written" checks. */
  snapshot(): string {
    return JSON.stringify({ shares: [...this.canonical.entries()], pointers: [...this.pointers.entries()] });
  }
}

type LinkMethod = 'reserve' | 'recount' | 'put' | 'get' | 'recordOpen' | 'list' | 'remove';

/** {@link LinkStore} in memory. */
export class InMemoryLinkStore implements LinkStore {
  private readonly links = new Map<string, LinkRecord>();
  private readonly counters = new Counters();
  private readonly faults = new Faults<LinkMethod>();
  readonly calls = new Map<LinkMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: LinkMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  async reserve(owner: Username, _ownerUserId: string, max: number): Promise<boolean> {
    await this.faults.enter('reserve', this.calls, this.wait);
    return this.counters.reserve(owner, max);
  }

  async recount(owner: Username, _ownerUserId: string, count: number): Promise<void> {
    await this.faults.enter('recount', this.calls, this.wait);
    this.counters.set(owner, count);
  }

  async put(link: LinkRecord): Promise<void> {
    await this.faults.enter('put', this.calls, this.wait);
    this.links.set(link.id, { ...link });
  }

  async get(id: string): Promise<LinkRecord | undefined> {
    await this.faults.enter('get', this.calls, this.wait);
    const link = this.links.get(id);
    return link ? { ...link } : undefined;
  }

  async recordOpen(link: LinkRecord, at: number, by: string): Promise<void> {
    await this.faults.enter('recordOpen', this.calls, this.wait);
    const stored = this.links.get(link.id);
    if (stored) this.links.set(link.id, { ...stored, lastUsedAt: at, lastUsedBy: by });
  }

  async listByOwner(owner: Username): Promise<LinkRecord[]> {
    await this.faults.enter('list', this.calls, this.wait);
    return [...this.links.values()]
      .filter((link) => link.owner === owner)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((link) => ({ ...link }));
  }

  async remove(link: LinkRecord): Promise<void> {
    await this.faults.enter('remove', this.calls, this.wait);
    if (this.links.delete(link.id)) this.counters.release(link.owner);
  }

  /** Test helper: the owner's counter. */
  count(owner: Username): number {
    return this.counters.get(owner);
  }

  /** Test helper: every stored link, for "nothing was written" checks. */
  snapshot(): string {
    return JSON.stringify([...this.links.entries()]);
  }
}

/** Records every cut-off asked for, in order. */
export class RecordingShareCutOff implements ShareCutOff {
  readonly cutOffIds: string[] = [];
  private readonly faults = new Faults<'cutOff'>();
  readonly calls = new Map<'cutOff', number>();

  failNext(error?: unknown): void {
    this.faults.failNext('cutOff', error);
  }

  async cutOff(shareIds: readonly string[]): Promise<void> {
    await this.faults.enter('cutOff', this.calls, undefined);
    this.cutOffIds.push(...shareIds);
  }
}

/** A presigner that answers a readable fake URL naming what it signed. */
export class FakePresigner implements LinkPresigner {
  readonly signed: { credentials: IssuedCredentials; bucket: string; key: string; seconds: number }[] = [];

  async presignGet(credentials: IssuedCredentials, bucket: string, key: string, seconds: number): Promise<string> {
    this.signed.push({ credentials, bucket, key, seconds });
    return `https://${bucket}.s3.example/${encodeURIComponent(key)}?X-Amz-Expires=${seconds}&X-Amz-Credential=${credentials.accessKeyId}`;
  }
}

/** The whole in-memory backend with sharing: the services, the sharing services and every fake. */
export function inMemorySharing(options: Parameters<typeof inMemoryBackend>[0] = {}) {
  const backend = inMemoryBackend(options);
  const services = createServices(backend);
  const shares = new InMemoryShareStore();
  const links = new InMemoryLinkStore();
  const shareCutOff = new RecordingShareCutOff();
  const presigner = new FakePresigner();
  const built = createSharingServices(services, { ...backend, shares, links });
  const sharing = { ...built, revoker: built.revoker(shareCutOff), opener: built.opener(presigner) };
  /** Registers `username` and answers their session token. */
  const register = async (username: string): Promise<string> =>
    (await services.accounts.register(parseRegisterRequest({ username, password: 'correct horse battery' }))).session
      .token;
  return { backend, services, sharing, shares, links, shareCutOff, presigner, register };
}

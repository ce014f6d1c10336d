/**
 * An in-memory {@link IdentityStore} (lambda/identities/ports.ts) keeping the DynamoDB layout's
 * shape: the canonical link keyed by (issuer, subject), and a pointer in the user's partition
 * that is believed only when the canonical link confirms the same registration (`userId`).
 * For tests only.
 */
import { createHash } from 'node:crypto';
import type { Username } from '../../lambda/accounts/username';
import type { IdentityLink, IdentityStore } from '../../lambda/identities/ports';
import { Faults, waitFor, type FakeOptions } from './in-memory-platform';

type IdentityMethod = 'get' | 'create' | 'listByUser' | 'remove';

const canonicalKey = (issuer: string, subject: string) => `${issuer}\n${subject}`;

/** A link's public id as the design derives it: the identity's hash, never the subject itself. */
export function identityId(issuer: string, subject: string): string {
  return createHash('sha256').update(canonicalKey(issuer, subject)).digest('base64url').slice(0, 32);
}

/** {@link IdentityStore} in memory. */
export class InMemoryIdentityStore implements IdentityStore {
  /** Canonical links by (issuer, subject). */
  readonly canonical = new Map<string, IdentityLink>();
  /** The users' pointers: `<username>` to the canonical keys listed in their partition. */
  readonly pointers = new Map<Username, Set<string>>();
  private readonly faults = new Faults<IdentityMethod>();
  readonly calls = new Map<IdentityMethod, number>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = {}) {
    this.wait = waitFor(options);
  }

  failNext(method: IdentityMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  /** Links an identity to an account directly (test setup); returns the link. */
  seed(
    username: Username,
    userId: string,
    issuer: string,
    subject: string,
    provider = 'dev',
    linkedAt = 0,
  ): IdentityLink {
    const link: IdentityLink = {
      id: identityId(issuer, subject),
      issuer,
      subject,
      provider,
      username,
      userId,
      linkedAt,
    };
    this.canonical.set(canonicalKey(issuer, subject), link);
    this.pointerSet(username).add(canonicalKey(issuer, subject));
    return link;
  }

  async get(issuer: string, subject: string): Promise<IdentityLink | undefined> {
    await this.faults.enter('get', this.calls, this.wait);
    return this.canonical.get(canonicalKey(issuer, subject));
  }

  async create(link: IdentityLink): Promise<boolean> {
    await this.faults.enter('create', this.calls, this.wait);
    const key = canonicalKey(link.issuer, link.subject);
    if (this.canonical.has(key)) return false;
    this.canonical.set(key, link);
    this.pointerSet(link.username).add(key);
    return true;
  }

  async listByUser(username: Username, userId: string): Promise<IdentityLink[]> {
    await this.faults.enter('listByUser', this.calls, this.wait);
    const links: IdentityLink[] = [];
    for (const key of this.pointers.get(username) ?? []) {
      const link = this.canonical.get(key);
      // A pointer is believed only when the canonical link confirms the same registration.
      if (link && link.username === username && link.userId === userId) links.push(link);
    }
    return links.sort((a, b) => a.linkedAt - b.linkedAt);
  }

  async remove(link: IdentityLink): Promise<void> {
    await this.faults.enter('remove', this.calls, this.wait);
    const key = canonicalKey(link.issuer, link.subject);
    const current = this.canonical.get(key);
    // Only this registration's link: one the identity got since (another account) stays.
    if (current && current.userId === link.userId) this.canonical.delete(key);
    this.pointers.get(link.username)?.delete(key);
  }

  private pointerSet(username: Username): Set<string> {
    let set = this.pointers.get(username);
    if (!set) {
      set = new Set();
      this.pointers.set(username, set);
    }
    return set;
  }
}

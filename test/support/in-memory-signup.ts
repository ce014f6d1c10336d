/**
 * An in-memory {@link InviteStore} with the DynamoDB adapter's conditions: each change is one
 * atomic step after a yield, so parallel registrations really race. For tests only.
 */
import type { InviteClaim, InviteRecord, InviteStore } from '../../lambda/signup/ports';
import { Faults, waitFor, type FakeOptions } from './in-memory-platform';

type InviteMethod = 'create' | 'get' | 'claim' | 'release' | 'markUsed' | 'revoke' | 'list';

/** Invites by code hash, in memory. */
export class InMemoryInviteStore implements InviteStore {
  readonly records = new Map<string, InviteRecord>();
  readonly calls = new Map<InviteMethod, number>();
  private readonly faults = new Faults<InviteMethod>();
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(options: FakeOptions = { yieldEachCall: true }) {
    this.wait = waitFor(options);
  }

  /** The next call of `method` fails (a 503 by default). */
  failNext(method: InviteMethod, error?: unknown): void {
    this.faults.failNext(method, error);
  }

  /** How many writes were made (create aside): a refused guess must make none. */
  get writes(): number {
    return ['claim', 'release', 'markUsed', 'revoke'].reduce(
      (sum, method) => sum + (this.calls.get(method as InviteMethod) ?? 0),
      0,
    );
  }

  async create(record: InviteRecord): Promise<boolean> {
    await this.faults.enter('create', this.calls, this.wait);
    if (this.records.has(record.codeHash)) return false;
    this.records.set(record.codeHash, record);
    return true;
  }

  async get(codeHash: string): Promise<InviteRecord | undefined> {
    await this.faults.enter('get', this.calls, this.wait);
    return this.records.get(codeHash);
  }

  async claim(codeHash: string, claim: InviteClaim, replacing?: string): Promise<boolean> {
    await this.faults.enter('claim', this.calls, this.wait);
    const record = this.records.get(codeHash);
    if (!record || record.expiresAt <= claim.at || record.usedBy !== undefined) return false;
    if (replacing === undefined ? record.claim !== undefined : record.claim?.userId !== replacing) return false;
    this.records.set(codeHash, { ...record, claim });
    return true;
  }

  async release(codeHash: string, userId: string): Promise<boolean> {
    await this.faults.enter('release', this.calls, this.wait);
    const record = this.records.get(codeHash);
    if (!record || record.claim?.userId !== userId || record.usedBy !== undefined) return false;
    const { claim: _released, ...rest } = record;
    this.records.set(codeHash, rest);
    return true;
  }

  async markUsed(codeHash: string, claim: InviteClaim): Promise<boolean> {
    await this.faults.enter('markUsed', this.calls, this.wait);
    const record = this.records.get(codeHash);
    if (!record || record.claim?.userId !== claim.userId) return false;
    const { claim: _done, ...rest } = record;
    this.records.set(codeHash, { ...rest, usedBy: claim.username, usedAt: claim.at });
    return true;
  }

  async revoke(codeHash: string): Promise<boolean> {
    await this.faults.enter('revoke', this.calls, this.wait);
    const record = this.records.get(codeHash);
    if (!record || record.usedBy !== undefined) return false;
    this.records.delete(codeHash);
    return true;
  }

  async list(): Promise<InviteRecord[]> {
    await this.faults.enter('list', this.calls, this.wait);
    return [...this.records.values()];
  }
}

/**
 * The operator's side of invites (`tvm-admin invites create|list|revoke`; docs/operating.md#invites):
 * codes are shown once, when made; only their hashes are stored.
 */
import { INVITE_MAX_LIFETIME_DAYS, INVITES_PER_COMMAND_MAX } from '../contract/limits';
import type { Clock } from '../platform/clock';
import { NotFoundError, ValidationError } from '../platform/errors';
import { hashInviteCode, inviteId, isInviteId, isWellFormedInviteCode, newInviteCode } from '../signup/invite-code';
import type { InviteRecord, InviteStore } from '../signup/ports';
import { INVITE_CLAIM_LEASE_MS } from '../signup/registration-gate';

/** An invite's lifetime when `--expires` is not given. */
export const DEFAULT_INVITE_LIFETIME = '7d';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** What an operator sees of an invite: its id (a prefix of the hash), never the code. */
export interface InviteView {
  readonly id: string;
  /** `unused`, `used`, `expired`, or `pending` (a registration holds it right now). */
  readonly state: 'unused' | 'used' | 'expired' | 'pending';
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedBy?: string;
  readonly usedAt?: string;
}

/**
 * A lifetime such as `7d` or `12h` (whole days or hours), at least an hour and at most
 * {@link INVITE_MAX_LIFETIME_DAYS} days; anything else is a ValidationError naming `--expires`.
 */
export function parseInviteLifetime(raw: string): number {
  const match = /^(\d{1,4})([dh])$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * (match[2] === 'd' ? DAY_MS : HOUR_MS) : Number.NaN;
  if (!(ms >= HOUR_MS && ms <= INVITE_MAX_LIFETIME_DAYS * DAY_MS))
    throw new ValidationError(
      `--expires must be whole days or hours such as 7d or 12h, from 1h to ${INVITE_MAX_LIFETIME_DAYS}d.`,
      '--expires',
    );
  return ms;
}

/** A `--count`: a whole number from 1 to {@link INVITES_PER_COMMAND_MAX}. */
export function parseInviteCount(raw: string): number {
  const count = /^\d{1,5}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!(count >= 1 && count <= INVITES_PER_COMMAND_MAX))
    throw new ValidationError(`--count must be a whole number from 1 to ${INVITES_PER_COMMAND_MAX}.`, '--count');
  return count;
}

/** Makes, lists and revokes invites. */
export class InviteAdmin {
  constructor(private readonly deps: { readonly invites: InviteStore; readonly clock: Clock }) {}

  /** `count` new invites valid for `lifetimeMs`; the codes are returned once and never stored. */
  async create(count: number, lifetimeMs: number): Promise<{ codes: string[]; ids: string[]; expiresAt: string }> {
    const now = this.deps.clock.now();
    const expiresAt = now + lifetimeMs;
    const codes: string[] = [];
    while (codes.length < count) {
      const code = newInviteCode();
      // A 128-bit collision is not expected; a refused write only means "draw again".
      if (await this.deps.invites.create({ codeHash: hashInviteCode(code), createdAt: now, expiresAt }))
        codes.push(code);
    }
    return {
      codes,
      ids: codes.map((code) => inviteId(hashInviteCode(code))),
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  /** Every stored invite, newest first. */
  async list(): Promise<InviteView[]> {
    const now = this.deps.clock.now();
    return (await this.deps.invites.list())
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((record) => view(record, now));
  }

  /**
   * Removes an unused invite, named by its code or by its id from {@link list}; a used one
   * stays (it is the record of who signed up with it) and is refused with a clear message.
   */
  async revoke(codeOrId: string): Promise<InviteView> {
    const record = await this.find(codeOrId.trim());
    const now = this.deps.clock.now();
    if (record.usedBy !== undefined)
      throw new ValidationError(`Invite ${inviteId(record.codeHash)} was already used by ${record.usedBy}.`, 'invite');
    if (!(await this.deps.invites.revoke(record.codeHash)))
      throw new NotFoundError(`Invite ${inviteId(record.codeHash)} changed meanwhile; run the command again.`);
    return view(record, now);
  }

  /** The invite named by its code or its id, as the operator sees it (reads only). */
  async show(codeOrId: string): Promise<InviteView> {
    return view(await this.find(codeOrId.trim()), this.deps.clock.now());
  }

  private async find(codeOrId: string): Promise<InviteRecord> {
    if (isWellFormedInviteCode(codeOrId)) {
      const found = await this.deps.invites.get(hashInviteCode(codeOrId));
      if (found) return found;
      throw new NotFoundError('No invite has that code.');
    }
    if (!isInviteId(codeOrId))
      throw new ValidationError('Give an invite code, or an invite id from invites list.', 'invite');
    const found = (await this.deps.invites.list()).find((record) => inviteId(record.codeHash) === codeOrId);
    if (!found) throw new NotFoundError(`No invite ${codeOrId}; see invites list.`);
    return found;
  }
}

function view(record: InviteRecord, now: number): InviteView {
  const state =
    record.usedBy !== undefined
      ? 'used'
      : record.expiresAt <= now
        ? 'expired'
        : record.claim && now - record.claim.at < INVITE_CLAIM_LEASE_MS
          ? 'pending'
          : 'unused';
  return {
    id: inviteId(record.codeHash),
    state,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    ...(record.usedBy !== undefined ? { usedBy: record.usedBy } : {}),
    ...(record.usedAt !== undefined ? { usedAt: new Date(record.usedAt).toISOString() } : {}),
  };
}

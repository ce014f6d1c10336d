/**
 * What sign-up control needs from the outside world: the invites' store. lambda/adapters
 * implements it on DynamoDB; tests implement it in memory.
 */
import type { Username } from '../accounts/username';

/** A registration in flight that holds an invite until its user is written (or fails). */
export interface InviteClaim {
  readonly username: Username;
  /** The `userId` of the account being created: the claim counts as used once that user exists. */
  readonly userId: string;
  /** Epoch ms. */
  readonly at: number;
}

/** One invite, as stored: never its code. */
export interface InviteRecord {
  /** SHA-256 (hex) of the code. */
  readonly codeHash: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; the invite is refused from then on. */
  readonly expiresAt: number;
  /** Set once an account was created with it. */
  readonly usedBy?: Username;
  readonly usedAt?: number;
  /** A registration in flight (see {@link InviteStore.claim}). */
  readonly claim?: InviteClaim;
}

/**
 * Invites by the hash of their code. Every change is one conditional write: of two
 * registrations with one invite, only one claim succeeds.
 */
export interface InviteStore {
  /** Stores a new invite; false if one with that hash exists (never overwritten). */
  create(record: InviteRecord): Promise<boolean>;
  /** The invite, or undefined. */
  get(codeHash: string): Promise<InviteRecord | undefined>;
  /**
   * Claims the invite for `claim` if, at `claim.at`, it exists, has not expired, is not used, and
   * is either unclaimed or still claimed by `replacing` (the userId of a claim found stale).
   */
  claim(codeHash: string, claim: InviteClaim, replacing?: string): Promise<boolean>;
  /** Gives the invite back, if `userId` still holds it and it is not used. */
  release(codeHash: string, userId: string): Promise<boolean>;
  /** Marks it used by the claim's account, if `claim.userId` still holds it. */
  markUsed(codeHash: string, claim: InviteClaim): Promise<boolean>;
  /** Removes an invite that is not used; false if none or used. */
  revoke(codeHash: string): Promise<boolean>;
  /** Every stored invite (the operator's listing). */
  list(): Promise<InviteRecord[]>;
}

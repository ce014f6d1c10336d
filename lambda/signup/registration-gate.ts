/**
 * Who may create an account (the `registration` setting; docs/api.md#register): `open`,
 * `invite` (a single-use invite from `tvm-admin invites create`) or `closed`. Every way an
 * account is created asks here: `POST /register` and a first sign-in with a provider. Free of
 * HTTP and AWS.
 *
 * The store has no transactions (DynamoDB's stand-in in the sandbox has none), so an invite is
 * spent in two conditional writes around the one write that creates the user: a claim naming
 * the new account's `userId` before it, "used" after it. A claim counts as spent while it is
 * fresh and for good once its user exists; a claim whose creation failed is released, and one
 * left by a crash is taken over after {@link INVITE_CLAIM_LEASE_MS} if its user never appeared.
 */
import type { UserStore } from '../accounts/ports';
import type { Username } from '../accounts/username';
import type { AuditRecorder, DomainLog, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { InviteRequiredError, RegistrationClosedError } from '../platform/errors';
import type { RegistrationMode } from '../platform/settings';
import { hashInviteCode, inviteId } from './invite-code';
import type { InviteClaim, InviteRecord, InviteStore } from './ports';

/**
 * How long a registration may hold an invite between its claim and its user's write (a few
 * DynamoDB calls). After it, a claim whose user does not exist was left by a crash.
 */
export const INVITE_CLAIM_LEASE_MS = 60_000;

/** What {@link RegistrationGate} needs. */
export interface RegistrationGateDependencies {
  readonly mode: RegistrationMode;
  /** Required when `mode` is `invite`. */
  readonly invites?: InviteStore;
  readonly users: Pick<UserStore, 'getUser'>;
  readonly auditor: AuditRecorder;
  readonly clock: Clock;
  readonly log: DomainLog;
}

/** A sign-up the gate let in: under `invite`, the invite it holds. */
export interface Admission {
  readonly inviteHash?: string;
  /** The `userId` of a stale claim this sign-up may take over. */
  readonly replacing?: string;
}

/** The `registration` setting applied to a new account. */
export class RegistrationGate {
  constructor(private readonly deps: RegistrationGateDependencies) {
    if (deps.mode === 'invite' && !deps.invites) throw new Error('registration "invite" needs an invite store.');
  }

  /** The mode in force (the web app shows the invite field, or no sign-up, from it). */
  get mode(): RegistrationMode {
    return this.deps.mode;
  }

  /** Under `closed`, 403 registration_closed at once; otherwise nothing. */
  refuseIfClosed(): void {
    if (this.deps.mode === 'closed') throw new RegistrationClosedError();
  }

  /**
   * Called before anything costly (bcrypt, STS) or revealing (whether a name is taken):
   * `closed` refuses with 403 registration_closed; `invite` reads the invite once and refuses
   * with 403 invite_required unless it exists, has not expired and is not used or held.
   * Nothing is written. Under `open`, an invite is ignored.
   */
  async admit(invite: string | undefined): Promise<Admission> {
    const { mode, clock } = this.deps;
    this.refuseIfClosed();
    if (mode === 'open') return {};
    if (invite === undefined) throw new InviteRequiredError();
    const inviteHash = hashInviteCode(invite);
    const record = await this.invites.get(inviteHash);
    const now = clock.now();
    if (!record || record.expiresAt <= now || record.usedBy !== undefined) throw new InviteRequiredError();
    if (!record.claim) return { inviteHash };
    if (now - record.claim.at < INVITE_CLAIM_LEASE_MS || (await this.claimSucceeded(record, record.claim)))
      throw new InviteRequiredError();
    return { inviteHash, replacing: record.claim.userId };
  }

  /**
   * Creates the account with `create` (the user's conditional write) while holding the
   * admission's invite: claimed just before (a lost race is 403 invite_required, before the
   * user exists), released if `create` fails, marked used and audited (`invite_used`) after.
   */
  async commit<T>(
    admission: Admission,
    account: { username: Username; userId: string },
    origin: RequestOrigin,
    create: () => Promise<T>,
  ): Promise<T> {
    const { inviteHash } = admission;
    if (inviteHash === undefined) return create();
    const claim: InviteClaim = { username: account.username, userId: account.userId, at: this.deps.clock.now() };
    if (!(await this.invites.claim(inviteHash, claim, admission.replacing))) throw new InviteRequiredError();
    let created: T;
    try {
      created = await create();
    } catch (error) {
      await this.invites.release(inviteHash, claim.userId).catch(() => {
        // Not lost: the claim lapses after the lease, since its user does not exist.
        this.deps.log.warn('Could not release the invite of a failed registration; it is free again after the lease.', {
          invite: inviteId(inviteHash),
        });
      });
      throw error;
    }
    await this.invites.markUsed(inviteHash, claim).catch(() => {
      // Still spent: a claim whose user exists counts as used (admit).
      this.deps.log.warn('Could not mark an invite used; its claim stands for it.', { invite: inviteId(inviteHash) });
    });
    await this.deps.auditor.record('invite_used', account.username, origin, { invite: inviteId(inviteHash) });
    return created;
  }

  private get invites(): InviteStore {
    // The constructor checked it for `invite`, the only mode that reaches here.
    return this.deps.invites!;
  }

  /** Whether a stale claim's account was created (then the invite is spent; mark it so). */
  private async claimSucceeded(record: InviteRecord, claim: InviteClaim): Promise<boolean> {
    const user = await this.deps.users.getUser(claim.username);
    if (user?.userId !== claim.userId) return false;
    await this.invites.markUsed(record.codeHash, claim).catch(() => undefined);
    return true;
  }
}

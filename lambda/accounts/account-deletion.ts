/**
 * Self-service account deletion, run as the operator's `users delete --delete-files` runs it,
 * but split so functions can do it safely: a request commits "deletion pending" at once, and a
 * worker finishes it later, after IAM has had time to apply the cut-off everywhere.
 *
 * 1. {@link AccountDeletion.request} (the `DELETE /account` route): a step-up, then the
 *    deletion request is queued (first, so no commit is ever left without one), then one
 *    conditional write disables the user, revokes every session (a new generation) and
 *    stores the cut-off instant (revocation.ts), so nothing is vended from then on.
 * 2. {@link AccountDeletion.advance} (a worker, many times): puts the cut-off on the vending
 *    role (the user's, and one for every share they gave or received) and starts the
 *    propagation wait; once it has passed, deletes every object version under the folder, then
 *    the shares and links, then the records, holding the name until every credential issued to
 *    it has expired. Every step is idempotent: a worker that fails is completed by the next run.
 *
 * Pure: the queue, the cut-off, the folder and the clock are ports.
 */
import type { StepUpProof } from '../second-factor/requests';
import { COMMIT_ALLOWANCE_MS, cutOffInstant, nameHeldUntil, provisionalCutOff } from '../credentials/revocation';
import { SELF_DELETION_ORIGIN, type AuditRecorder, type RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import { AuthenticationError } from '../platform/errors';
import type { LiveSession } from '../sessions/ports';
import type { UserStore } from './ports';
import type { Username } from './username';

/** A queued deletion. */
export interface DeletionRequest {
  readonly username: Username;
  /** The registration being deleted: a name registered again later is never touched. */
  readonly userId: string;
  /** Epoch ms: the cut-off instant the request's commit stored. */
  readonly cutOffAt: number;
  /** Epoch ms. */
  readonly requestedAt: number;
  /** Epoch ms when the worker put the cut-off on the vending role; absent until it has. */
  readonly cutOffAppliedAt?: number;
}

/** Where deletions wait for the worker (the TVM's table). */
export interface DeletionQueue {
  put(request: DeletionRequest): Promise<void>;
  get(username: Username): Promise<DeletionRequest | undefined>;
  /** Every queued request. */
  list(): Promise<DeletionRequest[]>;
  remove(username: Username): Promise<void>;
}

/** The vending role's cut-off list (lambda's share of what tvm-admin runs). */
export interface CredentialCutOff {
  /** A TVM-side clock (DynamoDB's), epoch ms, to the second. */
  serverDate(): Promise<number>;
  /** Records the cut-off for the user and puts the whole list on the vending role. Idempotent. */
  cutOff(username: Username, cutOffAt: number): Promise<void>;
}

/** The user's folder: every object version, delete marker and unfinished upload under it. */
export interface FolderPurger {
  /** Deletes everything under `<username>/`; returns how many entries it deleted. Idempotent. */
  purge(username: Username): Promise<number>;
}

/** The account's shares and links (lambda/sharing/share-lifecycle.ts implements it). */
export interface AccountSharing {
  /** Records a cut-off for every share the user gave or received (applied with the user's own cut-off). */
  cutOffAll(username: Username): Promise<unknown>;
  /** Cuts off and removes every share the user gave or received, and removes every link they have. */
  removeAll(username: Username): Promise<unknown>;
}

/** The account's records as the operator removes them (lambda/operator/account-admin.ts implements it). */
export interface AccountRemover {
  /** Deletes the user's records and holds the name until `heldUntil`. */
  deleteUser(username: Username, heldUntil: number, origin?: RequestOrigin): Promise<void>;
  /** Stores the cut-off instant on the user (it never moves back) and audits it. */
  recordCredentialsRevoked(username: Username, cutOffAt: number, origin?: RequestOrigin): Promise<void>;
}

/** What {@link AccountDeletion} needs. */
export interface AccountDeletionDependencies {
  readonly authenticate: (sessionToken: string | undefined) => Promise<LiveSession>;
  /** The step-up every sensitive route takes (StepUpService.stepUp): the second-factor rule applies. */
  readonly stepUp: (live: LiveSession, proof: StepUpProof, origin: RequestOrigin, purpose: string) => Promise<unknown>;
  readonly users: Pick<UserStore, 'getUser' | 'updateUser' | 'nameHeldUntil'>;
  /** The operator's account operations: deleting the records and holding the name. */
  readonly admin: AccountRemover;
  readonly queue: DeletionQueue;
  readonly cutOff: CredentialCutOff;
  readonly folder: FolderPurger;
  /** The user's shares and links: cut off with the account, removed with its records. */
  readonly sharing: AccountSharing;
  readonly auditor: Pick<AuditRecorder, 'record'>;
  readonly clock: Clock;
  /** The cut-off margin (revocation.ts): function timeout plus clock skew. */
  readonly cutOffMarginMs: number;
  /** How long IAM may take to apply the cut-off everywhere before files are deleted. */
  readonly propagationMs: number;
  /** The longest credential lifetime the TVM vends (the name hold covers it). */
  readonly maxCredentialSeconds: number;
  /** A monotonic clock for timing the commit (default `performance.now`). */
  readonly monotonicNow?: () => number;
}

/** What `DELETE /account` answers (202). */
export interface DeletionPending {
  readonly status: 'pending';
  /** ISO 8601: not before this are the files and records gone (the IAM propagation wait). */
  readonly completesAfter: string;
}

/** What one {@link AccountDeletion.advance} did. */
export type DeletionProgress =
  | { readonly state: 'cut_off'; readonly purgeAfter: number }
  | { readonly state: 'waiting'; readonly purgeAfter: number }
  | { readonly state: 'deleted'; readonly deletedEntries: number; readonly heldUntil: number }
  | { readonly state: 'cancelled' };

/** Self-service deletion: a request route and a worker, sharing the operator's steps. */
export class AccountDeletion {
  constructor(private readonly deps: AccountDeletionDependencies) {}

  /**
   * `DELETE /account`: after a step-up, the account refuses logins and every session at
   * once, and nothing more is vended for it; the rest is the worker's.
   */
  async request(
    sessionToken: string | undefined,
    proof: StepUpProof,
    origin: RequestOrigin = {},
  ): Promise<DeletionPending> {
    const { users, queue, cutOff, clock, cutOffMarginMs, propagationMs, auditor } = this.deps;
    const monotonic = this.deps.monotonicNow ?? (() => performance.now());
    const live = await this.deps.authenticate(sessionToken);
    await this.deps.stepUp(live, proof, origin, 'account delete');
    const { user } = live;
    const started = monotonic();
    let cutOffAt = provisionalCutOff(await cutOff.serverDate(), cutOffMarginMs);
    // Queued first: a commit is never left without the request that finishes it.
    await queue.put({ username: user.username, userId: user.userId, cutOffAt, requestedAt: clock.now() });
    const committed = await users.updateUser(user.username, user.userId, {
      disabled: true,
      sessionGeneration: { from: user.sessionGeneration, to: user.sessionGeneration + 1 },
      cutOffAt,
    });
    if (!committed) {
      // The account changed meanwhile (another device changed the password, an operator acted).
      await queue.remove(user.username);
      throw new AuthenticationError();
    }
    if (monotonic() - started > COMMIT_ALLOWANCE_MS) {
      // The commit may have landed after the instant covers: a later one, on the record and the queue.
      cutOffAt = cutOffInstant(await cutOff.serverDate(), cutOffMarginMs);
      await users.updateUser(user.username, user.userId, { cutOffAt });
      await queue.put({ username: user.username, userId: user.userId, cutOffAt, requestedAt: clock.now() });
    }
    await auditor.record('deletion_requested', user.username, origin, {
      sessionId: live.session.sessionId,
      cutOffAt: new Date(cutOffAt).toISOString(),
    });
    return {
      status: 'pending',
      completesAfter: new Date(Math.max(cutOffAt, clock.now()) + propagationMs).toISOString(),
    };
  }

  /**
   * One step of a queued deletion, for the worker: the cut-off on the role first; after the
   * propagation wait, the folder, then the records and the name hold. A request whose account
   * was enabled again or replaced meanwhile is dropped, and nothing is deleted.
   */
  async advance(username: Username): Promise<DeletionProgress | undefined> {
    const { users, queue, cutOff, folder, admin, clock, propagationMs, maxCredentialSeconds } = this.deps;
    const request = await queue.get(username);
    if (!request) return undefined;
    const user = await users.getUser(username);
    if (!user) {
      // Finished by an earlier run (the name is held), or by the operator.
      await queue.remove(username);
      const heldUntil = await users.nameHeldUntil(username);
      return heldUntil === undefined ? { state: 'cancelled' } : { state: 'deleted', deletedEntries: 0, heldUntil };
    }
    if (user.userId !== request.userId || !user.disabled) {
      await queue.remove(username);
      return { state: 'cancelled' };
    }
    if (request.cutOffAppliedAt === undefined) {
      // Recorded first, so the user's cut-off below puts them on the role in the same write.
      await this.deps.sharing.cutOffAll(username);
      await cutOff.cutOff(username, request.cutOffAt);
      await admin.recordCredentialsRevoked(username, request.cutOffAt, SELF_DELETION_ORIGIN);
      const appliedAt = clock.now();
      await queue.put({ ...request, cutOffAppliedAt: appliedAt });
      return { state: 'cut_off', purgeAfter: appliedAt + propagationMs };
    }
    const purgeAfter = request.cutOffAppliedAt + propagationMs;
    if (clock.now() < purgeAfter) return { state: 'waiting', purgeAfter };
    const deletedEntries = await folder.purge(username);
    const heldUntil = nameHeldUntil(request.cutOffAt, maxCredentialSeconds);
    // Before the records: a later account under the freed name must find no share or link.
    await this.deps.sharing.removeAll(username);
    await admin.deleteUser(username, heldUntil, SELF_DELETION_ORIGIN);
    await queue.remove(username);
    return { state: 'deleted', deletedEntries, heldUntil };
  }

  /** Advances every queued deletion once (the worker's scheduled sweep); one failure does not stop the others. */
  async sweep(): Promise<{ username: Username; progress?: DeletionProgress; error?: unknown }[]> {
    const outcomes: { username: Username; progress?: DeletionProgress; error?: unknown }[] = [];
    for (const request of await this.deps.queue.list()) {
      try {
        const progress = await this.advance(request.username);
        outcomes.push({ username: request.username, ...(progress ? { progress } : {}) });
      } catch (error) {
        outcomes.push({ username: request.username, error });
      }
    }
    return outcomes;
  }
}

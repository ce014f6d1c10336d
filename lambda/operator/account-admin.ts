import { OPERATOR_ORIGIN, type AuditEvent, type RequestOrigin } from '../platform/audit';
import { NotFoundError, UsernameTakenError } from '../platform/errors';
import { NO_PASSWORD } from '../accounts/password';
import { newId } from '../sessions/session-token';
import { newResetCode, hashResetCode, RESET_CODE_TTL_MS } from '../accounts/reset-code';
import type { SessionRecord, SessionStore } from '../sessions/ports';
import type { LockoutStore, ResetCodeStore, UserRecord, UserStore } from '../accounts/ports';
import { isSessionLive } from '../sessions/session-rules';
import type { AccountRemover } from '../accounts/account-deletion';
import { AuditRecorder, type AuditTrail, type DomainLog } from '../platform/audit';
import type { Clock } from '../platform/clock';
import type { TvmConfig } from '../platform/config';
import type { Username } from '../accounts/username';
import type { IdentityLink, IdentityStore } from '../identities/ports';

/** What an operator sees of a user: never the hash. */
export interface UserSummary {
  readonly username: Username;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly disabled: boolean;
  /** Whether the lockout counter currently refuses logins. */
  readonly locked: boolean;
}

/** What an operator sees of a session. */
export interface OperatorSessionView {
  readonly id: string;
  readonly device?: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  readonly expiresAt: string;
}

/** What {@link AccountAdmin} needs: the service's stores, without STS or bcrypt. */
export interface AccountAdminDependencies {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly lockout: LockoutStore;
  readonly resetCodes: ResetCodeStore;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly log: DomainLog;
  readonly config: TvmConfig;
  /**
   * The identity links (OpenID Connect): the deletion removes them, so the identity signs in
   * again as unknown and a later account under the freed name is not reachable with it.
   */
  readonly identities?: Pick<IdentityStore, 'listByUser' | 'remove'>;
}

/** What an operator sees of a linked identity: never the subject, which the provider may reuse elsewhere. */
export interface OperatorIdentityView {
  readonly id: string;
  readonly provider: string;
  readonly issuer: string;
  /** ISO 8601. */
  readonly linkedAt: string;
}

/** How many audit entries one listing shows: by default, and at most (`tvm-admin audit --limit`). */
export const AUDIT_LIST_LIMIT = { default: 50, max: 1000 } as const;

/**
 * The operator's side of accounts (used by `tvm-admin`): listing, disabling, unlocking,
 * deleting, reset codes, session revocation and the audit trail. Every change is audited.
 */
export class AccountAdmin implements AccountRemover {
  private readonly auditor: AuditRecorder;

  constructor(private readonly deps: AccountAdminDependencies) {
    this.auditor = new AuditRecorder(deps);
  }

  /** Every user, with whether they are disabled or locked. */
  async listUsers(): Promise<UserSummary[]> {
    const users: UserSummary[] = [];
    for await (const user of this.deps.users.listUsers()) users.push(await this.summary(user));
    return users.sort((a, b) => a.username.localeCompare(b.username));
  }

  /** One user, or NotFoundError. */
  async showUser(username: Username): Promise<UserSummary & { liveSessions: number }> {
    const user = await this.requireUser(username);
    const live = (await this.deps.sessions.listSessions(username)).filter((session) =>
      isSessionLive(session, user, this.deps.clock.now(), this.deps.config),
    );
    return { ...(await this.summary(user)), liveSessions: live.length };
  }

  /**
   * Disables the user and revokes every session at once (a new session generation). Issued
   * AWS credentials are tvm-admin's to cut off, after this commit; `cutOffAt`, the instant it
   * will use, is stored in the same write, so no route vends for the user before it passes.
   */
  async disable(username: Username, cutOffAt?: number): Promise<void> {
    const user = await this.requireUser(username);
    await this.update(user, {
      disabled: true,
      sessionGeneration: { from: user.sessionGeneration, to: user.sessionGeneration + 1 },
      ...(cutOffAt !== undefined ? { cutOffAt } : {}),
    });
    await this.auditor.record('disabled', username, OPERATOR_ORIGIN);
  }

  /** Lets a disabled user log in again (old sessions stay revoked). */
  async enable(username: Username): Promise<void> {
    const user = await this.requireUser(username);
    await this.update(user, { disabled: false });
    await this.auditor.record('enabled', username, OPERATOR_ORIGIN);
  }

  /** Clears the failed-login counters of unknown devices and of reset codes, ending a lockout now. */
  async unlock(username: Username): Promise<void> {
    await this.requireUser(username);
    await Promise.all([this.deps.lockout.clear(username), this.deps.lockout.clear(username, 'reset')]);
    await this.auditor.record('unlocked', username, OPERATOR_ORIGIN);
  }

  /**
   * Issues a one-time reset code valid for one hour, replacing any earlier one. The code is
   * returned once, for the operator to pass on; only its hash is stored.
   */
  async issueResetCode(username: Username): Promise<{ code: string; expiresAt: string }> {
    await this.requireUser(username);
    const code = newResetCode();
    const expiresAt = this.deps.clock.now() + RESET_CODE_TTL_MS;
    await this.deps.resetCodes.putResetCode(username, hashResetCode(code), expiresAt);
    await this.auditor.record('reset_issued', username, OPERATOR_ORIGIN);
    return { code, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Creates an account without a password (in every `registration` mode: this is how a
   * `closed` service gets users) and issues its first reset code, with which the person sets
   * their own password (`POST /password/reset`, the web app's "Use a reset code"). The code is
   * returned once; the operator never learns a password.
   */
  async createUser(username: Username): Promise<{ code: string; expiresAt: string }> {
    const { users, clock } = this.deps;
    // A fast path for a clear message; the conditional write is what guarantees uniqueness.
    const heldUntil = await users.nameHeldUntil(username);
    if (heldUntil !== undefined && heldUntil >= clock.now()) throw new UsernameTakenError();
    await users.createUser({
      username,
      userId: newId(),
      passwordHash: NO_PASSWORD,
      createdAt: clock.now(),
      disabled: false,
      sessionGeneration: 0,
    });
    await this.auditor.record('registered', username, OPERATOR_ORIGIN, { by: 'operator' });
    return this.issueResetCode(username);
  }

  /** The user's live sessions. */
  async listSessions(username: Username): Promise<OperatorSessionView[]> {
    const user = await this.requireUser(username);
    const sessions = await this.deps.sessions.listSessions(username);
    return sessions
      .filter((session) => isSessionLive(session, user, this.deps.clock.now(), this.deps.config))
      .map(operatorView);
  }

  /**
   * Revokes one session by id, or all of them (`'all'`: a new session generation, so even a
   * session the index has not shown yet is refused). Returns how many were revoked.
   */
  async revokeSessions(username: Username, which: string | 'all', cutOffAt?: number): Promise<number> {
    const user = await this.requireUser(username);
    const live = (await this.deps.sessions.listSessions(username)).filter((session) =>
      isSessionLive(session, user, this.deps.clock.now(), this.deps.config),
    );
    const targets = which === 'all' ? live : live.filter((session) => session.sessionId === which);
    if (which !== 'all' && targets.length === 0) throw new NotFoundError(`No live session ${which} for ${username}.`);
    if (which === 'all') {
      // A cut-off instant to follow goes in the same write (see disable).
      await this.update(user, {
        sessionGeneration: { from: user.sessionGeneration, to: user.sessionGeneration + 1 },
        ...(cutOffAt !== undefined ? { cutOffAt } : {}),
      });
    }
    await Promise.all(targets.map((session) => this.deps.sessions.deleteSession(session.tokenHash)));
    await this.auditor.record('session_revoked', username, OPERATOR_ORIGIN, {
      sessions: which === 'all' ? 'all' : which,
    });
    return targets.length;
  }

  /**
   * Deletes the user's records: sessions, counters, reset code, and the user record, which is
   * replaced by a hold on the name until `heldUntil`, so nobody can register it while
   * credentials issued to this account may still exist. Call it on a disabled user whose
   * credentials are cut off and whose files are gone (tvm-admin's `users delete` does it in
   * that order). The audit trail stays until its retention ends, with a `deleted` entry last.
   * @param origin who caused it, for the audit trail; default: the operator's command.
   */
  async deleteUser(username: Username, heldUntil: number, origin: RequestOrigin = OPERATOR_ORIGIN): Promise<void> {
    const user = await this.requireUser(username);
    const sessions = await this.deps.sessions.listSessions(username);
    await Promise.all(sessions.map((session) => this.deps.sessions.deleteSession(session.tokenHash)));
    await Promise.all([this.deps.lockout.clear(username), this.deps.lockout.clear(username, 'reset')]);
    await this.deps.resetCodes.deleteResetCode(username);
    // Before the records: a run that fails after them finds no user, and must leave no link behind.
    const identities = await this.removeIdentities(user);
    if (!(await this.deps.users.holdName(username, user.userId, heldUntil))) {
      throw new NotFoundError(`${username} changed meanwhile; run the command again.`);
    }
    await this.auditor.record('deleted', username, origin, {
      heldUntil: new Date(heldUntil).toISOString(),
      ...(identities > 0 ? { identitiesUnlinked: identities } : {}),
    });
  }

  /** The identities linked to the user, oldest first. */
  async listIdentities(username: Username): Promise<OperatorIdentityView[]> {
    const user = await this.requireUser(username);
    return (await this.identityStore().listByUser(username, user.userId)).map(identityView);
  }

  /** The user's linked identity `id`, or NotFoundError. */
  async findIdentity(username: Username, id: string): Promise<IdentityLink> {
    const user = await this.requireUser(username);
    const link = (await this.identityStore().listByUser(username, user.userId)).find((found) => found.id === id);
    if (!link) throw new NotFoundError(`${username} has no linked identity ${id}; see identities list ${username}.`);
    return link;
  }

  /**
   * Unlinks the user's identity `id` (the operator's act: for a lost or compromised provider
   * account), audited as `identity_unlinked`. Sessions are untouched; the identity then signs in
   * as unknown. Returns the link.
   */
  async removeIdentity(username: Username, id: string): Promise<IdentityLink> {
    const link = await this.findIdentity(username, id);
    await this.identityStore().remove(link);
    await this.auditor.record('identity_unlinked', username, OPERATOR_ORIGIN, {
      provider: link.provider,
      identity: link.id,
    });
    return link;
  }

  /** Removes every identity linked to the registration; returns how many. */
  private async removeIdentities(user: UserRecord): Promise<number> {
    const store = this.deps.identities;
    if (!store) return 0;
    const links = await store.listByUser(user.username, user.userId);
    for (const link of links) await store.remove(link);
    return links.length;
  }

  private identityStore(): Pick<IdentityStore, 'listByUser' | 'remove'> {
    if (!this.deps.identities) throw new Error('This operator context has no identity store.');
    return this.deps.identities;
  }

  /** Until when a deleted name is held, if it is. */
  async nameHeldUntil(username: Username): Promise<number | undefined> {
    return this.deps.users.nameHeldUntil(username);
  }

  /**
   * Records that the user's STS credentials issued before `cutOffAt` were cut off (the IAM
   * change is the caller's), and makes sure the user record carries that instant, so the
   * vending routes wait for it (a record that already has a later one keeps it).
   * @param origin who caused it, for the audit trail; default: the operator's command.
   */
  async recordCredentialsRevoked(
    username: Username,
    cutOffAt: number,
    origin: RequestOrigin = OPERATOR_ORIGIN,
  ): Promise<void> {
    const user = await this.deps.users.getUser(username);
    if (user && (user.cutOffAt ?? 0) < cutOffAt) await this.deps.users.updateUser(username, user.userId, { cutOffAt });
    await this.auditor.record('credentials_revoked', username, origin, { before: new Date(cutOffAt).toISOString() });
  }

  /** The audit trail, newest first: {@link AUDIT_LIST_LIMIT}.default entries unless asked for more. */
  async audit(username: Username, limit: number = AUDIT_LIST_LIMIT.default): Promise<AuditEvent[]> {
    return this.deps.audit.list(username, limit);
  }

  private async requireUser(username: Username): Promise<UserRecord> {
    const user = await this.deps.users.getUser(username);
    if (!user) throw new NotFoundError(`No user ${username}.`);
    return user;
  }

  private async update(
    user: UserRecord,
    changes: Parameters<AccountAdminDependencies['users']['updateUser']>[2],
  ): Promise<void> {
    const updated = await this.deps.users.updateUser(user.username, user.userId, changes);
    if (!updated) throw new NotFoundError(`${user.username} changed meanwhile; run the command again.`);
  }

  private async summary(user: UserRecord): Promise<UserSummary> {
    const state = await this.deps.lockout.peek(user.username);
    return {
      username: user.username,
      createdAt: new Date(user.createdAt).toISOString(),
      disabled: user.disabled,
      locked: state?.lockedUntil !== undefined && state.lockedUntil > this.deps.clock.now(),
    };
  }
}

function identityView(link: IdentityLink): OperatorIdentityView {
  return {
    id: link.id,
    provider: link.provider,
    issuer: link.issuer,
    linkedAt: new Date(link.linkedAt).toISOString(),
  };
}

function operatorView(session: SessionRecord): OperatorSessionView {
  return {
    id: session.sessionId,
    ...(session.device !== undefined ? { device: session.device } : {}),
    createdAt: new Date(session.createdAt).toISOString(),
    ...(session.lastUsedAt !== undefined ? { lastUsedAt: new Date(session.lastUsedAt).toISOString() } : {}),
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

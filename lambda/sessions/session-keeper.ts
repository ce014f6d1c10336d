/**
 * Sessions as records: minting one, finding the live session behind a token, and the
 * clean-ups after a login or a password change. Every capability that opens or checks a
 * session goes through here.
 */
import type { UserRecord, UserStore } from '../accounts/ports';
import type { Username } from '../accounts/username';
import type { SessionGrant } from '../contract/wire';
import type { AuditRecorder, DomainLog, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import type { TvmConfig } from '../platform/config';
import { AuthenticationError } from '../platform/errors';
import type { LiveSession, SessionRecord, SessionStore, SessionWithUserReader } from './ports';
import { isSessionLive, sessionsOverCap } from './session-rules';
import { hashSessionToken, newId, newSessionToken, sessionTokenUsername } from './session-token';

/** What {@link SessionKeeper} needs. */
export interface SessionKeeperDependencies {
  readonly config: Pick<TvmConfig, 'sessionDays' | 'sessionIdleDays' | 'maxSessions'>;
  readonly users: Pick<UserStore, 'getUser' | 'updateUser'>;
  readonly sessions: SessionStore;
  /** The session and user of a current token in one read (every authenticated route but /token). */
  readonly sessionWithUser: SessionWithUserReader;
  readonly clock: Clock;
  readonly log: DomainLog;
  readonly auditor: AuditRecorder;
}

/** A new session: the token its holder gets (once) and the record that is stored. */
export interface OpenedSession {
  readonly token: string;
  readonly record: SessionRecord;
}

/** Mints, finds and tidies sessions. */
export class SessionKeeper {
  constructor(private readonly deps: SessionKeeperDependencies) {}

  /** A new session of `user` in `generation` (not stored yet). */
  open(user: UserRecord, generation: number, device?: string): OpenedSession {
    const now = this.deps.clock.now();
    const token = newSessionToken(user.username);
    const record: SessionRecord = {
      tokenHash: hashSessionToken(token),
      sessionId: newId(),
      username: user.username,
      userId: user.userId,
      generation,
      createdAt: now,
      expiresAt: now + this.deps.config.sessionDays * 24 * 60 * 60 * 1000,
      ...(device !== undefined ? { device } : {}),
    };
    return { token, record };
  }

  /** What the holder of a new session is told. */
  grant(opened: OpenedSession): SessionGrant {
    return { token: opened.token, expiresAt: new Date(opened.record.expiresAt).toISOString() };
  }

  /** The session behind a token and its user, if it is live: not expired, same registration and generation, user enabled. */
  async live(sessionToken: string | undefined): Promise<LiveSession> {
    if (sessionToken === undefined) throw new AuthenticationError();
    const { sessions, sessionWithUser, users, clock, config } = this.deps;
    // A current token names its user, so the session and the user are read in one round
    // trip; a legacy token (no username) needs the session first to find the user.
    const named = sessionTokenUsername(sessionToken);
    const tokenHash = hashSessionToken(sessionToken);
    const {
      session,
      user: namedUser,
      usage,
    } = named === undefined
      ? { session: await sessions.getSession(tokenHash), usage: undefined }
      : await sessionWithUser.getSessionWithUser(tokenHash, named);
    if (!session || (named !== undefined && session.username !== named)) throw new AuthenticationError();
    const user = named === undefined ? await users.getUser(session.username) : namedUser;
    if (!user || !isSessionLive(session, user, clock.now(), config)) throw new AuthenticationError();
    return { session, user, ...(usage ? { usage } : {}) };
  }

  /** The user's live sessions, oldest first (an index query: eventually consistent). */
  async liveSessionsOf(user: UserRecord): Promise<SessionRecord[]> {
    const now = this.deps.clock.now();
    return (await this.deps.sessions.listSessions(user.username)).filter((candidate) =>
      isSessionLive(candidate, user, now, this.deps.config),
    );
  }

  /** Ends the oldest live sessions past `maxSessions`, each recorded in the audit trail. */
  async endOverCap(user: UserRecord, kept: SessionRecord, origin: RequestOrigin): Promise<void> {
    const { sessions, config, clock, log, auditor } = this.deps;
    try {
      const ended = sessionsOverCap(await sessions.listSessions(user.username), user, kept, clock.now(), config);
      for (const session of ended) {
        await sessions.deleteSession(session.tokenHash);
        await auditor.record('session_ended_over_cap', user.username, origin, {
          sessionId: session.sessionId,
          maxSessions: config.maxSessions,
        });
      }
    } catch {
      // The index is eventually consistent anyway: the next login trims again.
      log.warn('Could not end sessions over the cap; the next login tries again.', { username: user.username });
    }
  }

  /**
   * Writes a session in the next generation, then moves the user there with the new
   * password hash in one conditional update. Every older session stops working at once.
   */
  async rotate(user: UserRecord, passwordHash: string, device?: string): Promise<OpenedSession> {
    const { users, sessions } = this.deps;
    const nextGeneration = user.sessionGeneration + 1;
    const fresh = this.open(user, nextGeneration, device);
    await sessions.putSession(fresh.record);
    let updated: UserRecord | undefined;
    try {
      updated = await users.updateUser(user.username, user.userId, {
        passwordHash,
        sessionGeneration: { from: user.sessionGeneration, to: nextGeneration },
        // A new password starts trust afresh: devices are trusted again at their next login.
        trustedDevices: [],
      });
    } catch (error) {
      await sessions.deleteSession(fresh.record.tokenHash).catch(() => undefined);
      throw error;
    }
    if (!updated) {
      // Someone else changed the user meanwhile (another reset, a disable): this attempt loses.
      await sessions.deleteSession(fresh.record.tokenHash).catch(() => undefined);
      throw new AuthenticationError();
    }
    return fresh;
  }

  /** Deletes sessions of older generations. They are already refused; this only tidies the list. */
  async removeStale(username: Username, generation: number): Promise<void> {
    try {
      const stale = (await this.deps.sessions.listSessions(username)).filter(
        (session) => session.generation !== generation,
      );
      await Promise.all(stale.map((session) => this.deps.sessions.deleteSession(session.tokenHash)));
    } catch {
      this.deps.log.warn('Could not delete revoked sessions; they are refused and expire by TTL.', { username });
    }
  }
}

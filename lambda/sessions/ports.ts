/**
 * What the sessions capability needs from storage. lambda/adapters/dynamo/session-store.ts
 * implements it on DynamoDB; test/support/in-memory.ts in memory.
 */
import type { UserRecord } from '../accounts/ports';
import type { Username } from '../accounts/username';
import type { MfaChallengeResult } from '../contract/wire';
import type { StepUpProof } from '../second-factor/requests';
import type { RequestOrigin } from '../platform/audit';
import type { UsageTotals } from '../usage/quota';

/** A login session. Only the SHA-256 of its token is stored. */
export interface SessionRecord {
  readonly tokenHash: string;
  /** A public identifier for lists and `DELETE /sessions/{id}`; not a credential. */
  readonly sessionId: string;
  readonly username: Username;
  readonly userId: string;
  /** The user's session generation when the session was opened. */
  readonly generation: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; the session is refused at or after this instant, whatever TTL has or has not deleted. */
  readonly expiresAt: number;
  /** Epoch ms of the last /token call, if any. */
  readonly lastUsedAt?: number;
  /** A free-text device label the app sent at login, if any. */
  readonly device?: string;
}

/** Login sessions, keyed by token hash. */
export interface SessionStore {
  putSession(session: SessionRecord): Promise<void>;
  /** The stored record, expired or not: the caller checks expiry. */
  getSession(tokenHash: string): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** One user's sessions, expired or not, oldest first (an index query: eventually consistent). */
  listSessions(username: Username): Promise<SessionRecord[]>;
  /** Records a use of the session at `at` (epoch ms), if it still exists. */
  touchSession(tokenHash: string, at: number): Promise<void>;
}

/** A session and the user its token names, read together. */
export interface SessionWithUser {
  readonly session?: SessionRecord;
  readonly user?: UserRecord;
  /** The user's folder totals (the meter's USAGE item; none counted yet: empty), when the store reads them in the same round trip. */
  readonly usage?: UsageTotals;
}

/**
 * Reads a session and a user in one round trip where the store can batch reads (the first
 * stage of every bearer route but /token, which counts as it reads: {@link VendLedger}).
 * Both with strong consistency, as {@link SessionStore.getSession} and
 * {@link UserStore.getUser} read them; a held name has no user.
 */
export interface SessionWithUserReader {
  getSessionWithUser(tokenHash: string, username: Username): Promise<SessionWithUser>;
}

/** Where /token's first stage stands: the session it used, its user, and both vend counts. */
export interface VendStart {
  /**
   * The session after this use was recorded (`lastUsedAt`, its window's count), or undefined
   * when there is none, or it had expired or sat idle past `idleSince` (then nothing was written).
   */
  readonly session?: SessionRecord;
  /** The session's vend attempts in this window, this one included (0 without a session). */
  readonly sessionVends: number;
  /** The user the token names (a held name has none). */
  readonly user?: UserRecord;
  /** The user's vends in this window before this one, as read in the same stage. */
  readonly userVends: number;
  /** The user's folder totals as the meter last counted them, read in the same stage (absent without a user). */
  readonly usage?: UsageTotals;
  /**
   * Store housekeeping to run alongside stage two (old window counters piling up on the
   * session), if any. Never throws.
   */
  readonly tidy?: () => Promise<void>;
}

/**
 * The counts that give each session and user a fair share of STS (lambda/credentials/vend-limits.ts),
 * kept in writes /token makes anyway, so the limits add no sequential stage.
 */
export interface VendLedger {
  /**
   * Stage one of /token, in one round trip: records a use of the session (its window's count
   * and `lastUsedAt`) with a conditional update that only a live, unexpired, not idle session
   * passes (a stranger without the token cannot address it; a dead session is not revived),
   * and, alongside, reads the user and the user's count in this window.
   * `idleSince`: a session last used (or, never used, created) at or before it is idle.
   */
  startVend(tokenHash: string, username: Username, window: number, now: number, idleSince: number): Promise<VendStart>;
  /**
   * Stage two's count of one vend against the user's window: a conditional increment that
   * refuses (false) when the window already holds `limit`. Called only for a live session.
   */
  countUserVend(username: Username, window: number, windowEndsAt: number, limit: number): Promise<boolean>;
}

/** A session whose token was checked, and its user. */
export interface LiveSession {
  readonly session: SessionRecord;
  readonly user: UserRecord;
  /** The folder's totals when they came with the session read (/token reads them there). */
  readonly usage?: UsageTotals;
}

/** A login's second factor as sessions see it (lambda/second-factor/gate.ts implements it). */
export interface SecondFactorChallenger {
  /**
   * For a user with a second factor: stores a login challenge and returns what the login
   * answers instead of a session. Undefined when the user has none.
   */
  challengeIfEnrolled(
    user: UserRecord,
    device: string | undefined,
    origin: RequestOrigin,
    sentDeviceToken?: string,
  ): Promise<MfaChallengeResult | undefined>;
}

/** The step-up a session proves before ending another session (lambda/second-factor/mfa-service.ts implements it). */
export interface StepUpCheck {
  stepUp(live: LiveSession, proof: StepUpProof, origin: RequestOrigin, purpose: string): Promise<unknown>;
}

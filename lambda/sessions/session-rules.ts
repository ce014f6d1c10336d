/**
 * When a session counts: its absolute lifetime, its inactivity timeout (ASVS 7.3.1, 7.3.2), its
 * user's registration, generation and state; and the cap on live sessions per user (ASVS 7.1.2).
 */
import type { TvmConfig } from '../platform/config';
import type { SessionRecord } from './ports';
import type { UserRecord } from '../accounts/ports';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The settings the session rules read. */
export type SessionLimits = Pick<TvmConfig, 'sessionIdleDays' | 'maxSessions'>;

/** Epoch ms at which a session ends for lack of use, unless it is used before. */
export function idleExpiry(session: SessionRecord, limits: SessionLimits): number {
  return (session.lastUsedAt ?? session.createdAt) + limits.sessionIdleDays * DAY_MS;
}

/** A session last used (or, never used, created) at or before this instant is idle at `now`. */
export function idleSince(now: number, limits: Pick<SessionLimits, 'sessionIdleDays'>): number {
  return now - limits.sessionIdleDays * DAY_MS;
}

/**
 * A session counts only while unexpired, used within the inactivity timeout, for the same
 * registration and generation, of an enabled user.
 */
export function isSessionLive(session: SessionRecord, user: UserRecord, now: number, limits: SessionLimits): boolean {
  return (
    session.expiresAt > now &&
    idleExpiry(session, limits) > now &&
    session.userId === user.userId &&
    session.generation === user.sessionGeneration &&
    !user.disabled
  );
}

/**
 * The sessions to end so that, with the session `kept` just opened, a user holds at most
 * `maxSessions` live ones: the oldest first (by creation).
 */
export function sessionsOverCap(
  sessions: readonly SessionRecord[],
  user: UserRecord,
  kept: SessionRecord,
  now: number,
  limits: SessionLimits,
): SessionRecord[] {
  const others = sessions
    .filter((session) => session.tokenHash !== kept.tokenHash && isSessionLive(session, user, now, limits))
    .sort((a, b) => a.createdAt - b.createdAt);
  const excess = others.length - (limits.maxSessions - 1);
  return excess > 0 ? others.slice(0, excess) : [];
}

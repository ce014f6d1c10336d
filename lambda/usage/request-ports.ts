/**
 * What the access-log processor and the usage report need from the outside world: the
 * per-day request counts (lambda/adapters/dynamo/usage-day-store.ts) and the log objects
 * (lambda/adapters/access-log-reader.ts).
 */
import type { Username } from '../accounts/username';
import type { DayRequests, RequestCounts } from './request-tally';

/** The per-user, per-day request counts, fed idempotently by log object. */
export interface UsageDayStore {
  /**
   * Adds one log object's counts, each user-day at most once per `logId`: a log object
   * delivered again, or processed again after a crash half-way, adds nothing twice.
   */
  addLogCounts(logId: string, days: readonly DayRequests[]): Promise<void>;
  /** Whether a log object was counted whole (a marker that lets a redelivery skip it at once). */
  isLogDone(logId: string): Promise<boolean>;
  /** Marks a log object as counted whole. */
  markLogDone(logId: string, now: number): Promise<void>;
  /** Every user's counts of one UTC day (`yyyy-mm-dd`). */
  readDay(day: string): Promise<{ readonly username: Username; readonly counts: RequestCounts }[]>;
}

/** Reads one access-log object's text. */
export interface AccessLogReader {
  read(bucket: string, key: string): Promise<string>;
}

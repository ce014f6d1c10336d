/**
 * Turns one delivered access-log object into per-user daily request counts: read it, tally it
 * (request-tally.ts), add the counts idempotently, mark it done. The stack's function and the
 * sandbox run this same code on each log object S3 (or the sandbox's gate) writes.
 */
import { createHash } from 'node:crypto';
import type { DomainLog } from '../platform/audit';
import type { AccessLogReader, UsageDayStore } from './request-ports';
import { tallyAccessLog, type TallyOptions } from './request-tally';

/** What processing one log object did. */
export interface LogOutcome {
  /** True when the object had been counted before (nothing was added). */
  readonly alreadyDone: boolean;
  /** User-days the object touched. */
  readonly userDays: number;
  readonly unattributed: number;
  readonly malformed: number;
}

/** A log object's id in the store: a hash of its bucket and key (keys are long and free-form). */
export function logObjectId(bucket: string, key: string): string {
  return createHash('sha256').update(`${bucket}/${key}`).digest('base64url').slice(0, 22);
}

/** Processes access-log objects into the usage-day store. */
export class AccessLogProcessor {
  constructor(
    private readonly deps: {
      readonly store: UsageDayStore;
      readonly reader: AccessLogReader;
      readonly tally: TallyOptions;
      readonly log: DomainLog;
      readonly now?: () => number;
    },
  ) {}

  /** Counts one log object; a fault throws (the caller retries the whole object, which is safe). */
  async process(bucket: string, key: string): Promise<LogOutcome> {
    const { store, reader, tally, log } = this.deps;
    const id = logObjectId(bucket, key);
    if (await store.isLogDone(id)) return { alreadyDone: true, userDays: 0, unattributed: 0, malformed: 0 };
    const counted = tallyAccessLog(await reader.read(bucket, key), tally);
    await store.addLogCounts(id, counted.days);
    await store.markLogDone(id, (this.deps.now ?? Date.now)());
    // Never the lines themselves: they carry keys and addresses.
    if (counted.malformed > 0) log.warn('access log lines not understood', { logObject: id, lines: counted.malformed });
    log.info('access log counted', {
      logObject: id,
      userDays: counted.days.length,
      unattributed: counted.unattributed,
      otherBuckets: counted.otherBuckets,
    });
    return {
      alreadyDone: false,
      userDays: counted.days.length,
      unattributed: counted.unattributed,
      malformed: counted.malformed,
    };
  }
}

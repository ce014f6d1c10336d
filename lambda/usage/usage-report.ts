/**
 * The operator's per-user usage report (`tvm-admin usage report`): what each folder holds (the
 * meter's totals) against its quota, and what each user did over a range of UTC days (the
 * access logs' daily counts). Pure: the CLI reads the items and prints the rows.
 */
import type { Username } from '../accounts/username';
import { USAGE_DAY_RETENTION_DAYS } from '../contract/limits';
import { ValidationError } from '../platform/errors';
import { EMPTY_USAGE, effectiveQuotaBytes, isOverQuota, type UsageTotals } from './quota';
import { NO_REQUESTS, addCounts, utcDay, type RequestCounts } from './request-tally';

const DAY_MS = 86_400_000;

/** The range `--since` takes by default. */
export const DEFAULT_REPORT_DAYS = 30;

/** `--since 30d`: a whole number of days, 1 to {@link USAGE_DAY_RETENTION_DAYS}. */
export function parseSinceDays(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_REPORT_DAYS;
  const match = /^(\d{1,4})d$/.exec(raw.trim());
  const days = match ? Number(match[1]) : Number.NaN;
  if (!Number.isInteger(days) || days < 1 || days > USAGE_DAY_RETENTION_DAYS)
    throw new ValidationError(
      `--since must be a number of days from 1d to ${USAGE_DAY_RETENTION_DAYS}d (the counts are kept that long), e.g. 30d.`,
      'since',
    );
  return days;
}

/** The UTC days of the last `days` days, today included, oldest first. */
export function reportDays(days: number, now: number): string[] {
  return Array.from({ length: days }, (_, index) => utcDay(now - (days - 1 - index) * DAY_MS));
}

/** A user as the report needs them. */
export interface ReportUser {
  readonly username: Username;
  /** The per-user override: absent for the default, null for none. */
  readonly quotaBytes?: number | null;
}

/** What the report is built from. */
export interface ReportInput {
  readonly users: readonly ReportUser[];
  /** The meter's totals, by user (a user never counted holds nothing). */
  readonly totals: ReadonlyMap<Username, UsageTotals>;
  /** Each day's counts, by user. */
  readonly days: readonly {
    readonly day: string;
    readonly rows: readonly { username: Username; counts: RequestCounts }[];
  }[];
  readonly defaultQuotaBytes: number;
}

/** One user's line. */
export interface UsageReportRow {
  readonly username: Username;
  /** False for a name seen in the logs whose account no longer exists. */
  readonly account: boolean;
  readonly bytes: number;
  readonly objects: number;
  readonly quotaBytes: number | null;
  readonly overQuota: boolean;
  readonly requests: RequestCounts;
}

/** The report. */
export interface UsageReport {
  /** The first and last UTC day counted. */
  readonly from: string;
  readonly to: string;
  readonly rows: UsageReportRow[];
}

/** One row per user (and per name seen in the range's logs), sorted by name. */
export function buildUsageReport(input: ReportInput): UsageReport {
  const requests = new Map<Username, RequestCounts>();
  for (const { rows } of input.days)
    for (const { username, counts } of rows)
      requests.set(username, addCounts(requests.get(username) ?? NO_REQUESTS, counts));
  const rows: UsageReportRow[] = input.users.map((user) => {
    const totals = input.totals.get(user.username) ?? EMPTY_USAGE;
    const quotaBytes = effectiveQuotaBytes(user.quotaBytes, input.defaultQuotaBytes);
    return {
      username: user.username,
      account: true,
      bytes: totals.bytes,
      objects: totals.objects,
      quotaBytes,
      overQuota: isOverQuota(totals, quotaBytes),
      requests: requests.get(user.username) ?? NO_REQUESTS,
    };
  });
  const known = new Set(input.users.map((user) => user.username));
  for (const [username, counts] of requests)
    if (!known.has(username))
      rows.push({
        username,
        account: false,
        bytes: 0,
        objects: 0,
        quotaBytes: null,
        overQuota: false,
        requests: counts,
      });
  rows.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  return { from: input.days[0]?.day ?? '', to: input.days.at(-1)?.day ?? '', rows };
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes for people, in decimal units as the web app shows them: `3.2 GB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/**
 * `tvm-admin usage report [--since 30d] [--json]`: per user, what the folder holds against its
 * quota (the meter's totals) and the requests of the last days (the access logs' daily counts).
 * Reads the users, the USAGE items (BatchGetItem, 100 a call) and one Query per day of the
 * range, never one per user and day.
 */
import { accountStores } from '../lambda/adapters/account-deletion-wiring';
import { DynamoUsageDayStore } from '../lambda/adapters/dynamo/usage-day-store';
import { readUsageTotals } from '../lambda/adapters/dynamo/usage-totals-reader';
import type { DomainLog } from '../lambda/platform/audit';
import { readRuntimeSettings, type TvmConfig } from '../lambda/platform/config';
import { ValidationError } from '../lambda/platform/errors';
import {
  buildUsageReport,
  formatBytes,
  parseSinceDays,
  reportDays,
  type ReportUser,
  type UsageReport,
} from '../lambda/usage/usage-report';
import type { AdminTarget } from './target';
import { AdminError } from './target';

/** The usage line tvm-admin prints for this command. */
export const USAGE_REPORT_USAGE = `  usage report [--since 30d]         per user: bytes and objects stored, quota, requests by kind
                                     (get, put, list, delete, other) and bytes downloaded and
                                     uploaded over the last days, from the access logs`;

/** Days queried at once. */
const PARALLEL_DAYS = 8;

/** Reads everything the report needs from the target. */
export async function readUsageReport(
  target: Pick<AdminTarget, 'dynamo' | 'tableName' | 'defaultQuotaBytes'>,
  sinceDays: number,
  log: DomainLog,
  now = Date.now(),
): Promise<UsageReport> {
  const config = readRuntimeSettings(process.env) as TvmConfig;
  const { users: userStore } = accountStores(target.dynamo, target.tableName, log, config);
  const users: (ReportUser & { registration: string })[] = [];
  for await (const user of userStore.listUsers())
    users.push({
      username: user.username,
      registration: user.userId,
      ...(user.quotaBytes !== undefined ? { quotaBytes: user.quotaBytes } : {}),
    });
  const dayStore = new DynamoUsageDayStore(target.dynamo, target.tableName);
  const dayNames = reportDays(sinceDays, now);
  const days: { day: string; rows: Awaited<ReturnType<DynamoUsageDayStore['readDay']>> }[] = [];
  for (let start = 0; start < dayNames.length; start += PARALLEL_DAYS) {
    const slice = dayNames.slice(start, start + PARALLEL_DAYS);
    days.push(...(await Promise.all(slice.map(async (day) => ({ day, rows: await dayStore.readDay(day) })))));
  }
  const totals = await readUsageTotals(target.dynamo, target.tableName, users);
  // The deployed (or sandbox's) default, as the target states it; else the operator's DEFAULT_QUOTA_BYTES.
  const defaultQuotaBytes = target.defaultQuotaBytes ?? config.defaultQuotaBytes;
  return buildUsageReport({ users, totals, days, defaultQuotaBytes });
}

function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The report as a table for people. */
export function renderUsageReport(report: UsageReport): string {
  const rows = report.rows.map((row) => [
    row.account ? row.username : `${row.username} (deleted)`,
    formatBytes(row.bytes),
    String(row.objects),
    row.quotaBytes === null ? '-' : formatBytes(row.quotaBytes),
    row.overQuota ? 'OVER' : '',
    String(row.requests.get),
    String(row.requests.put),
    String(row.requests.list),
    String(row.requests.delete),
    String(row.requests.other),
    formatBytes(row.requests.bytesDownloaded),
    formatBytes(row.requests.bytesUploaded),
    String(row.requests.intoOtherFolders),
  ]);
  return [
    `Requests from ${report.from} to ${report.to} (UTC days, from the S3 access logs); storage as the meter counts it now.`,
    table(
      [
        'USER',
        'STORED',
        'OBJECTS',
        'QUOTA',
        '',
        'GET',
        'PUT',
        'LIST',
        'DELETE',
        'OTHER',
        'DOWNLOADED',
        'UPLOADED',
        'SHARED',
      ],
      rows,
    ),
  ].join('\n');
}

/** Runs `usage report`. */
export async function usageReportCommand(
  target: AdminTarget,
  since: string | undefined,
  log: DomainLog,
): Promise<{ json: unknown; table: string }> {
  let days: number;
  try {
    days = parseSinceDays(since);
  } catch (error) {
    if (error instanceof ValidationError) throw new AdminError(error.message);
    throw error;
  }
  const report = await readUsageReport(target, days, log);
  return { json: report, table: renderUsageReport(report) };
}

/**
 * `tvm-admin users quota <user> <size|none|default>`: the operator's per-user quota
 * (docs/operating.md#quotas). The value is checked before anything is read or written, so a
 * bad one changes nothing; then the user record takes it and the over-quota cut-off is synced
 * at once (the list applied to the vending role by this command, as `revoke-credentials` does).
 */
import { DynamoUsageTotals } from '../lambda/adapters/dynamo/usage-totals';
import { DynamoUserStore } from '../lambda/adapters/dynamo/user-store';
import { createQuotaSync } from '../lambda/adapters/quota-cut-off';
import type { Username } from '../lambda/accounts/username';
import type { DomainLog } from '../lambda/platform/audit';
import { readRuntimeSettings } from '../lambda/platform/config';
import { effectiveQuotaBytes, storageUsage } from '../lambda/usage/quota';
import type { QuotaSyncResult } from '../lambda/usage/quota-enforcer';
import { formatSize, parseSize, SizeError } from '../lambda/usage/size';
import type { RevocationList } from './revocations';
import { AdminError, type AdminTarget } from './target';

/** The command's lines in `tvm-admin --help`. */
export const QUOTA_USAGE = `  users quota <user> <size|none|default> [--dry-run]
                                     the user's storage quota: a size (500MB, 10GiB, bytes), none
                                     (no quota) or default (DEFAULT_QUOTA_BYTES). Over quota, new
                                     credentials carry no write at once; issued ones lose their
                                     writes within the cut-off bound (docs/security.md#quotas)`;

/** What the operator asked for: bytes, no quota, or back to the default. */
export type QuotaArgument = { readonly bytes: number } | 'none' | 'default';

/** The value as given; a {@link SizeError} becomes a one-line AdminError (exit 1, nothing changed). */
export function parseQuotaArgument(raw: string | undefined): QuotaArgument {
  if (raw === undefined) throw new AdminError('Missing <size|none|default>. Run tvm-admin --help.');
  const word = raw.trim().toLowerCase();
  if (word === 'none' || word === 'default') return word;
  try {
    return { bytes: parseSize(raw) };
  } catch (error) {
    if (error instanceof SizeError) throw new AdminError(`Invalid quota: ${error.message} Nothing was changed.`);
    throw error;
  }
}

/** The stored override for an argument: bytes, null for none, undefined for the default. */
function stored(argument: QuotaArgument): number | null | undefined {
  return argument === 'none' ? null : argument === 'default' ? undefined : argument.bytes;
}

function describeQuota(quotaBytes: number | null): string {
  return quotaBytes === null ? 'no quota' : `${formatSize(quotaBytes)} (${quotaBytes.toLocaleString('en')} bytes)`;
}

/** What the command prints and its JSON. */
export interface QuotaOutcome {
  readonly json: unknown;
  readonly table: string;
}

/** Runs `users quota` (or, with `dryRun`, says what it would do and changes nothing). */
export async function quotaCommand(
  target: AdminTarget,
  revocations: Pick<RevocationList, 'applyPending'>,
  username: Username,
  rawValue: string | undefined,
  dryRun: boolean,
  log: DomainLog,
): Promise<QuotaOutcome> {
  const argument = parseQuotaArgument(rawValue);
  // The target's own default quota (stack output, sandbox manifest); else this shell's
  // environment, from the same variables the functions read (docs/deploying.md).
  const defaultQuotaBytes = target.defaultQuotaBytes ?? readRuntimeSettings(process.env).defaultQuotaBytes;
  const users = new DynamoUserStore(target.dynamo, target.tableName);
  const user = await users.getUser(username);
  if (!user) throw new AdminError(`No user ${username}. Nothing was changed.`);
  const totals = await new DynamoUsageTotals(target.dynamo, target.tableName).usageTotals(username, user.userId);
  const override = stored(argument);
  const usage = storageUsage(totals, effectiveQuotaBytes(override, defaultQuotaBytes));
  const holds = `holds ${formatSize(usage.bytes)} in ${usage.objects} object(s)`;
  const quotaText = `${describeQuota(usage.quotaBytes)}${argument === 'default' ? ', the default' : ''}`;
  if (dryRun) {
    return {
      json: { dryRun: true, username, quotaBytes: usage.quotaBytes, usage },
      table:
        `dry run on ${target.description}; nothing was changed. users quota ${username} ${rawValue} would:\n` +
        `  1. set ${username}'s quota to ${quotaText} (${holds}: ${usage.overQuota ? 'over' : 'under'} it)\n` +
        `  2. ${usage.overQuota ? 'cut off every write into the folder (new and issued credentials)' : 'leave writes on (take any over-quota cut-off off)'}`,
    };
  }
  const updated = await users.setQuotaBytes(username, override);
  if (!updated) throw new AdminError(`No user ${username}. Nothing was changed.`);
  const sync = createQuotaSync({
    config: { tableName: target.tableName, region: target.region, defaultQuotaBytes },
    dynamo: target.dynamo,
    log,
    // tvm-admin has IAM: it applies the list itself rather than asking the worker.
    worker: { trigger: async () => void (await revocations.applyPending()) },
    cutOffMarginMs: target.cutOffMarginMs,
  });
  const result = await sync.sync(username);
  return {
    json: {
      username,
      quotaBytes: usage.quotaBytes,
      usage: { ...usage, overQuota: result.overQuota },
      ...since(result),
    },
    table: `${username}: ${quotaText}; ${holds}. ${outcomeLine(result)}`,
  };
}

function since(result: QuotaSyncResult): { writesDeniedToCredentialsIssuedBefore?: string } {
  return result.since === undefined
    ? {}
    : { writesDeniedToCredentialsIssuedBefore: new Date(result.since).toISOString() };
}

function outcomeLine(result: QuotaSyncResult): string {
  if (!result.overQuota) return 'Under quota: writes allowed.';
  const at = result.since === undefined ? '' : ` before ${new Date(result.since).toISOString()}`;
  return `Over quota: new credentials carry no write, and credentials issued${at} lose every write into the folder.`;
}

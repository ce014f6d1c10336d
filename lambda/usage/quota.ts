/**
 * The quota rule, stated once: which quota applies to a user and when a folder is over it.
 * The vend (session policy without writes), the meter (the over-quota cut-off entry) and the
 * operator's report all decide through here.
 */
import type { StorageUsage } from '../contract/wire';

/** A folder's totals as the meter counts them: current object versions only (docs/operating.md#quotas). */
export interface UsageTotals {
  readonly bytes: number;
  readonly objects: number;
}

/** A folder the meter has not counted yet holds nothing. */
export const EMPTY_USAGE: UsageTotals = { bytes: 0, objects: 0 };

/**
 * The quota in force for a user: their own (`quotaBytes` on the user record; null for none)
 * when the operator set one, else the `defaultQuotaBytes` setting, where 0 means none.
 * Returns null for no quota.
 */
export function effectiveQuotaBytes(
  userQuotaBytes: number | null | undefined,
  defaultQuotaBytes: number,
): number | null {
  if (userQuotaBytes === null) return null;
  if (userQuotaBytes !== undefined) return userQuotaBytes;
  return defaultQuotaBytes > 0 ? defaultQuotaBytes : null;
}

/**
 * Over quota once the folder holds at least the quota: at exactly the quota a write would
 * take it over, so writes stop there.
 */
export function isOverQuota(totals: UsageTotals, quotaBytes: number | null): boolean {
  return quotaBytes !== null && totals.bytes >= quotaBytes;
}

/** What responses carry as `storage.usage`. */
export function storageUsage(totals: UsageTotals, quotaBytes: number | null): StorageUsage {
  return {
    bytes: totals.bytes,
    objects: totals.objects,
    quotaBytes,
    overQuota: isOverQuota(totals, quotaBytes),
  };
}

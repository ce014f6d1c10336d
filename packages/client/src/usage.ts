/**
 * `storage.usage` (what the user's folder holds against its quota) as the TVM sends it with
 * every set of credentials, read defensively: a missing or malformed value is left out rather
 * than failing a login over a display detail.
 */
import type { StorageUsage } from './types';

/** The `usage` of a `storage` object, or undefined when absent or not the documented shape. */
export function parseStorageUsage(value: unknown): StorageUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { bytes, objects, quotaBytes, overQuota } = value as Record<string, unknown>;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (!count(bytes) || !count(objects) || typeof overQuota !== 'boolean') return undefined;
  if (quotaBytes !== null && !count(quotaBytes)) return undefined;
  return { bytes, objects, quotaBytes, overQuota };
}

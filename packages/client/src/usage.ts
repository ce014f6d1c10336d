/** Reading `storage.usage` (what a folder holds against its quota) from the TVM's answers. */
import { UnexpectedResponseError } from './errors';
import type { StorageUsage } from './types';

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** `storage.usage` as the TVM sends it on every answer that carries `storage`; anything else is malformed. */
export function parseStorageUsage(value: unknown): StorageUsage {
  if (typeof value !== 'object' || value === null) throw malformed();
  const { bytes, objects, quotaBytes, overQuota } = value as Record<string, unknown>;
  if (
    !isCount(bytes) ||
    !isCount(objects) ||
    !(quotaBytes === null || isCount(quotaBytes)) ||
    typeof overQuota !== 'boolean'
  )
    throw malformed();
  return { bytes, objects, quotaBytes, overQuota };
}

function malformed(): UnexpectedResponseError {
  return new UnexpectedResponseError('The token vending machine sent malformed storage usage.');
}

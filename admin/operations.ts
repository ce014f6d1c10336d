/**
 * What tvm-admin builds on a target: AccountAdmin on its table, bucket usage in S3, the
 * credential cut-off list, and the session policy. Each works the same on AWS and the sandbox.
 */
import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { PolicyDocument } from '../policies';
import { accountStores } from '../lambda/adapters/account-deletion-wiring';
import { DynamoLockoutStore } from '../lambda/adapters/dynamo/lockout-store';
import { DynamoRevocationStore } from '../lambda/operator/revocation-store';
import { AccountAdmin } from '../lambda/operator/account-admin';
import { readRuntimeSettings, type TvmConfig } from '../lambda/platform/config';
import { bucketArn, renderSessionPolicy, userPrefix } from '../lambda/credentials/policy';
import type { DomainLog } from '../lambda/platform/audit';
import type { Username } from '../lambda/accounts/username';
import { RevocationList } from './revocations';
import type { AdminTarget } from './target';

/** Progress reports for long operations; tvm-admin prints them to stderr. */
export type Progress = (message: string) => void;

/** The operator's account tools on the target's table. */
export function accountAdmin(target: Pick<AdminTarget, 'dynamo' | 'tableName'>, log: DomainLog): AccountAdmin {
  // AccountAdmin reads only runtime settings (audit retention, session lifetime limits), from
  // the operator's environment or their defaults, as the functions do.
  const config = readRuntimeSettings(process.env) as TvmConfig;
  return new AccountAdmin(accountStores(target.dynamo, target.tableName, log, config));
}

/** Objects and bytes under one folder. */
export interface FolderUsage {
  readonly folder: string;
  readonly objects: number;
  readonly bytes: number;
}

/**
 * Counts objects and bytes per top-level folder (`<username>/`), for one user or the whole
 * bucket; reports progress every 1,000 objects.
 */
export async function bucketUsage(
  target: AdminTarget,
  username: Username | undefined,
  progress: Progress,
): Promise<FolderUsage[]> {
  const totals = new Map<string, { objects: number; bytes: number }>();
  if (username) totals.set(userPrefix(username), { objects: 0, bytes: 0 });
  let seen = 0;
  const pages = paginateListObjectsV2(
    { client: target.s3, pageSize: 1000 },
    { Bucket: target.bucketName, ...(username ? { Prefix: userPrefix(username) } : {}) },
  );
  for await (const page of pages) {
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      const folder = key.includes('/') ? `${key.slice(0, key.indexOf('/'))}/` : '(bucket root)';
      const total = totals.get(folder) ?? { objects: 0, bytes: 0 };
      total.objects += 1;
      total.bytes += object.Size ?? 0;
      totals.set(folder, total);
    }
    seen += page.Contents?.length ?? 0;
    if (page.IsTruncated) progress(`counted ${seen} objects...`);
  }
  return [...totals].map(([folder, total]) => ({ folder, ...total })).sort((a, b) => a.folder.localeCompare(b.folder));
}

/** The vending role's cut-off list on the target. */
export function revocationList(
  target: AdminTarget,
  progress: Progress,
  sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms)),
): RevocationList {
  return new RevocationList({
    store: new DynamoRevocationStore(target.dynamo, target.tableName),
    iam: target.iam,
    vendingRoleName: target.vendingRoleName,
    vendingRolePolicy: target.vendingRolePolicy,
    maxCredentialSeconds: target.maxCredentialSeconds,
    cutOffMarginMs: target.cutOffMarginMs,
    sleep,
    progress,
  });
}

/** The exact session policy the TVM passes to AssumeRole for this user on this target. */
export function sessionPolicyFor(target: AdminTarget, username: Username): PolicyDocument {
  return renderSessionPolicy(bucketArn(target.bucketName, target.partition), username);
}

/** What `users unlock` finds: the counters an unlock clears (unknown devices' logins, reset codes). */
export interface LockoutFound {
  readonly locked: boolean;
  /** Epoch ms, the later of the two counters' locks, when locked. */
  readonly lockedUntil?: number;
  /** Failed attempts counted on both counters. */
  readonly failedAttempts: number;
}

/** Reads the two counters `users unlock` clears, without taking an attempt. */
export async function lockoutOf(
  target: Pick<AdminTarget, 'dynamo' | 'tableName'>,
  username: Username,
  now = Date.now(),
): Promise<LockoutFound> {
  const store = new DynamoLockoutStore(target.dynamo, target.tableName);
  const states = await Promise.all([store.peek(username), store.peek(username, 'reset')]);
  const live = states.filter((state) => state !== undefined && state.expiresAt > now);
  const locks = live.map((state) => state!.lockedUntil ?? 0).filter((until) => until > now);
  return {
    locked: locks.length > 0,
    ...(locks.length > 0 ? { lockedUntil: Math.max(...locks) } : {}),
    failedAttempts: live.reduce((sum, state) => sum + state!.attempts, 0),
  };
}

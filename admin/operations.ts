/**
 * What tvm-admin does beyond AccountAdmin: bucket usage and folder deletion in S3, and the
 * credential cut-off on the vending role in IAM. Each works the same on AWS and the sandbox.
 */
import { DeleteRolePolicyCommand, GetRolePolicyCommand, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DeleteObjectsCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { REVOKED_USERS_POLICY_NAME, type PolicyDocument } from '../policies';
import { DynamoTvmStore } from '../lambda/adapters/dynamo-store';
import { AccountAdmin } from '../lambda/core/account-admin';
import { readRuntimeSettings, type TvmConfig } from '../lambda/core/config';
import { bucketArn, renderSessionPolicy, userPrefix } from '../lambda/core/policy';
import { systemClock } from '../lambda/core/ports';
import { liveRevocations, parseRevokedUsersPolicy, renderRevokedUsersPolicy, type RevokedUser } from '../lambda/core/revocation';
import type { DomainLog } from '../lambda/core/tvm-service';
import type { Username } from '../lambda/core/username';
import type { AdminTarget } from './target';

/** Progress reports for long operations; tvm-admin prints them to stderr. */
export type Progress = (message: string) => void;

/** The operator's account tools on the target's table. */
export function accountAdmin(target: Pick<AdminTarget, 'dynamo' | 'tableName'>, log: DomainLog): AccountAdmin {
  const store = new DynamoTvmStore(target.dynamo, target.tableName);
  // AccountAdmin reads only the audit retention from the configuration.
  const config = { auditRetentionDays: readRuntimeSettings(process.env).auditRetentionDays } as TvmConfig;
  return new AccountAdmin({
    users: store,
    sessions: store,
    lockout: store,
    resetCodes: store,
    audit: store,
    clock: systemClock,
    log,
    config,
  });
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
export async function bucketUsage(target: AdminTarget, username: Username | undefined, progress: Progress): Promise<FolderUsage[]> {
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

/** Deletes every object under `<username>/`, 1,000 at a time; returns how many. */
export async function deleteFolder(target: AdminTarget, username: Username, progress: Progress): Promise<number> {
  let deleted = 0;
  const pages = paginateListObjectsV2({ client: target.s3, pageSize: 1000 }, { Bucket: target.bucketName, Prefix: userPrefix(username) });
  for await (const page of pages) {
    const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length === 0) continue;
    const result = await target.s3.send(
      new DeleteObjectsCommand({ Bucket: target.bucketName, Delete: { Objects: keys, Quiet: true } }),
    );
    if (result.Errors && result.Errors.length > 0) {
      throw new Error(`S3 refused to delete ${result.Errors.length} objects, e.g. ${result.Errors[0]?.Key}: ${result.Errors[0]?.Code}`);
    }
    deleted += keys.length;
    progress(`deleted ${deleted} objects...`);
  }
  return deleted;
}

/** The vending role's current revocation entries. */
export async function currentRevocations(target: AdminTarget): Promise<RevokedUser[]> {
  try {
    const { PolicyDocument: document } = await target.iam.send(
      new GetRolePolicyCommand({ RoleName: target.vendingRoleName, PolicyName: REVOKED_USERS_POLICY_NAME }),
    );
    return parseRevokedUsersPolicy(document ? (JSON.parse(decodeURIComponent(document)) as PolicyDocument) : undefined);
  } catch (error) {
    if (error instanceof NoSuchEntityException || (error as Error).name === 'NoSuchEntity') return [];
    throw error;
  }
}

/**
 * Cuts off every credential the user holds now: adds a Deny on the vending role for
 * credentials tagged with the username and issued before this moment, and drops entries
 * whose credentials have all expired. IAM applies it within seconds; AWS documents up to a
 * minute or so of propagation.
 */
export async function revokeCredentials(target: AdminTarget, username: Username, revokedAt: number): Promise<RevokedUser[]> {
  const entries = liveRevocations(
    [...(await currentRevocations(target)), { username, revokedAt }],
    revokedAt,
    target.maxCredentialSeconds,
  );
  const policy = renderRevokedUsersPolicy(entries);
  if (policy) {
    await target.iam.send(
      new PutRolePolicyCommand({
        RoleName: target.vendingRoleName,
        PolicyName: REVOKED_USERS_POLICY_NAME,
        PolicyDocument: JSON.stringify(policy),
      }),
    );
  } else {
    await target.iam.send(new DeleteRolePolicyCommand({ RoleName: target.vendingRoleName, PolicyName: REVOKED_USERS_POLICY_NAME }));
  }
  return entries;
}

/** The exact session policy the TVM passes to AssumeRole for this user on this target. */
export function sessionPolicyFor(target: AdminTarget, username: Username): PolicyDocument {
  return renderSessionPolicy(bucketArn(target.bucketName, target.partition), username);
}

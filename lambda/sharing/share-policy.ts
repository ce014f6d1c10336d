/**
 * The session policy of share credentials: exactly the shared path with the shared access, until
 * the share ends, and nothing else. Built from policies/share-session-policy.json by assigning
 * whole values (never by scanning text for placeholders, since the path is user input).
 */
import {
  SHARE_LIST_STATEMENT_SID,
  SHARE_OBJECT_ACTIONS,
  SHARE_POLICY_PLACEHOLDERS,
  SHARE_SESSION_POLICY_TEMPLATE,
  type PolicyDocument,
  type PolicyStatement,
} from '../../policies';
import type { ShareAccess } from '../contract/wire';
import { isUsername, type Username } from '../accounts/username';
import { userPrefix, withoutWrites } from '../credentials/policy';
import { isSharePath, sharePathKind, type SharePath } from './share-path';

/** What a share's session policy is rendered from. */
export interface SharePolicyInput {
  /** The file bucket's ARN. */
  readonly bucketArn: string;
  readonly owner: Username;
  readonly path: SharePath;
  readonly access: ShareAccess;
  /** Epoch ms after which the credentials reach nothing (the share's end); undefined for none. */
  readonly endsAt?: number;
  /** The owner's folder is over its quota: the credentials carry no write (read, list, delete stay). */
  readonly overQuota?: boolean;
}

/** The S3 key prefix a share reaches: the owner's folder plus the path (a file share: the file's key). */
export function sharedPrefix(owner: Username, path: SharePath): string {
  return `${userPrefix(owner)}${path}`;
}

/** An IAM date: ISO 8601 to the second, rounded down (the credentials end no later than the share). */
function iamDate(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Copies the template, replacing each string that IS a placeholder (whole-value match only)
 * and the one-element list `[actions placeholder]`; other strings are kept as they are.
 */
function assign(value: unknown, values: ReadonlyMap<string, string>, actions: readonly string[]): unknown {
  if (typeof value === 'string') return values.get(value) ?? value;
  if (Array.isArray(value)) {
    if (value.length === 1 && value[0] === SHARE_POLICY_PLACEHOLDERS.actions) return [...actions];
    return value.map((item) => assign(item, values, actions));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, assign(item, values, actions)]));
  }
  return value;
}

/** The statement without its `aws:CurrentTime` condition (a share without an end). */
function withoutEnd(statement: PolicyStatement): PolicyStatement {
  const { DateLessThan: _end, ...conditions } = statement.Condition ?? {};
  const { Condition: _old, ...rest } = statement;
  return Object.keys(conditions).length > 0 ? { ...rest, Condition: conditions } : rest;
}

/**
 * The session policy for a share: object actions of the access on the shared file, or on every
 * key under the shared folder, and (for a folder) ListBucket with that prefix only; each Allow
 * ends at `endsAt`; none writes while the owner is over quota. The owner and path are re-checked: this is the last stop before a policy.
 */
export function renderSharePolicy(input: SharePolicyInput): PolicyDocument {
  const { bucketArn, owner, path, access, endsAt } = input;
  if (!isUsername(owner)) throw new TypeError('renderSharePolicy needs a validated owner');
  if (!isSharePath(path)) throw new TypeError('renderSharePolicy needs a validated path');
  const actions = SHARE_OBJECT_ACTIONS[access];
  if (actions === undefined) throw new TypeError('renderSharePolicy needs a known access');
  const prefix = sharedPrefix(owner, path);
  const isFile = sharePathKind(path) === 'file';
  const values = new Map<string, string>([
    [SHARE_POLICY_PLACEHOLDERS.objects, isFile ? `${bucketArn}/${prefix}` : `${bucketArn}/${prefix}*`],
    [SHARE_POLICY_PLACEHOLDERS.bucketArn, bucketArn],
    [SHARE_POLICY_PLACEHOLDERS.prefix, prefix],
    [SHARE_POLICY_PLACEHOLDERS.prefixAnything, `${prefix}*`],
    ...(endsAt !== undefined ? [[SHARE_POLICY_PLACEHOLDERS.endsAt, iamDate(endsAt)] as [string, string]] : []),
  ]);
  const statements = (SHARE_SESSION_POLICY_TEMPLATE.Statement as readonly PolicyStatement[])
    // A file share lists nothing: not even the file's own name as a prefix (it would list `a.jpg.bak`).
    .filter((statement) => !(isFile && statement.Sid === SHARE_LIST_STATEMENT_SID))
    .map((statement) => (endsAt === undefined ? withoutEnd(statement) : statement))
    .map((statement) => assign(statement, values, actions) as PolicyStatement);
  const policy: PolicyDocument = { Version: SHARE_SESSION_POLICY_TEMPLATE.Version, Statement: statements };
  return input.overQuota ? withoutWrites(policy) : policy;
}

/**
 * The one source of every IAM policy the TVM uses. The JSON files are templates with two
 * placeholders that only ever appear as whole path segments of string values:
 * `__BUCKET_ARN__` (the file bucket's ARN) and `__USERNAME__` (a validated username); the
 * revocation statements have `__SID__`, `__REVOKED_AT__` (an ISO 8601 instant) and a
 * one-element list `["__VALUES__"]` that stands for the whole list of matched tag values.
 * (`policies/over-quota-statement.json` has the same `__SID__` and `__REVOKED_AT__`, and its
 * one-element `Resource` list `["__VALUES__"]` stands for the list of folder ARNs it matches.)
 * They are filled in by walking the parsed object (see lambda/credentials/policy.ts), never by
 * replacing text in raw JSON.
 */
import overQuotaStatementTemplate from './over-quota-statement.json';
import revokedGroupsStatementTemplate from './revoked-groups-statement.json';
import revokedShareGroupsStatementTemplate from './revoked-share-groups-statement.json';
import revokedSharesStatementTemplate from './revoked-shares-statement.json';
import revokedUsersStatementTemplate from './revoked-users-statement.json';
import sessionPolicyTemplate from './session-policy.json';
import shareSessionPolicyTemplate from './share-session-policy.json';
import vendingRolePolicyTemplate from './vending-role-policy.json';
import vendingRoleTrustPolicyTemplate from './vending-role-trust-policy.json';

/** An IAM policy document as a plain object. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** One statement of a {@link PolicyDocument}. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** Placeholder for the file bucket's ARN, e.g. `arn:aws:s3:::my-bucket`. */
export const BUCKET_ARN_PLACEHOLDER = '__BUCKET_ARN__';
/** Placeholder for one validated username. */
export const USERNAME_PLACEHOLDER = '__USERNAME__';

/** The vending role's own policy: the ceiling of what any vended credential can do. */
export const VENDING_ROLE_POLICY_TEMPLATE = vendingRolePolicyTemplate as PolicyDocument;
/** The per-user session policy passed to every AssumeRole call. */
export const SESSION_POLICY_TEMPLATE = sessionPolicyTemplate as PolicyDocument;

/** Placeholder for a statement id. */
export const SID_PLACEHOLDER = '__SID__';
/** Placeholder for the instant before which credentials are cut off (ISO 8601). */
export const REVOKED_AT_PLACEHOLDER = '__REVOKED_AT__';
/** Placeholder, as the only member of a list, for the list of tag values a revocation statement matches. */
export const VALUES_PLACEHOLDER = '__VALUES__';

/**
 * A statement of the vending role's `tvm-revoked-users` policy, maintained by tvm-admin: it
 * denies everything to credentials whose `username` session tag is one of the listed
 * usernames and that were issued before the cut-off instant.
 */
export const REVOKED_USERS_STATEMENT_TEMPLATE = revokedUsersStatementTemplate as PolicyStatement;

/**
 * The same for whole revocation groups (the `revocationGroup` session tag, a hash of the
 * username): used when too many users are revoked at once to list them by name.
 */
export const REVOKED_GROUPS_STATEMENT_TEMPLATE = revokedGroupsStatementTemplate as PolicyStatement;

/**
 * A statement of the same `tvm-revoked-users` policy for revoked shares: it denies everything
 * to credentials whose `share` session tag (the share id, set on share credentials) is listed
 * and that were issued before the cut-off instant.
 */
export const REVOKED_SHARES_STATEMENT_TEMPLATE = revokedSharesStatementTemplate as PolicyStatement;

/**
 * The same for whole share revocation groups (the `shareGroup` session tag, a hash of the
 * share id): used when too many shares are revoked to list them by id.
 */
export const REVOKED_SHARE_GROUPS_STATEMENT_TEMPLATE = revokedShareGroupsStatementTemplate as PolicyStatement;

/**
 * Every inline policy that tvm-admin puts on the vending role has a name starting with this
 * prefix, and no policy the stack defines does. Before CloudFormation deletes the role, the
 * stack's clean-up removes every inline policy with the prefix (IAM refuses to delete a role
 * that still has inline policies CloudFormation does not know).
 */
export const CLI_MANAGED_POLICY_PREFIX = 'tvm-';

/** The name of the vending role's inline policy that holds the revocation statements. */
export const REVOKED_USERS_POLICY_NAME = `${CLI_MANAGED_POLICY_PREFIX}revoked-users`;

/** The name of the vending role's own inline policy (policies/vending-role-policy.json). */
export const VENDING_ROLE_POLICY_NAME = 'FileBucketAccess';

/**
 * The session policy of credentials vended for a share (and, read-only on one file, for a
 * link's presigned URL): lambda/sharing/share-policy.ts fills it. Its placeholders stand for
 * whole string values only (never part of one), so a shared path, which is user input, is
 * only ever assigned as a value and never scanned for placeholders: `__SHARE_ACTIONS__` as the
 * only member of the action list, `__SHARED_OBJECTS__` (the object ARN, or ARN pattern for a
 * folder), `__SHARED_PREFIX__` / `__SHARED_PREFIX_ANYTHING__` (the folder's ListBucket
 * prefixes; the statement is dropped for a file) and `__SHARE_ENDS_AT__` (the share's end; the
 * condition is dropped for a share without one).
 */
export const SHARE_SESSION_POLICY_TEMPLATE = shareSessionPolicyTemplate as PolicyDocument;

/** Placeholders of {@link SHARE_SESSION_POLICY_TEMPLATE}, each a whole string value. */
export const SHARE_POLICY_PLACEHOLDERS = {
  actions: '__SHARE_ACTIONS__',
  objects: '__SHARED_OBJECTS__',
  bucketArn: BUCKET_ARN_PLACEHOLDER,
  prefix: '__SHARED_PREFIX__',
  prefixAnything: '__SHARED_PREFIX_ANYTHING__',
  endsAt: '__SHARE_ENDS_AT__',
} as const;

/** The S3 actions each share access grants within the shared path (a HEAD is s3:GetObject). */
export const SHARE_OBJECT_ACTIONS = {
  read: ['s3:GetObject'],
  readwrite: [
    's3:GetObject',
    's3:PutObject',
    's3:DeleteObject',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
  ],
} as const satisfies Readonly<Record<'read' | 'readwrite', readonly string[]>>;

/** The Sid of the template's ListBucket statement, dropped for a file share. */
export const SHARE_LIST_STATEMENT_SID = 'ListSharedFolderOnly';

/**
 * A statement of the same `tvm-revoked-users` policy for folders over their quota
 * (lambda/credentials/over-quota-policy.ts): it denies every write into the listed folders
 * (`Resource`: `<bucket ARN>/<username>/*` each, or the whole bucket as the fallback when the
 * list does not fit) to credentials issued before the instant, whoever holds them (the owner's
 * and share credentials alike). Its actions are also the writes a session policy leaves out
 * while its user is over quota: {@link OVER_QUOTA_WRITE_ACTIONS}.
 */
export const OVER_QUOTA_STATEMENT_TEMPLATE = overQuotaStatementTemplate as PolicyStatement;

/**
 * Every action that adds or changes data in a folder: s3:PutObject also covers the multipart
 * upload (create, upload part, complete) and being the destination of a copy. Over quota, they
 * are what credentials lose; reading, listing, deleting and aborting an upload stay.
 */
export const OVER_QUOTA_WRITE_ACTIONS: readonly string[] = [OVER_QUOTA_STATEMENT_TEMPLATE.Action].flat();
/** A role's trust policy: statements name principals instead of resources. */
export interface TrustPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly {
    readonly Sid?: string;
    readonly Effect: 'Allow' | 'Deny';
    readonly Principal: { readonly AWS: readonly string[] };
    readonly Action: readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
  }[];
}

/**
 * The vending role's trust policy: only the vending functions' execution roles may assume it,
 * only with a source identity (the username, so CloudTrail names the user) and only with the
 * session tag keys the TVM sets. Its placeholders are one-element lists standing for whole
 * lists: `["__TRUSTED_ROLE_ARNS__"]` (the execution roles of the routes that vend) and
 * `["__SESSION_TAG_KEYS__"]` (lambda/credentials/session-tags.ts).
 */
export const VENDING_ROLE_TRUST_POLICY_TEMPLATE = vendingRoleTrustPolicyTemplate as TrustPolicyDocument;

/** List placeholders of {@link VENDING_ROLE_TRUST_POLICY_TEMPLATE}. */
export const TRUST_POLICY_PLACEHOLDERS = {
  trustedRoleArns: '__TRUSTED_ROLE_ARNS__',
  sessionTagKeys: '__SESSION_TAG_KEYS__',
} as const;

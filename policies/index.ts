/**
 * The one source of every IAM policy the TVM uses. The JSON files are templates with two
 * placeholders that only ever appear as whole path segments of string values:
 * `__BUCKET_ARN__` (the file bucket's ARN) and `__USERNAME__` (a validated username); the
 * revocation statements have `__SID__`, `__REVOKED_AT__` (an ISO 8601 instant) and a
 * one-element list `["__VALUES__"]` that stands for the whole list of matched tag values.
 * They are filled in by walking the parsed object (see lambda/credentials/policy.ts), never by
 * replacing text in raw JSON.
 */
import revokedGroupsStatementTemplate from './revoked-groups-statement.json';
import revokedUsersStatementTemplate from './revoked-users-statement.json';
import sessionPolicyTemplate from './session-policy.json';
import vendingRolePolicyTemplate from './vending-role-policy.json';

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

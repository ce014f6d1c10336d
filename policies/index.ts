/**
 * The one source of every IAM policy the TVM uses. The JSON files are templates with two
 * placeholders that only ever appear as whole path segments of string values:
 * `__BUCKET_ARN__` (the file bucket's ARN) and `__USERNAME__` (a validated username).
 * They are filled in by walking the parsed object (see lambda/core/policy.ts), never by
 * replacing text in raw JSON.
 */
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

import {
  BUCKET_ARN_PLACEHOLDER,
  OVER_QUOTA_WRITE_ACTIONS,
  SESSION_POLICY_TEMPLATE,
  TRUST_POLICY_PLACEHOLDERS,
  USERNAME_PLACEHOLDER,
  VENDING_ROLE_POLICY_TEMPLATE,
  VENDING_ROLE_TRUST_POLICY_TEMPLATE,
  type PolicyDocument,
  type PolicyStatement,
  type TrustPolicyDocument,
} from '../../policies';
import { PolicyTooLargeError } from '../platform/errors';
import { isUsername, type Username } from '../accounts/username';
import { SESSION_TAG_KEYS } from './session-tags';

/** AssumeRole's limit on the plaintext session policy, in characters. */
export const SESSION_POLICY_MAX_CHARACTERS = 2048;

/** The ARN of an S3 bucket in a partition (`aws`, `aws-cn`, `aws-us-gov`). */
export function bucketArn(bucketName: string, partition = 'aws'): string {
  return `arn:${partition}:s3:::${bucketName}`;
}

type Replacements = Readonly<Record<string, string>>;

/** Copies a policy template, replacing placeholders inside string values only; keys and structure stay. */
export function fillTemplate<T>(value: T, replacements: Replacements): T {
  if (typeof value === 'string') {
    let filled: string = value;
    for (const [placeholder, replacement] of Object.entries(replacements)) {
      filled = filled.split(placeholder).join(replacement);
    }
    return filled as T;
  }
  if (Array.isArray(value)) return value.map((item) => fillTemplate(item, replacements)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillTemplate(item, replacements)])) as T;
  }
  return value;
}

/**
 * The vending role's policy for one bucket ARN. The stack passes a CDK token for the ARN;
 * the tests pass a literal one.
 */
export function renderVendingRolePolicy(fileBucketArn: string): PolicyDocument {
  return fillTemplate(VENDING_ROLE_POLICY_TEMPLATE, { [BUCKET_ARN_PLACEHOLDER]: fileBucketArn });
}

/** Copies a template, replacing each one-element list `[placeholder]` with the whole list given for it. */
function fillLists<T>(value: T, lists: Readonly<Record<string, readonly string[]>>): T {
  if (Array.isArray(value)) {
    const only: unknown = value.length === 1 ? value[0] : undefined;
    if (typeof only === 'string' && Object.hasOwn(lists, only)) return [...(lists[only] ?? [])] as T;
    return value.map((item: unknown) => fillLists(item, lists)) as T;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillLists(item, lists)])) as T;
  }
  return value;
}

/**
 * The vending role's trust policy for the execution roles of the functions that vend (ARNs, or
 * CDK tokens in the stack). The session tag keys default to the ones the TVM sets.
 */
export function renderVendingRoleTrustPolicy(
  trustedRoleArns: readonly string[],
  sessionTagKeys: readonly string[] = SESSION_TAG_KEYS,
): TrustPolicyDocument {
  if (trustedRoleArns.length === 0) throw new Error('The vending role must trust at least one execution role.');
  return fillLists(VENDING_ROLE_TRUST_POLICY_TEMPLATE, {
    [TRUST_POLICY_PLACEHOLDERS.trustedRoleArns]: trustedRoleArns,
    [TRUST_POLICY_PLACEHOLDERS.sessionTagKeys]: sessionTagKeys,
  });
}

/**
 * The session policy for one user: object actions on `<bucket>/<username>/*` and ListBucket
 * only under `<username>/`; over quota, without any write (see {@link withoutWrites}). The
 * username is re-checked here because this is the last stop before it becomes part of a policy.
 */
export function renderSessionPolicy(
  fileBucketArn: string,
  username: Username,
  options: { readonly overQuota?: boolean } = {},
): PolicyDocument {
  if (!isUsername(username)) throw new TypeError('renderSessionPolicy needs a validated username');
  const policy = fillTemplate(SESSION_POLICY_TEMPLATE, {
    [BUCKET_ARN_PLACEHOLDER]: fileBucketArn,
    [USERNAME_PLACEHOLDER]: username,
  });
  return options.overQuota ? withoutWrites(policy) : policy;
}

/**
 * The policy with every write action (OVER_QUOTA_WRITE_ACTIONS: put, the multipart upload,
 * being a copy's destination, tags, ACLs) taken out of its Allow statements, and an Allow left
 * with no action dropped: credentials of a folder over its quota read, list and delete only.
 * Taking actions out of an Allow can only narrow it.
 */
export function withoutWrites(policy: PolicyDocument): PolicyDocument {
  const statements = policy.Statement.flatMap((statement): PolicyStatement[] => {
    if (statement.Effect !== 'Allow') return [statement];
    // A pattern (`s3:Put*`) could hide a write from the filter: the templates name every action.
    if ([statement.Action].flat().some((action) => action.includes('*')))
      throw new TypeError('withoutWrites needs Allow statements that name each action');
    const actions = [statement.Action].flat().filter((action) => !OVER_QUOTA_WRITE_ACTIONS.includes(action));
    return actions.length === 0 ? [] : [{ ...statement, Action: actions }];
  });
  return { ...policy, Statement: statements };
}

/**
 * JSON text with every non-ASCII UTF-16 unit written as `\uXXXX`. AssumeRole refuses a policy
 * holding any character outside tab, LF, CR and U+0020-U+00FF (STS API reference, AssumeRole,
 * `Policy`), and a share's policy holds a path in any script; JSON readers (IAM's, the
 * sandbox's) read the escapes back as the same characters.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Serialises a session policy compactly for AssumeRole, in ASCII ({@link asciiJson}), and refuses
 * one over the limit with {@link PolicyTooLargeError} rather than letting STS fail with its own text.
 */
export function serialiseSessionPolicy(policy: PolicyDocument): string {
  const text = asciiJson(policy);
  if (text.length > SESSION_POLICY_MAX_CHARACTERS) {
    throw new PolicyTooLargeError(text.length, SESSION_POLICY_MAX_CHARACTERS);
  }
  return text;
}

/** The S3 key prefix a user's credentials reach. Always ends in `/`. */
export function userPrefix(username: Username): string {
  return `${username}/`;
}

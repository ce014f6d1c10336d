/**
 * The credential cut-off: which issued STS credentials must stop working, and the vending
 * role's Deny policy that stops them. Pure: the store, the clock and IAM are the caller's.
 *
 * A revoked user's credentials are matched by their session tags and `aws:TokenIssueTime`
 * (the AWS-documented way to revoke a role's temporary credentials). While the list fits the
 * role's inline-policy budget, each user is named; beyond that, users are matched by their
 * revocation group (a hash of the username, carried as a session tag), so the policy stays
 * bounded however many users are revoked, at the price of also cutting off, once, the
 * credentials of the other users in those groups (their apps fetch fresh ones).
 */
import { createHash } from 'node:crypto';
import {
  REVOKED_AT_PLACEHOLDER,
  REVOKED_GROUPS_STATEMENT_TEMPLATE,
  REVOKED_USERS_STATEMENT_TEMPLATE,
  SID_PLACEHOLDER,
  VALUES_PLACEHOLDER,
  type PolicyDocument,
  type PolicyStatement,
} from '../../policies';
import { fillTemplate } from './policy';
import { isUsername, type Username } from '../accounts/username';

/** A user whose credentials issued before `cutOffAt` must stop working. */
export interface RevokedUser {
  readonly username: Username;
  /** Epoch ms, a whole second: credentials issued before it are denied. */
  readonly cutOffAt: number;
}

/**
 * IAM's limit on the aggregate size of all inline policies of one role, in characters,
 * whitespace not counted ("Role policy size cannot exceed 10,240 characters",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 */
export const ROLE_INLINE_POLICY_MAX_CHARACTERS = 10_240;

/** The session tag carrying the user's revocation group; the vending functions set it. */
export const REVOCATION_GROUP_SESSION_TAG = 'revocationGroup';

/** The session tag carrying the share id on share credentials (and the link id on a link's). */
export const SHARE_SESSION_TAG = 'share';

/** The session tag carrying a share's revocation group (a hash of the share id), for long cut-off lists. */
export const SHARE_GROUP_SESSION_TAG = 'shareGroup';

/** How many revocation groups there are: two hex digits of SHA-256. */
export const REVOCATION_GROUPS = 256;

/**
 * How far the clock tvm-admin reads (DynamoDB's, from its `Date` header) and STS's clock
 * (which stamps `aws:TokenIssueTime`) may disagree. Both are AWS service clocks.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 10_000;

/**
 * How long a revocation's commit (the write that revokes the sessions and carries the cut-off
 * instant on the user record) may take, measured by the caller's own monotonic clock, for the
 * instant it wrote before the commit to be the one IAM enforces (see {@link provisionalCutOff}).
 */
export const COMMIT_ALLOWANCE_MS = 2_000;

/**
 * The resolution of the instants involved: an HTTP `Date` header and STS's `Expiration` are
 * whole seconds, so each may lag the true time by up to this much.
 */
export const SECOND_RESOLUTION_MS = 1_000;

/**
 * The longest a vending route waits, inside one request, for a user's cut-off instant to pass
 * (well within the function timeout); a longer wait is a 503 with Retry-After.
 */
export const VEND_WAIT_MAX_MS = 3_000;

/**
 * How long a deleted name stays held after the last credential issued to it has expired:
 * a safety margin on top of the exact arithmetic.
 */
export const NAME_HOLD_MARGIN_MS = 5 * 60_000;

/** Thrown when even the grouped list cannot fit the role's remaining policy budget. */
export class RevocationPolicyFullError extends Error {
  constructor(
    readonly characters: number,
    readonly budget: number,
  ) {
    super(
      `The revocation policy needs ${characters} characters; the vending role has ${budget} left of IAM's ` +
        `${ROLE_INLINE_POLICY_MAX_CHARACTERS} for inline policies. Remove other inline policies from the role.`,
    );
    this.name = 'RevocationPolicyFullError';
  }
}

/** A user's revocation group: the first byte of SHA-256 of the username, two hex digits. */
export function revocationGroup(username: Username): string {
  return createHash('sha256').update(username, 'utf8').digest('hex').slice(0, 2);
}

/** A share's revocation group: the first byte of SHA-256 of the share id, two hex digits. */
export function shareRevocationGroup(shareId: string): string {
  return createHash('sha256').update(shareId, 'utf8').digest('hex').slice(0, 2);
}

/** A policy's size as IAM counts it against the quota: characters, whitespace excluded. */
export function policyCharacters(policy: PolicyDocument | string): number {
  const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
  return text.replace(/\s/g, '').length;
}

/** What is left of the role's inline-policy budget beside its own policy. */
export function revocationBudget(vendingRolePolicy: PolicyDocument): number {
  return ROLE_INLINE_POLICY_MAX_CHARACTERS - policyCharacters(vendingRolePolicy);
}

/**
 * The cut-off instant for a revocation whose commit was followed by a read of a TVM-side
 * clock showing `serverDate` (truncated to the second, as an HTTP `Date` header is): a /token
 * call that passed its session check before the commit can still call STS up to
 * `marginMs` later (the function timeout plus clock skew). Rounded up to a whole second.
 */
export function cutOffInstant(serverDate: number, marginMs: number): number {
  return Math.ceil((serverDate + SECOND_RESOLUTION_MS + marginMs) / 1000) * 1000;
}

/**
 * The cut-off instant a revocation writes on the user record in the same commit that revokes
 * the sessions, from a TVM-side clock read just before (`serverDateBefore`): safe as long as
 * the commit completes within {@link COMMIT_ALLOWANCE_MS} of that read, since the commit then
 * happened before `serverDateBefore + 1 s + COMMIT_ALLOWANCE_MS`. The caller checks the time
 * the commit took and, past the allowance, takes a later instant ({@link cutOffInstant}).
 */
export function provisionalCutOff(serverDateBefore: number, marginMs: number): number {
  return cutOffInstant(serverDateBefore + COMMIT_ALLOWANCE_MS, marginMs);
}

/**
 * When STS issued credentials, by STS's own clock, from the `Expiration` it returned: the
 * issue time plus the duration asked for. `Expiration` is to the second, so the true issue
 * time may be up to {@link SECOND_RESOLUTION_MS} earlier than this.
 */
export function credentialsIssuedAt(expiration: string, durationSeconds: number): number {
  return Date.parse(expiration) - durationSeconds * 1000;
}

/**
 * How long after `issuedAt` (see {@link credentialsIssuedAt}) credentials must be issued for
 * a cut-off at `cutOffAt` not to deny them: 0 when these already escape it. The deny matches
 * `aws:TokenIssueTime < cutOffAt`; the resolution of `Expiration` is allowed for.
 */
export function cutOffDelayMs(cutOffAt: number | undefined, issuedAt: number): number {
  if (cutOffAt === undefined) return 0;
  return Math.max(0, cutOffAt + SECOND_RESOLUTION_MS - issuedAt);
}

/** When every credential a cut-off covers has expired (plus clock skew): its entry can go. */
export function revocationExpiresAt(cutOffAt: number, maxCredentialSeconds: number): number {
  return cutOffAt + maxCredentialSeconds * 1000 + CLOCK_SKEW_ALLOWANCE_MS;
}

/** Until when a deleted name is held: its last credential's expiry plus a margin. */
export function nameHeldUntil(cutOffAt: number, maxCredentialSeconds: number): number {
  return revocationExpiresAt(cutOffAt, maxCredentialSeconds) + NAME_HOLD_MARGIN_MS;
}

/**
 * Entries still needed at `now`: an entry whose credentials have all expired is dropped, and
 * of several entries for one user the latest cut-off wins (it covers the earlier ones).
 */
export function liveRevocations(
  entries: readonly RevokedUser[],
  now: number,
  maxCredentialSeconds: number,
): RevokedUser[] {
  const latest = new Map<Username, number>();
  for (const entry of entries) {
    if (revocationExpiresAt(entry.cutOffAt, maxCredentialSeconds) <= now) continue;
    latest.set(entry.username, Math.max(entry.cutOffAt, latest.get(entry.username) ?? 0));
  }
  return [...latest]
    .map(([username, cutOffAt]) => ({ username, cutOffAt }))
    .sort((a, b) => a.username.localeCompare(b.username));
}

/** The rendered revocation policy and how it matches. */
export interface RenderedRevocations {
  /** Undefined when nobody is cut off (the inline policy is then deleted: IAM refuses an empty one). */
  readonly policy: PolicyDocument | undefined;
  /** `users`: each user named; `groups`: by revocation group, because the names did not fit. */
  readonly matchedBy: 'users' | 'groups';
  readonly characters: number;
}

/** An IAM date: ISO 8601 to the second. */
function iamDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Statements for `items` (a tag value and its cut-off), keeping the `kept` latest distinct
 * cut-offs as they are and moving every older one later, to the oldest kept cut-off. Moving
 * a cut-off later only denies more, never less, so every merge is safe.
 */
function statements(template: PolicyStatement, items: ReadonlyMap<string, number>, kept: number): PolicyStatement[] {
  const cutOffs = [...new Set(items.values())].sort((a, b) => b - a);
  const floor = cutOffs[Math.min(kept, cutOffs.length) - 1] ?? 0;
  const byCutOff = new Map<number, string[]>();
  for (const [value, cutOffAt] of items) {
    const effective = Math.max(cutOffAt, floor);
    byCutOff.set(effective, [...(byCutOff.get(effective) ?? []), value]);
  }
  return [...byCutOff]
    .sort(([a], [b]) => a - b)
    .map(([cutOffAt, values]) => {
      const at = iamDate(cutOffAt);
      const filled = fillTemplate(template, {
        [SID_PLACEHOLDER]: `CutOff${at.replace(/\D/g, '')}`,
        [REVOKED_AT_PLACEHOLDER]: at,
      });
      return withValues(filled, values.sort());
    });
}

/** Replaces the `["__VALUES__"]` list of the statement's StringEquals condition with `values`. */
function withValues(statement: PolicyStatement, values: readonly string[]): PolicyStatement {
  const equals = Object.fromEntries(
    Object.entries(statement.Condition?.StringEquals ?? {}).map(([key, listed]) => [
      key,
      Array.isArray(listed) && listed.length === 1 && listed[0] === VALUES_PLACEHOLDER ? values : listed,
    ]),
  );
  return { ...statement, Condition: { ...statement.Condition, StringEquals: equals } };
}

function document(statementList: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statementList };
}

/**
 * The largest number of distinct cut-offs to keep (1..n) whose rendering fits `budget`, and
 * that rendering; undefined when even one statement does not fit. Size grows with the
 * number kept, so a binary search finds it in log n renderings.
 */
function fitting(
  template: PolicyStatement,
  items: ReadonlyMap<string, number>,
  budget: number,
): PolicyDocument | undefined {
  const distinct = new Set(items.values()).size;
  const render = (kept: number) => document(statements(template, items, kept));
  if (policyCharacters(render(1)) > budget) return undefined;
  let low = 1;
  let high = distinct;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (policyCharacters(render(middle)) <= budget) low = middle;
    else high = middle - 1;
  }
  return render(low);
}

/**
 * The vending role's revocation policy for `entries` (already pruned with
 * {@link liveRevocations}) within `budget` characters: by username while the names fit,
 * otherwise by revocation group. Throws {@link RevocationPolicyFullError} only when even the
 * 256 groups in one statement do not fit, i.e. the role's other policies leave too little.
 */
export function renderRevocationPolicy(entries: readonly RevokedUser[], budget: number): RenderedRevocations {
  if (entries.length === 0) return { policy: undefined, matchedBy: 'users', characters: 0 };
  const byUser = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const entry of entries) {
    if (!isUsername(entry.username)) throw new TypeError('renderRevocationPolicy needs validated usernames');
    byUser.set(entry.username, Math.max(entry.cutOffAt, byUser.get(entry.username) ?? 0));
    const group = revocationGroup(entry.username);
    byGroup.set(group, Math.max(entry.cutOffAt, byGroup.get(group) ?? 0));
  }
  const byName = fitting(REVOKED_USERS_STATEMENT_TEMPLATE, byUser, budget);
  if (byName) return { policy: byName, matchedBy: 'users', characters: policyCharacters(byName) };
  const grouped = fitting(REVOKED_GROUPS_STATEMENT_TEMPLATE, byGroup, budget);
  if (grouped) return { policy: grouped, matchedBy: 'groups', characters: policyCharacters(grouped) };
  throw new RevocationPolicyFullError(
    policyCharacters(document(statements(REVOKED_GROUPS_STATEMENT_TEMPLATE, byGroup, 1))),
    budget,
  );
}

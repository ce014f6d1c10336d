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
 *
 * Revoked shares go on the same list (the one inline policy, the one budget): credentials
 * vended for a share carry its id (`share` tag) and its revocation group (`shareGroup` tag), and
 * are matched by id while the ids fit, otherwise by group.
 */
import { createHash } from 'node:crypto';
import {
  REVOKED_AT_PLACEHOLDER,
  REVOKED_GROUPS_STATEMENT_TEMPLATE,
  REVOKED_SHARE_GROUPS_STATEMENT_TEMPLATE,
  REVOKED_SHARES_STATEMENT_TEMPLATE,
  REVOKED_USERS_STATEMENT_TEMPLATE,
  SID_PLACEHOLDER,
  VALUES_PLACEHOLDER,
  type PolicyDocument,
  type PolicyStatement,
} from '../../policies';
import { fillTemplate } from './policy';
import { isUsername, type Username } from '../accounts/username';
import { FUNCTION_TIMEOUT_SECONDS } from '../contract/limits';
import { isGrantId } from '../sharing/requests';
import type { RevokedShare } from '../sharing/ports';

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

export { REVOCATION_GROUP_SESSION_TAG, SHARE_GROUP_SESSION_TAG, SHARE_SESSION_TAG } from './session-tags';

/** How many revocation groups there are: two hex digits of SHA-256. */
export const REVOCATION_GROUPS = 256;

/**
 * How far the clock tvm-admin reads (DynamoDB's, from its `Date` header) and STS's clock
 * (which stamps `aws:TokenIssueTime`) may disagree. Both are AWS service clocks.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 10_000;

/**
 * A cut-off instant's margin on AWS: the functions' timeout (a vending call already past its
 * checks may still reach STS that long after) plus the clock skew allowance.
 */
export const CUT_OFF_MARGIN_MS = FUNCTION_TIMEOUT_SECONDS * 1000 + CLOCK_SKEW_ALLOWANCE_MS;

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

/** The same for revoked shares: expired entries dropped, the latest cut-off per share kept. */
export function liveShareRevocations(
  entries: readonly RevokedShare[],
  now: number,
  maxCredentialSeconds: number,
): RevokedShare[] {
  const latest = new Map<string, number>();
  for (const entry of entries) {
    if (revocationExpiresAt(entry.cutOffAt, maxCredentialSeconds) <= now) continue;
    latest.set(entry.shareId, Math.max(entry.cutOffAt, latest.get(entry.shareId) ?? 0));
  }
  return [...latest]
    .map(([shareId, cutOffAt]) => ({ shareId, cutOffAt }))
    .sort((a, b) => (a.shareId < b.shareId ? -1 : a.shareId > b.shareId ? 1 : 0));
}

/** The rendered revocation policy and how it matches. */
export interface RenderedRevocations {
  /** Undefined when nothing is cut off (the inline policy is then deleted: IAM refuses an empty one). */
  readonly policy: PolicyDocument | undefined;
  /** `users`: each user named; `groups`: by revocation group, because the names did not fit. */
  readonly matchedBy: 'users' | 'groups';
  /** `shares`: each share by id; `groups`: by share revocation group, because the ids did not fit. */
  readonly sharesMatchedBy: 'shares' | 'groups';
  readonly characters: number;
}

/** An IAM date: ISO 8601 to the second. */
function iamDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One kind of entry on the list, as rendered: its statement template and each tag value with its cut-off. */
interface Part {
  readonly template: PolicyStatement;
  /** Statement ids of this part start with it: ids stay unique across parts with equal cut-offs. */
  readonly sidPrefix: string;
  readonly items: ReadonlyMap<string, number>;
}

/**
 * Statements for the part's items, every cut-off older than `floor` moved later, to `floor`.
 * Moving a cut-off later only denies more, never less, so every merge is safe.
 */
function statements(part: Part, floor: number): PolicyStatement[] {
  const byCutOff = new Map<number, string[]>();
  for (const [value, cutOffAt] of part.items) {
    const effective = Math.max(cutOffAt, floor);
    byCutOff.set(effective, [...(byCutOff.get(effective) ?? []), value]);
  }
  return [...byCutOff]
    .sort(([a], [b]) => a - b)
    .map(([cutOffAt, values]) => {
      const at = iamDate(cutOffAt);
      const filled = fillTemplate(part.template, {
        [SID_PLACEHOLDER]: `${part.sidPrefix}${at.replace(/\D/g, '')}`,
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
 * The parts rendered keeping the `kept` latest distinct cut-offs (over all parts together) as
 * they are and moving every older one to the oldest kept.
 */
function renderKept(parts: readonly Part[], cutOffs: readonly number[], kept: number): PolicyDocument {
  const floor = cutOffs[Math.min(kept, cutOffs.length) - 1] ?? 0;
  return document(parts.flatMap((part) => statements(part, floor)));
}

/**
 * The largest number of distinct cut-offs to keep whose rendering fits `budget`, and that
 * rendering; undefined when even one cut-off does not fit. Size grows with the number kept
 * (keeping more only splits statements), so a binary search finds it in log n renderings.
 */
function fitting(parts: readonly Part[], budget: number): PolicyDocument | undefined {
  const cutOffs = [...new Set(parts.flatMap((part) => [...part.items.values()]))].sort((a, b) => b - a);
  if (policyCharacters(renderKept(parts, cutOffs, 1)) > budget) return undefined;
  let low = 1;
  let high = cutOffs.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (policyCharacters(renderKept(parts, cutOffs, middle)) <= budget) low = middle;
    else high = middle - 1;
  }
  return renderKept(parts, cutOffs, low);
}

/** `items` keyed by `key`, each with the latest cut-off of its entries. */
function latestBy<T extends { readonly cutOffAt: number }>(
  entries: readonly T[],
  key: (entry: T) => string,
): Map<string, number> {
  const latest = new Map<string, number>();
  for (const entry of entries) latest.set(key(entry), Math.max(entry.cutOffAt, latest.get(key(entry)) ?? 0));
  return latest;
}

/**
 * The vending role's revocation policy (the one `tvm-revoked-users` inline policy) for revoked
 * users and revoked shares (both already pruned with {@link liveRevocations} and
 * {@link liveShareRevocations}), together within `budget` characters. Each kind is matched
 * precisely (users by name, shares by id) while that fits, otherwise by its revocation group;
 * the combinations are tried from the most precise, shares falling back to groups before users
 * do (a revoked user's group statement cuts off other users' main credentials; a share group's
 * only other shares' credentials). Throws {@link RevocationPolicyFullError} only when even both
 * kinds by group, each in one statement, do not fit, i.e. the role's other policies leave too little.
 */
export function renderRevocationPolicy(
  entries: readonly RevokedUser[],
  budget: number,
  shares: readonly RevokedShare[] = [],
): RenderedRevocations {
  if (entries.length === 0 && shares.length === 0)
    return { policy: undefined, matchedBy: 'users', sharesMatchedBy: 'shares', characters: 0 };
  for (const entry of entries) {
    if (!isUsername(entry.username)) throw new TypeError('renderRevocationPolicy needs validated usernames');
  }
  for (const share of shares) {
    if (!isGrantId(share.shareId)) throw new TypeError('renderRevocationPolicy needs well-formed share ids');
  }
  const users = {
    users: {
      template: REVOKED_USERS_STATEMENT_TEMPLATE,
      sidPrefix: 'CutOff',
      items: latestBy(entries, (e) => e.username),
    },
    groups: {
      template: REVOKED_GROUPS_STATEMENT_TEMPLATE,
      sidPrefix: 'CutOff',
      items: latestBy(entries, (e) => revocationGroup(e.username)),
    },
  } satisfies Record<RenderedRevocations['matchedBy'], Part>;
  const shareParts = {
    shares: {
      template: REVOKED_SHARES_STATEMENT_TEMPLATE,
      sidPrefix: 'ShareCutOff',
      items: latestBy(shares, (s) => s.shareId),
    },
    groups: {
      template: REVOKED_SHARE_GROUPS_STATEMENT_TEMPLATE,
      sidPrefix: 'ShareCutOff',
      items: latestBy(shares, (s) => shareRevocationGroup(s.shareId)),
    },
  } satisfies Record<RenderedRevocations['sharesMatchedBy'], Part>;
  const combinations = [
    ['users', 'shares'],
    ['users', 'groups'],
    ['groups', 'shares'],
    ['groups', 'groups'],
  ] as const;
  for (const [matchedBy, sharesMatchedBy] of combinations) {
    const policy = fitting([users[matchedBy], shareParts[sharesMatchedBy]], budget);
    if (policy) return { policy, matchedBy, sharesMatchedBy, characters: policyCharacters(policy) };
  }
  const grouped = [users.groups, shareParts.groups];
  throw new RevocationPolicyFullError(
    policyCharacters(renderKept(grouped, [...new Set(grouped.flatMap((part) => [...part.items.values()]))], 1)),
    budget,
  );
}

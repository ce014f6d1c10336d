/**
 * The over-quota part of the vending role's `tvm-revoked-users` policy: for each folder over its
 * quota, a Deny of every write into `<bucket>/<username>/*` to credentials issued before the
 * entry's `since` (policies/over-quota-statement.json). It is resource-based, so it stops the
 * owner's credentials and share credentials writing into that folder alike, and nothing else.
 *
 * It shares the role's one inline-policy budget with the user and share cut-offs, which come
 * first (they stop everything, a quota only writes): the quota part gets what they leave, but
 * never less than its fallback needs. Folders are listed newest first while they fit; the
 * entries that do not are covered by ONE statement that denies writes on the whole bucket to
 * credentials issued before the newest unlisted `since`: the one way a user's quota touches
 * other users' credentials (those issued before that instant lose their writes; their apps
 * fetch fresh credentials, which write again). Pure.
 */
import {
  OVER_QUOTA_STATEMENT_TEMPLATE,
  REVOKED_AT_PLACEHOLDER,
  SID_PLACEHOLDER,
  type PolicyDocument,
  type PolicyStatement,
} from '../../policies';
import { isUsername, type Username } from '../accounts/username';
import type { RevokedShare } from '../sharing/ports';
import { fillTemplate } from './policy';
import {
  policyCharacters,
  renderRevocationPolicy,
  revocationExpiresAt,
  RevocationPolicyFullError,
  type RenderedRevocations,
  type RevokedUser,
} from './revocation';

/** A folder over its quota as the role renders it: writes denied to credentials issued before `since`. */
export interface OverQuotaFolder {
  readonly username: Username;
  /** Epoch ms, a whole second. */
  readonly since: number;
}

/** The rendered cut-off policy (users, shares and folders over quota) and how each part matches. */
export interface RenderedCutOffs extends RenderedRevocations {
  /** The folders listed by name, newest first. */
  readonly quotaListed: readonly OverQuotaFolder[];
  /** The folders only the whole-bucket fallback covers, and its instant; absent when every folder is listed. */
  readonly quotaFallback?: { readonly folders: readonly OverQuotaFolder[]; readonly before: number };
}

/**
 * Over-quota entries that still need a statement at `now`: once every credential issued before
 * `since` has expired, new credentials are governed by the vend's own check alone. The latest
 * `since` per user wins.
 */
export function liveOverQuota(
  entries: readonly OverQuotaFolder[],
  now: number,
  maxCredentialSeconds: number,
): OverQuotaFolder[] {
  const latest = new Map<Username, number>();
  for (const entry of entries) {
    if (revocationExpiresAt(entry.since, maxCredentialSeconds) <= now) continue;
    latest.set(entry.username, Math.max(entry.since, latest.get(entry.username) ?? 0));
  }
  return [...latest]
    .map(([username, since]) => ({ username, since }))
    .sort((a, b) => b.since - a.since || a.username.localeCompare(b.username));
}

/** An IAM date: ISO 8601 to the second. */
function iamDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One statement denying writes on `resources` to credentials issued before `before`. */
function statement(sidPrefix: string, before: number, resources: readonly string[]): PolicyStatement {
  const at = iamDate(before);
  const filled = fillTemplate(OVER_QUOTA_STATEMENT_TEMPLATE, {
    [SID_PLACEHOLDER]: `${sidPrefix}${at.replace(/\D/g, '')}`,
    [REVOKED_AT_PLACEHOLDER]: at,
  });
  return { ...filled, Resource: [...resources].sort() };
}

/** The quota statements with the `listed` newest folders named and the rest under the fallback. */
function quotaStatements(
  folders: readonly OverQuotaFolder[],
  listed: number,
  fileBucketArn: string,
): PolicyStatement[] {
  const byInstant = new Map<number, string[]>();
  for (const folder of folders.slice(0, listed)) {
    byInstant.set(folder.since, [...(byInstant.get(folder.since) ?? []), `${fileBucketArn}/${folder.username}/*`]);
  }
  const named = [...byInstant]
    .sort(([a], [b]) => a - b)
    .map(([since, resources]) => statement('OverQuota', since, resources));
  const rest = folders.slice(listed);
  if (rest.length === 0) return named;
  const before = Math.max(...rest.map((folder) => folder.since));
  return [...named, statement('OverQuotaAll', before, [`${fileBucketArn}/*`])];
}

function document(statements: readonly PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The vending role's whole cut-off policy within `budget` characters: the user and share
 * cut-offs as {@link renderRevocationPolicy} renders them in what the quota fallback leaves, then
 * as many folders over quota (live ones, see {@link liveOverQuota}; newest first) as fit, the
 * rest under the fallback. Throws {@link RevocationPolicyFullError} when even that does not fit.
 */
export function renderCutOffPolicy(
  users: readonly RevokedUser[],
  shares: readonly RevokedShare[],
  overQuota: readonly OverQuotaFolder[],
  budget: number,
  fileBucketArn: string,
): RenderedCutOffs {
  for (const folder of overQuota) {
    if (!isUsername(folder.username)) throw new TypeError('renderCutOffPolicy needs validated usernames');
  }
  const folders = [...overQuota].sort((a, b) => b.since - a.since || a.username.localeCompare(b.username));
  // What the quota part needs at the least: the fallback alone, and the comma before it.
  const reserve = folders.length === 0 ? 0 : policyCharacters(document(quotaStatements(folders, 0, fileBucketArn))) + 1;
  if (reserve > budget) throw new RevocationPolicyFullError(reserve, budget);
  const base = renderRevocationPolicy(users, budget - reserve, shares);
  if (folders.length === 0) return { ...base, quotaListed: [] };
  const render = (listed: number) =>
    document([...(base.policy?.Statement ?? []), ...quotaStatements(folders, listed, fileBucketArn)]);
  const fits = (listed: number) => policyCharacters(render(listed)) <= budget;
  const listed = fits(folders.length) ? folders.length : mostThatFit(folders.length - 1, fits);
  const policy = render(listed);
  const rest = folders.slice(listed);
  return {
    ...base,
    policy,
    characters: policyCharacters(policy),
    quotaListed: folders.slice(0, listed),
    ...(rest.length > 0 ? { quotaFallback: { folders: rest, before: Math.max(...rest.map((f) => f.since)) } } : {}),
  };
}

/**
 * The largest `listed` in 0..`most` that fits, given that 0 does: short of listing every folder
 * the fallback is always there, and listing one more folder only adds characters, so a binary
 * search finds it.
 */
function mostThatFit(most: number, fits: (listed: number) => boolean): number {
  let low = 0;
  let high = most;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

import {
  REVOKED_AT_PLACEHOLDER,
  REVOKED_USER_STATEMENT_TEMPLATE,
  SID_PLACEHOLDER,
  USERNAME_PLACEHOLDER,
  type PolicyDocument,
  type PolicyStatement,
} from '../../policies';
import { fillTemplate } from './policy';
import { isUsername, type Username } from './username';

/** A user whose credentials issued before `revokedAt` must stop working. */
export interface RevokedUser {
  readonly username: Username;
  /** Epoch ms. */
  readonly revokedAt: number;
}

/** IAM's limit on the total size of a role's inline policies, in characters (whitespace excluded). */
export const ROLE_INLINE_POLICY_MAX_CHARACTERS = 10_240;

/** Thrown when too many users are revoked at once to fit the role's policy. */
export class RevocationPolicyFullError extends Error {
  constructor(readonly size: number) {
    super(
      `The revocation policy would be ${size} characters; IAM allows ${ROLE_INLINE_POLICY_MAX_CHARACTERS}. ` +
        'Disable users instead, or wait: entries fall away an hour after revocation.',
    );
    this.name = 'RevocationPolicyFullError';
  }
}

/** The statement id for one user: letters and digits only, as IAM requires. */
function statementId(username: Username): string {
  return `Revoked${Buffer.from(username, 'utf8').toString('hex')}`;
}

/**
 * Entries still needed at `now`: credentials live at most `maxCredentialSeconds`, so an entry
 * older than that (plus a minute of clock skew) can no longer match any live credential.
 * The newest revocation of a user wins.
 */
export function liveRevocations(entries: readonly RevokedUser[], now: number, maxCredentialSeconds: number): RevokedUser[] {
  const newest = new Map<Username, number>();
  for (const entry of entries) {
    if (entry.revokedAt + maxCredentialSeconds * 1000 + 60_000 <= now) continue;
    newest.set(entry.username, Math.max(entry.revokedAt, newest.get(entry.username) ?? 0));
  }
  return [...newest].map(([username, revokedAt]) => ({ username, revokedAt })).sort((a, b) => a.username.localeCompare(b.username));
}

/**
 * The vending role's revocation policy, or undefined when nobody needs to be cut off (the
 * policy should then be deleted: IAM refuses an empty statement list).
 */
export function renderRevokedUsersPolicy(entries: readonly RevokedUser[]): PolicyDocument | undefined {
  if (entries.length === 0) return undefined;
  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: entries.map((entry) => {
      if (!isUsername(entry.username)) throw new TypeError('renderRevokedUsersPolicy needs validated usernames');
      return fillTemplate(REVOKED_USER_STATEMENT_TEMPLATE, {
        [SID_PLACEHOLDER]: statementId(entry.username),
        [USERNAME_PLACEHOLDER]: entry.username,
        [REVOKED_AT_PLACEHOLDER]: new Date(entry.revokedAt).toISOString(),
      });
    }),
  };
  const size = JSON.stringify(policy).length;
  if (size > ROLE_INLINE_POLICY_MAX_CHARACTERS) throw new RevocationPolicyFullError(size);
  return policy;
}

/** Reads the entries back from a revocation policy; statements of any other shape are ignored. */
export function parseRevokedUsersPolicy(policy: PolicyDocument | undefined): RevokedUser[] {
  if (!policy) return [];
  return policy.Statement.flatMap((statement: PolicyStatement) => {
    const username = statement.Condition?.StringEquals?.['aws:PrincipalTag/username'];
    const revokedAt = statement.Condition?.DateLessThan?.['aws:TokenIssueTime'];
    if (statement.Effect !== 'Deny' || typeof username !== 'string' || typeof revokedAt !== 'string') return [];
    if (!isUsername(username) || Number.isNaN(Date.parse(revokedAt))) return [];
    return [{ username, revokedAt: Date.parse(revokedAt) }];
  });
}

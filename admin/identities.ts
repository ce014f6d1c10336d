/**
 * `tvm-admin identities list <user>` and `tvm-admin identities remove <user> <id>`: the
 * OpenID Connect identities linked to an account, and the operator's unlinking of one (for a
 * lost or compromised provider account). Removal is audited (`identity_unlinked`) in the
 * user's trail as the operator's act; sessions are untouched (`sessions revoke` ends them).
 */
import type { AccountAdmin, OperatorIdentityView } from '../lambda/operator/account-admin';
import type { Username } from '../lambda/accounts/username';
import { AdminError } from './target';

/** The usage lines tvm-admin prints for these commands. */
export const IDENTITIES_USAGE = `  identities list <user>             the sign-in identities (OpenID Connect) linked to the user
  identities remove <user> <id>      unlink one: that identity then signs in as unknown (a new
                                     account); the user's sessions are untouched`;

function table(views: readonly OperatorIdentityView[]): string {
  if (views.length === 0) return '(none)';
  const rows = [['ID', 'PROVIDER', 'ISSUER', 'LINKED'], ...views.map((v) => [v.id, v.provider, v.issuer, v.linkedAt])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Runs `identities list|remove`; `id` only for `remove`. */
export async function identitiesCommand(
  admin: AccountAdmin,
  sub: string | undefined,
  username: Username,
  id: string | undefined,
): Promise<{ json: unknown; table: string }> {
  switch (sub) {
    case 'list': {
      const views = await admin.listIdentities(username);
      return { json: views, table: table(views) };
    }
    case 'remove': {
      if (id === undefined) throw new AdminError('Missing <id>. Run tvm-admin --help.');
      const link = await admin.removeIdentity(username, id);
      return {
        json: { username, identityId: link.id, provider: link.provider, removed: true },
        table: `${username}: identity ${link.id} (${link.provider}) unlinked; it signs in as an unknown identity from now on.`,
      };
    }
    default:
      throw new AdminError(`Unknown command "identities ${sub ?? ''}". Run tvm-admin --help.`);
  }
}

/** What `identities remove` would do, for --dry-run (reads only). */
export async function identityRemovalPlan(admin: AccountAdmin, username: Username, id: string): Promise<string[]> {
  const link = await admin.findIdentity(username, id);
  const others = (await admin.listIdentities(username)).length - 1;
  return [
    `unlink the identity ${link.id} (${link.provider}, ${link.issuer}) from ${username}, and audit identity_unlinked`,
    `leave ${username} ${others} other linked identit${others === 1 ? 'y' : 'ies'}, their password if any, passkeys and sessions as they are`,
  ];
}

/**
 * `tvm-admin invites create [--count N] [--expires 7d]`, `invites list` and `invites revoke
 * <code|id>` (docs/operating.md#invites): the single-use invites that `POST /register` and a
 * first sign-in with a provider need where the `registration` setting is `invite`.
 */
import { DynamoInviteStore } from '../lambda/adapters/dynamo/invite-store';
import {
  DEFAULT_INVITE_LIFETIME,
  InviteAdmin,
  parseInviteCount,
  parseInviteLifetime,
  type InviteView,
} from '../lambda/operator/invite-admin';
import { systemClock } from '../lambda/platform/clock';
import { readRuntimeSettings } from '../lambda/platform/config';
import { AdminError, type AdminTarget } from './target';

/** The usage lines tvm-admin prints for these commands. */
export const INVITES_USAGE = `  invites create [--count N] [--expires 7d]
                                     N single-use sign-up invites (default 1), valid 7d unless
                                     --expires says otherwise (days or hours); the codes are
                                     printed once and only their hashes are stored
  invites list                       every invite: id, state (unused, pending, used, expired),
                                     expiry, and who signed up with it
  invites revoke <code>|<id>         remove an unused invite (by its code, or its id from list)`;

/** The options of `invites create`. */
export interface InviteOptions {
  readonly count?: string;
  readonly expires?: string;
}

/** The invite admin on the target's table. */
export function inviteAdmin(target: Pick<AdminTarget, 'dynamo' | 'tableName'>): InviteAdmin {
  return new InviteAdmin({ invites: new DynamoInviteStore(target.dynamo, target.tableName), clock: systemClock });
}

function table(views: readonly InviteView[]): string {
  if (views.length === 0) return '(none)';
  const rows = [
    ['ID', 'STATE', 'CREATED', 'EXPIRES', 'USED BY'],
    ...views.map((v) => [v.id, v.state, v.createdAt, v.expiresAt, v.usedBy ?? '-']),
  ];
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

/** A reminder that invites do nothing unless the functions' setting asks for them. */
function modeNote(): string {
  const { registration } = readRuntimeSettings(process.env);
  return registration === 'invite'
    ? ''
    : `\nNote: registration is "${registration}" in this shell's settings (REGISTRATION); invites are only asked for where it is "invite".`;
}

/** Runs `invites create|list|revoke`. */
export async function invitesCommand(
  target: Pick<AdminTarget, 'dynamo' | 'tableName'>,
  sub: string | undefined,
  argument: string | undefined,
  options: InviteOptions,
): Promise<{ json: unknown; table: string }> {
  const admin = inviteAdmin(target);
  switch (sub) {
    case 'create': {
      const count = parseInviteCount(options.count ?? '1');
      const made = await admin.create(count, parseInviteLifetime(options.expires ?? DEFAULT_INVITE_LIFETIME));
      return {
        json: made,
        table:
          [
            `${made.codes.length} invite(s), each valid once until ${made.expiresAt}. They are shown only now: pass each to one person privately.`,
            ...made.codes,
          ].join('\n') + modeNote(),
      };
    }
    case 'list': {
      const views = await admin.list();
      return { json: views, table: table(views) };
    }
    case 'revoke': {
      if (argument === undefined) throw new AdminError('Missing <code> or <id>. Run tvm-admin --help.');
      const revoked = await admin.revoke(argument);
      return { json: { ...revoked, revoked: true }, table: `invite ${revoked.id} revoked; it can no longer be used.` };
    }
    default:
      throw new AdminError(`Unknown command "invites ${sub ?? ''}". Run tvm-admin --help.`);
  }
}

/** What `invites create` or `invites revoke` would do, for --dry-run (reads only). */
export async function invitePlanSteps(
  target: Pick<AdminTarget, 'dynamo' | 'tableName'>,
  sub: 'create' | 'revoke',
  argument: string | undefined,
  options: InviteOptions,
): Promise<string[]> {
  if (sub === 'create') {
    const count = parseInviteCount(options.count ?? '1');
    const lifetime = parseInviteLifetime(options.expires ?? DEFAULT_INVITE_LIFETIME);
    return [
      `make ${count} single-use invite(s), valid until about ${new Date(Date.now() + lifetime).toISOString()}, store their hashes and print the codes once`,
    ];
  }
  if (argument === undefined) throw new AdminError('Missing <code> or <id>. Run tvm-admin --help.');
  const found = await inviteAdmin(target).show(argument);
  if (found.usedBy !== undefined) return [`refuse: the invite ${found.id} was already used by ${found.usedBy}`];
  return [`remove the invite ${found.id} (${found.state}, expires ${found.expiresAt}), so it can no longer be used`];
}

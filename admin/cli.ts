/**
 * tvm-admin: the operator's tool. Parses the command line, resolves the target, runs one
 * command, prints a table for people or JSON for scripts, and exits non-zero with one line
 * on any error.
 */
import { parseArgs } from 'node:util';
import { AUDIT_LIST_LIMIT } from '../lambda/operator/account-admin';
import { TvmError } from '../lambda/platform/errors';
import { RevocationPolicyFullError } from '../lambda/credentials/revocation';
import type { DomainLog } from '../lambda/platform/audit';
import { parseUsername, type Username } from '../lambda/accounts/username';
import { revocationExpiresAt } from '../lambda/credentials/revocation';
import { deleteUser, disableUser, enableUser, revokeCredentials, type CutOffResult } from './lifecycle';
import { deleteFactorsOf, MFA_USAGE, mfaCommand } from './mfa';
import { accountAdmin, bucketUsage, lockoutOf, revocationList, sessionPolicyFor } from './operations';
import { describeLockout, planCommand, renderPlan, STATE_CHANGING_COMMANDS, type Plan } from './dry-run';
import { AdminError, DEFAULT_STACK, deployedTarget, localTarget, type AdminTarget } from './target';
import { runSmoke } from './smoke';
import { listLinks, listShares, revokeLink, revokeShare, sharingLifecycle, sharingStores } from './sharing';
import { IDENTITIES_USAGE, identitiesCommand } from './identities';
import { reconcileUsage, USAGE_RECONCILE_USAGE } from './usage-reconcile';
import { QUOTA_USAGE, quotaCommand } from './quota';
import { INVITES_USAGE, invitesCommand } from './invites';
import { USAGE_REPORT_USAGE, usageReportCommand } from './usage-report';

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /**
   * Asks the operator a question and resolves their answer; given only when stdin and stderr
   * are a terminal. Without it, `users delete` needs `--yes`.
   */
  readonly ask?: (question: string) => Promise<string>;
}

/** How a command's result is shown. */
type Rendered = { json: unknown; table: string };

export const USAGE = `Usage: tvm-admin [--local | --stack NAME] [--region R] [--profile P] [--json] <command>

Commands (what each does to sessions and to AWS credentials already issued):
  users list                         every user, with disabled and locked flags
  users create <user>                make an account without a password (works whatever the
                                     registration setting) and print a one-time reset code,
                                     valid for an hour, with which the person sets a password
  users show <user>                  one user and their live session count
  users disable <user>               refuse logins, revoke every session, and cut off every
                                     AWS credential issued to the user and for the shares the
                                     user gave (kept; no new share credentials while disabled)
  users enable <user>                allow logins again; credentials from the next login work
                                     (waits if a cut-off instant is still a few seconds ahead)
${QUOTA_USAGE}
  users unlock <user>                end a lockout now, saying whether there was one; sessions and
                                     credentials untouched
  users delete <user> [--delete-files] [--yes]
                                     revoke sessions, cut off credentials (also those of every
                                     share the user gave or received), delete every version of
                                     the user's files (needs the flag if there are any), the
                                     shares and links, then the records; the name stays taken until every credential
                                     ever issued to it has expired. Run it again to finish a
                                     deletion that failed half-way. On a terminal it shows what it
                                     will do and asks for the username; a script passes --yes.
  reset-code <user>                  a one-time password reset code, valid for an hour
  sessions list <user>               the user's live sessions
  sessions revoke <user> <id>|--all  revoke one session, or all of them; issued AWS
                                     credentials keep working until they expire (up to 1 h)
  revoke-credentials <user>          revoke every session and cut off every AWS credential
                                     issued to the user; they can log in again at once (what
                                     is vended in the next ~20 s is refused too; refetch)
  shares list <user>                 the shares the user gave and received, with last use
  shares revoke <user> <id>          cut off a share's issued credentials (on AWS once IAM
                                     applies it) and remove it; either party's share
  links list <user>                  the user's share links, with last open
  links revoke <user> <id>           remove a link: it answers 404 at once (a URL it already
                                     handed out lives at most 300 s more)
  revocations [list]                 the cut-off list on the vending role: who, and since when
  revocations prune                  drop entries whose credentials have all expired
  audit <user> [--limit N]           the audit trail, newest first (default ${AUDIT_LIST_LIMIT.default})
  usage <user> | usage --all         objects and bytes per folder
${USAGE_RECONCILE_USAGE}
${USAGE_REPORT_USAGE}
  policy <user>                      the session policy the TVM passes for that user
  smoke                              post-deploy check with a throwaway user: isolation,
                                     revocation cut-off, removal; names the first failed step
${MFA_USAGE}
${IDENTITIES_USAGE}
${INVITES_USAGE}

--dry-run, on every command that changes something (${STATE_CHANGING_COMMANDS.join(', ')}),
reads what it needs, prints exactly what the command would do, and changes nothing.

Targets: --local uses the running sandbox (TVM_DATA_DIR, default .tvm-local); otherwise the
deployed stack --stack NAME, else TVM_STACK, else ${DEFAULT_STACK} (the CDK app's default stage),
read with your AWS profile and region. The target is printed on stderr before each command.`;

function table(headers: string[], rows: Array<Array<string | number>>): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function need(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined) throw new AdminError(`Missing ${what}. Run tvm-admin --help.`);
  return value;
}

function user(positionals: string[], index: number): Username {
  try {
    return parseUsername(need(positionals, index, '<user>'));
  } catch (error) {
    if (error instanceof AdminError) throw error;
    throw new AdminError(`Invalid username: ${(error as Error).message}`);
  }
}

/** The options tvm-admin takes, for parseArgs (and to tell them from ids). */
const OPTIONS = {
  local: { type: 'boolean', default: false },
  stack: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean', default: false },
  all: { type: 'boolean', default: false },
  'delete-files': { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  limit: { type: 'string' },
  count: { type: 'string' },
  expires: { type: 'string' },
  since: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** A session, share, link or identity id: base64url, so it may start with "-". */
const DASHED_ID = /^-[A-Za-z0-9_-]{15,}$/;

/**
 * Ids that start with "-" are positionals, not options: moved after a "--" (an id is always the
 * last positional of its command), unless the operator already wrote one.
 */
function idsAsPositionals(argv: readonly string[]): string[] {
  const isOption = (arg: string) => Object.keys(OPTIONS).includes(arg.replace(/^--?/, '').split('=')[0]!);
  const ids = argv.filter((arg) => DASHED_ID.test(arg) && !isOption(arg));
  if (ids.length === 0 || argv.includes('--')) return [...argv];
  return [...argv.filter((arg) => !ids.includes(arg)), '--', ...ids];
}

/** Runs tvm-admin with `argv` (without node and script); resolves the exit code. */
export async function runCli(
  argv: string[],
  io: CliIo,
  resolveTarget?: (local: boolean, stack: string, region?: string) => Promise<AdminTarget>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: idsAsPositionals(argv), allowPositionals: true, options: OPTIONS });
  } catch (error) {
    io.err(`tvm-admin: ${(error as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.profile) process.env.AWS_PROFILE = values.profile;
  const progress = (message: string) => io.err(message);
  const log: DomainLog = {
    info: () => undefined,
    warn: (message) => io.err(`warning: ${message}`),
    error: (message) => io.err(`error: ${message}`),
  };
  let target: AdminTarget | undefined;
  try {
    const stack = values.stack ?? process.env.TVM_STACK ?? DEFAULT_STACK;
    target = resolveTarget
      ? await resolveTarget(values.local, stack, values.region)
      : values.local
        ? localTarget()
        : await deployedTarget(stack, values.region);
    io.err(`tvm-admin: acting on ${target.description}`);
    const rendered = await runCommand(target, positionals, values, log, progress, io.ask);
    io.out(values.json ? JSON.stringify(rendered.json, null, 2) : rendered.table);
    return 0;
  } catch (error) {
    io.err(`tvm-admin: ${describe(error)}`);
    return 1;
  } finally {
    target?.close();
  }
}

/** Commands whose argument after the command is a username. */
const NAMED = new Set([
  'users disable',
  'users enable',
  'users unlock',
  'users delete',
  'reset-code',
  'sessions revoke',
  'revoke-credentials',
  'mfa reset',
  'shares revoke',
  'links revoke',
  'identities remove',
  'users create',
]);

/**
 * `users delete` without --yes: on a terminal, shows the plan and asks for the username;
 * elsewhere refuses, before anything changed. A deletion with nothing left to do needs neither.
 */
async function confirmDelete(
  plan: Plan,
  target: AdminTarget,
  ask: CliIo['ask'],
  progress: (message: string) => void,
): Promise<void> {
  if (plan.nothingToDo) return;
  const username = plan.command.split(' ')[2] ?? '';
  if (!ask) {
    throw new AdminError(
      `users delete asks for confirmation on a terminal; in a script pass --yes (nothing was changed; --dry-run shows what it would do).`,
    );
  }
  progress(
    renderPlan(plan, target).table.replace(/^dry run on [^;]*; nothing was changed\. /, `On ${target.description}, `),
  );
  const answer = (await ask(`Type ${username} to delete it for good, or anything else to stop: `)).trim();
  if (answer !== username) throw new AdminError('Not confirmed; nothing was changed.');
}

function cutOffJson(cut: CutOffResult) {
  return {
    credentialsIssuedBefore: new Date(cut.cutOffAt).toISOString(),
    revokedUsers: cut.revokedUsers,
    matchedBy: cut.matchedBy,
  };
}

const orDash = (value: string | undefined) => value ?? '-';

function cutOffLine(cut: CutOffResult): string {
  const grouped = cut.matchedBy === 'groups' ? ', matched by revocation group because the list is long' : '';
  return `AWS credentials issued before ${new Date(cut.cutOffAt).toISOString()} are denied (${cut.revokedUsers} user(s) on the revocation list${grouped}).`;
}

function describe(error: unknown): string {
  if (error instanceof TvmError)
    return error.publicMessage === 'The service is temporarily unavailable. Please retry shortly.'
      ? `${error.message}.`
      : error.message;
  if (error instanceof AdminError || error instanceof RevocationPolicyFullError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`.split('\n')[0]!;
  return String(error).split('\n')[0]!;
}

async function runCommand(
  target: AdminTarget,
  positionals: string[],
  options: {
    all?: boolean;
    'delete-files'?: boolean;
    'dry-run'?: boolean;
    yes?: boolean;
    limit?: string;
    count?: string;
    expires?: string;
    since?: string;
  },
  log: DomainLog,
  progress: (message: string) => void,
  ask: CliIo['ask'],
): Promise<Rendered> {
  const admin = accountAdmin(target, log);
  const revocations = revocationList(target, progress);
  const lifecycle = { admin, revocations, sharing: sharingLifecycle(target), target, progress };
  const [command, sub] = positionals;
  const grouped = ['users', 'sessions', 'revocations', 'mfa', 'shares', 'links', 'identities', 'invites'];
  const key = grouped.includes(command ?? '') ? `${command} ${sub ?? ''}`.trimEnd() : command;
  const userAt = grouped.includes(command ?? '') && command !== 'revocations' ? 2 : 1;
  const planFor = () =>
    planCommand(
      { admin, revocations, target, log, progress },
      key ?? '',
      NAMED.has(key ?? '') ? user(positionals, userAt) : undefined,
      {
        all: options.all === true,
        'delete-files': options['delete-files'] === true,
        ...(positionals[userAt + 1] !== undefined
          ? { sessionId: positionals[userAt + 1], id: positionals[userAt + 1] }
          : {}),
        invite: {
          ...(positionals[2] !== undefined ? { argument: positionals[2] } : {}),
          ...(options.count !== undefined ? { count: options.count } : {}),
          ...(options.expires !== undefined ? { expires: options.expires } : {}),
        },
      },
    );
  // Checks its value before anything else and rehearses itself under --dry-run.
  if (key === 'users quota')
    return quotaCommand(target, revocations, user(positionals, 2), positionals[3], options['dry-run'] === true, log);
  if (options['dry-run'] && (STATE_CHANGING_COMMANDS as readonly string[]).includes(key ?? '')) {
    if (key === 'sessions revoke' && !options.all) need(positionals, userAt + 1, '<session id> or --all');
    if (key === 'shares revoke' || key === 'links revoke' || key === 'identities remove')
      need(positionals, userAt + 1, '<id>');
    return renderPlan(await planFor(), target);
  }
  if (command === 'usage' && sub === 'reconcile') {
    const lines = await reconcileUsage(
      target,
      positionals[2] === undefined ? undefined : user(positionals, 2),
      log,
      progress,
      options['dry-run'] === true,
    );
    return {
      json: lines,
      table: table(
        [
          'USER',
          'BYTES',
          'OBJECTS',
          'DRIFT BYTES',
          options['dry-run'] === true ? 'KEYS TO FIX (dry run: nothing changed)' : 'KEYS FIXED',
        ],
        lines.map((line) => [line.username, line.after.bytes, line.after.objects, line.driftBytes, line.fixed]),
      ),
    };
  }
  if (command === 'usage' && sub === 'report') return usageReportCommand(target, options.since, log);
  if (command === 'mfa') return mfaCommand(target, sub, user(positionals, 2), log);
  if (command === 'identities') return identitiesCommand(admin, sub, user(positionals, 2), positionals[3]);
  if (command === 'invites') return invitesCommand(target, sub, positionals[2], options);
  switch (key) {
    case 'users list': {
      const users = await admin.listUsers();
      return {
        json: users,
        table: table(
          ['USER', 'CREATED', 'DISABLED', 'LOCKED'],
          users.map((u) => [u.username, u.createdAt, u.disabled ? 'yes' : 'no', u.locked ? 'yes' : 'no']),
        ),
      };
    }
    case 'users create': {
      const name = user(positionals, userAt);
      const issued = await admin.createUser(name);
      return {
        json: { username: name, created: true, resetCode: issued.code, resetCodeExpiresAt: issued.expiresAt },
        table: `${name}: created, without a password. Reset code: ${issued.code}\nValid once, until ${issued.expiresAt}: pass it to the person privately; they set their password with it (web app: "Use a reset code").`,
      };
    }
    case 'users show': {
      const name = user(positionals, userAt);
      const heldUntil = await admin.nameHeldUntil(name);
      if (heldUntil !== undefined)
        throw new AdminError(`${name} was deleted; the name is held until ${new Date(heldUntil).toISOString()}.`);
      const shown = await admin.showUser(name);
      return {
        json: shown,
        table: table(
          ['USER', 'CREATED', 'DISABLED', 'LOCKED', 'LIVE SESSIONS'],
          [
            [
              shown.username,
              shown.createdAt,
              shown.disabled ? 'yes' : 'no',
              shown.locked ? 'yes' : 'no',
              shown.liveSessions,
            ],
          ],
        ),
      };
    }
    case 'users disable': {
      const name = user(positionals, userAt);
      const cut = await disableUser(lifecycle, name);
      return {
        json: { username: name, disabled: true, ...cutOffJson(cut), cutOffShares: cut.cutOffShares },
        table: `${name}: disabled; every session revoked; ${cutOffLine(cut)} The ${cut.cutOffShares} share(s) ${name} gave are cut off too.`,
      };
    }
    case 'users enable': {
      const name = user(positionals, userAt);
      await enableUser(lifecycle, name);
      return {
        json: { username: name, done: 'enable' },
        table: `${name}: enabled; a login now gets working credentials`,
      };
    }
    case 'users unlock': {
      const name = user(positionals, userAt);
      await admin.showUser(name);
      const found = await lockoutOf(target, name);
      const changed = found.locked || found.failedAttempts > 0;
      if (changed) await admin.unlock(name);
      const json = {
        username: name,
        wasLocked: found.locked,
        ...(found.lockedUntil ? { lockedUntil: new Date(found.lockedUntil).toISOString() } : {}),
        failedAttempts: found.failedAttempts,
        changed,
      };
      if (found.locked)
        return { json, table: `${name}: was ${describeLockout(found)}; unlocked, logins allowed again` };
      return {
        json,
        table: changed
          ? `${name}: was not locked (${found.failedAttempts} failed attempt(s) counted); counters cleared`
          : `${name}: was not locked; nothing to do`,
      };
    }
    case 'users delete': {
      const name = user(positionals, userAt);
      if (!options.yes) await confirmDelete(await planFor(), target, ask, progress);
      const deleted = await deleteUser(lifecycle, name, options['delete-files'] === true);
      // Its TOTP secret and recovery code hashes must not outlive the account.
      await deleteFactorsOf(target, name);
      const heldUntil = new Date(deleted.heldUntil).toISOString();
      return {
        json: { username: name, deleted: true, deletedFiles: deleted.deletedEntries, nameHeldUntil: heldUntil },
        table: `${name}: deleted (${deleted.deletedEntries} object versions and delete markers); the name is held until ${heldUntil}`,
      };
    }
    case 'reset-code': {
      const name = user(positionals, userAt);
      const issued = await admin.issueResetCode(name);
      return {
        json: { username: name, ...issued },
        table: `Reset code for ${name}: ${issued.code}\nValid once, until ${issued.expiresAt}. Pass it to the user privately.`,
      };
    }
    case 'sessions list': {
      const sessions = await admin.listSessions(user(positionals, userAt));
      return {
        json: sessions,
        table: table(
          ['ID', 'DEVICE', 'CREATED', 'LAST USED', 'EXPIRES'],
          sessions.map((s) => [s.id, s.device ?? '-', s.createdAt, s.lastUsedAt ?? '-', s.expiresAt]),
        ),
      };
    }
    case 'sessions revoke': {
      const name = user(positionals, userAt);
      const which = options.all ? 'all' : need(positionals, userAt + 1, '<session id> or --all');
      const count = await admin.revokeSessions(name, which);
      return { json: { username: name, revoked: count }, table: `${name}: revoked ${count} session(s)` };
    }
    case 'revoke-credentials': {
      const name = user(positionals, userAt);
      const cut = await revokeCredentials(lifecycle, name);
      return {
        json: { username: name, revokedSessions: cut.revokedSessions, ...cutOffJson(cut) },
        table: `${name}: ${cut.revokedSessions} session(s) revoked; ${cutOffLine(cut)}`,
      };
    }
    case 'shares list': {
      const shares = await listShares(sharingStores(target), user(positionals, userAt));
      return {
        json: shares,
        table: table(
          ['ID', 'DIRECTION', 'OWNER', 'GRANTEE', 'PATH', 'ACCESS', 'CREATED', 'EXPIRES', 'LAST USED', 'BY'],
          shares.map((s) => [
            s.id,
            s.direction,
            s.owner,
            s.grantee,
            s.path === '' ? '(whole folder)' : s.path,
            s.access,
            s.createdAt,
            orDash(s.expiresAt),
            orDash(s.lastUsedAt),
            orDash(s.lastUsedBy),
          ]),
        ),
      };
    }
    case 'shares revoke': {
      const name = user(positionals, userAt);
      const { share, cutOffAt } = await revokeShare(
        { revocations, target, log },
        name,
        need(positionals, userAt + 1, '<id>'),
      );
      const issued = new Date(cutOffAt).toISOString();
      return {
        json: {
          shareId: share.id,
          owner: share.owner,
          grantee: share.grantee,
          revoked: true,
          credentialsIssuedBefore: issued,
        },
        table: `share ${share.id} (${share.owner} -> ${share.grantee}, ${share.path === '' ? 'whole folder' : share.path}) revoked; its AWS credentials issued before ${issued} are denied.`,
      };
    }
    case 'links list': {
      const links = await listLinks(sharingStores(target), user(positionals, userAt));
      return {
        json: links,
        table: table(
          ['ID', 'PATH', 'CREATED', 'EXPIRES', 'LAST OPENED', 'FROM'],
          links.map((l) => [
            l.id,
            l.path,
            l.createdAt,
            orDash(l.expiresAt),
            orDash(l.lastUsedAt),
            orDash(l.lastUsedBy),
          ]),
        ),
      };
    }
    case 'links revoke': {
      const name = user(positionals, userAt);
      const link = await revokeLink({ target, log }, name, need(positionals, userAt + 1, '<id>'));
      return {
        json: { linkId: link.id, owner: link.owner, revoked: true },
        table: `link ${link.id} (${link.owner}/${link.path}) revoked; it answers 404 from now on.`,
      };
    }
    case 'revocations':
    case 'revocations list': {
      const { now, entries, shares } = await revocations.list();
      const state = (cutOffAt: number) => ({
        credentialsIssuedBefore: new Date(cutOffAt).toISOString(),
        prunableAfter: new Date(revocationExpiresAt(cutOffAt, target.maxCredentialSeconds)).toISOString(),
        expired: revocationExpiresAt(cutOffAt, target.maxCredentialSeconds) <= now,
      });
      const rows = entries.map((entry) => ({ username: entry.username, ...state(entry.cutOffAt) }));
      const shareRows = shares.map((entry) => ({ shareId: entry.shareId, ...state(entry.cutOffAt) }));
      const cell = (row: { prunableAfter: string; expired: boolean }) =>
        row.expired ? `${row.prunableAfter} (now)` : row.prunableAfter;
      return {
        // Users as before (scripts read this list); shares beside them.
        json: [...rows, ...shareRows],
        table: table(
          ['USER OR SHARE', 'CREDENTIALS ISSUED BEFORE', 'PRUNABLE AFTER'],
          [
            ...rows.map((row) => [row.username, row.credentialsIssuedBefore, cell(row)]),
            ...shareRows.map((row) => [`share ${row.shareId}`, row.credentialsIssuedBefore, cell(row)]),
          ],
        ),
      };
    }
    case 'revocations prune': {
      const applied = await revocations.apply();
      return {
        json: {
          pruned: applied.pruned,
          remaining: applied.entries.length,
          remainingShares: applied.shares.length,
          matchedBy: applied.matchedBy,
          sharesMatchedBy: applied.sharesMatchedBy,
          policyCharacters: applied.characters,
        },
        table: `pruned ${applied.pruned} expired entries; ${applied.entries.length} user(s) and ${applied.shares.length} share(s) remain (policy: ${applied.characters} characters, users matched by ${applied.matchedBy}, shares by ${applied.sharesMatchedBy})`,
      };
    }
    case 'audit': {
      const limit = Number(options.limit ?? AUDIT_LIST_LIMIT.default);
      if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIST_LIMIT.max)
        throw new AdminError(`--limit must be a whole number from 1 to ${AUDIT_LIST_LIMIT.max}.`);
      const events = await admin.audit(user(positionals, userAt), limit);
      return {
        json: events,
        table: table(
          ['TIME', 'EVENT', 'SOURCE IP', 'USER AGENT', 'DETAILS'],
          events.map((e) => [
            new Date(e.at).toISOString(),
            e.type,
            e.sourceIp ?? '-',
            e.userAgent ?? '-',
            e.details ? JSON.stringify(e.details) : '',
          ]),
        ),
      };
    }
    case 'usage': {
      if (!options.all && positionals[1] === undefined) throw new AdminError('usage needs <user> or --all.');
      const usage = await bucketUsage(target, options.all ? undefined : user(positionals, 1), progress);
      return {
        json: usage,
        table: table(
          ['FOLDER', 'OBJECTS', 'BYTES'],
          usage.map((u) => [u.folder, u.objects, u.bytes]),
        ),
      };
    }
    case 'smoke': {
      const report = await runSmoke(target, { progress, log });
      return {
        json: report,
        table: [
          `smoke test passed against ${report.target}`,
          ...report.steps.map((s) => `  ok  ${s.step} (${s.ms} ms)`),
        ].join('\n'),
      };
    }
    case 'policy': {
      const policy = sessionPolicyFor(target, user(positionals, 1));
      return { json: policy, table: JSON.stringify(policy, null, 2) };
    }
    default:
      throw new AdminError(`Unknown command "${positionals.join(' ')}". Run tvm-admin --help.`);
  }
}

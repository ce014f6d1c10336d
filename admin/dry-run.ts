/**
 * `--dry-run`: what a state-changing tvm-admin command would do, worked out with reads only
 * (GetItem, Query, ListObjectVersions), so an operator can rehearse on production. The same
 * plan is shown before `users delete` asks for confirmation on a terminal.
 */
import { NotFoundError } from '../lambda/platform/errors';
import { cutOffInstant, liveRevocations, liveShareRevocations, nameHeldUntil } from '../lambda/credentials/revocation';
import type { DomainLog } from '../lambda/platform/audit';
import type { Username } from '../lambda/accounts/username';
import { folderEntries } from './folder-purge';
import { mfaCommand } from './mfa';
import { lockoutOf, type Progress } from './operations';
import type { AccountAdmin } from '../lambda/operator/account-admin';
import type { RevocationList } from './revocations';
import { SMOKE_STEPS } from './smoke';
import { findLink, findShare, sharingPlanSteps, sharingStores } from './sharing';
import { identityRemovalPlan } from './identities';
import { invitePlanSteps, type InviteOptions } from './invites';
import { AdminError, type AdminTarget } from './target';

/** The commands that change something, as `<command> [<sub>]`; every one takes `--dry-run`. */
export const STATE_CHANGING_COMMANDS = [
  'users disable',
  'users enable',
  'users unlock',
  'users delete',
  'reset-code',
  'sessions revoke',
  'revoke-credentials',
  'revocations prune',
  'mfa reset',
  'shares revoke',
  'links revoke',
  'identities remove',
  'smoke',
  'users create',
  'invites create',
  'invites revoke',
] as const;

/** One state-changing command's plan: the steps it would take, in order; none when it has nothing to do. */
export interface Plan {
  readonly command: string;
  readonly steps: readonly string[];
  /** Set when the command would change nothing (it says why). */
  readonly nothingToDo?: string;
}

/** What planning reads. */
export interface PlanContext {
  readonly admin: AccountAdmin;
  readonly revocations: RevocationList;
  readonly target: AdminTarget;
  readonly log: DomainLog;
  readonly progress: Progress;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** The plan for `key` (`users delete`, `revoke-credentials`, ...) on `name`; reads only. */
export async function planCommand(
  context: PlanContext,
  key: string,
  name: Username | undefined,
  options: {
    readonly all?: boolean;
    readonly 'delete-files'?: boolean;
    readonly sessionId?: string;
    /** The share's or link's id (`shares revoke`, `links revoke`). */
    readonly id?: string;
    /** `invites create` and `invites revoke`: the count, lifetime and code or id. */
    readonly invite?: InviteOptions & { readonly argument?: string };
  },
): Promise<Plan> {
  const { admin, revocations, target } = context;
  const command = name ? `${key} ${name}` : key;
  const cutOffSteps = async (user: Username): Promise<string[]> => {
    const { now, entries } = await revocations.list();
    const others = entries.filter((entry) => entry.username !== user).length;
    return [
      `cut off every AWS credential issued to ${user} before about ${iso(cutOffInstant(now, target.cutOffMarginMs))} (now + ${Math.round(target.cutOffMarginMs / 1000) + 1} s margin)`,
      `write the revocation list (${others + 1} user(s) then) into the inline policy tvm-revoked-users of the vending role ${target.vendingRoleName}`,
    ];
  };
  switch (key) {
    case 'users disable':
    case 'revoke-credentials': {
      const user = await admin.showUser(need(name));
      const first =
        key === 'users disable'
          ? `disable ${user.username} (disabled now: ${user.disabled ? 'yes' : 'no'}), refusing logins, and revoke every session (${user.liveSessions} live)`
          : `revoke every session of ${user.username} (${user.liveSessions} live); logins stay allowed`;
      const shareSteps = key === 'users disable' ? await sharingPlanSteps(target, user.username, 'disable') : [];
      return { command, steps: [first, ...shareSteps, ...(await cutOffSteps(user.username))] };
    }
    case 'users enable': {
      const user = await admin.showUser(need(name));
      const [{ now }, cutOffAt] = await Promise.all([revocations.list(), revocations.cutOffOf(user.username)]);
      const waitUntil = cutOffAt === undefined ? undefined : cutOffAt + target.clockSkewMs;
      return {
        command,
        steps: [
          `enable ${user.username} (disabled now: ${user.disabled ? 'yes' : 'no'}); revoked sessions stay revoked`,
          waitUntil !== undefined && waitUntil > now
            ? `wait about ${Math.ceil((waitUntil - now) / 1000)} s for the cut-off instant ${iso(cutOffAt!)} to pass`
            : 'no wait: no cut-off instant of theirs lies ahead',
        ],
      };
    }
    case 'users unlock': {
      const user = await admin.showUser(need(name));
      const found = await lockoutOf(target, user.username);
      if (!found.locked && found.failedAttempts === 0)
        return { command, steps: [], nothingToDo: `${user.username} is not locked and has no failed attempts counted` };
      return { command, steps: [`clear the failed-login counters of ${user.username} (${describeLockout(found)})`] };
    }
    case 'users delete': {
      const username = need(name);
      const heldUntil = await admin.nameHeldUntil(username);
      if (heldUntil !== undefined)
        return {
          command,
          steps: [],
          nothingToDo: `${username} is already deleted; the name is held until ${iso(heldUntil)}`,
        };
      const user = await admin.showUser(username);
      const entries = await folderEntries(target.s3, target.bucketName, username);
      if (entries > 0 && options['delete-files'] !== true) {
        throw new AdminError(
          `${username}/ still holds files (or earlier versions of files); pass --delete-files to delete them with the account.`,
        );
      }
      const { now } = await revocations.list();
      const count = entries >= 1000 ? 'at least 1,000' : String(entries);
      return {
        command,
        steps: [
          `disable ${username} and revoke every session (${user.liveSessions} live)`,
          ...(await sharingPlanSteps(target, username, 'delete')).slice(0, 1),
          ...(await cutOffSteps(username)),
          ...(target.propagationMs > 0
            ? [`wait ${Math.round(target.propagationMs / 60_000)} min for IAM to apply the cut-off everywhere`]
            : []),
          `delete every object version and delete marker under ${username}/ (${count} now) and abort its unfinished multipart uploads`,
          ...(await sharingPlanSteps(target, username, 'delete')).slice(1),
          `delete the records (sessions, lockout counters, reset code), second factors and ${describeIdentities((await admin.listIdentities(username)).length)} of ${username}`,
          `hold the name ${username} until about ${iso(nameHeldUntil(cutOffInstant(now, target.cutOffMarginMs), target.maxCredentialSeconds))}`,
        ],
      };
    }
    case 'reset-code': {
      const user = await admin.showUser(need(name));
      return {
        command,
        steps: [`issue a one-time reset code for ${user.username}, valid for an hour, replacing any earlier one`],
      };
    }
    case 'sessions revoke': {
      const username = need(name);
      const sessions = await admin.listSessions(username);
      const which = options.all ? sessions : sessions.filter((session) => session.id === options.sessionId);
      if (!options.all && which.length === 0)
        throw new NotFoundError(`No live session ${options.sessionId} for ${username}.`);
      const listed = which.map((session) => `${session.id}${session.device ? ` (${session.device})` : ''}`).join(', ');
      return {
        command: `${command} ${options.all ? '--all' : options.sessionId}`,
        steps: [
          options.all
            ? `revoke every session of ${username} (${which.length} live${listed ? `: ${listed}` : ''}), and any not yet listed`
            : `revoke the session ${listed} of ${username}`,
          'leave the AWS credentials already issued working until they expire (revoke-credentials cuts them off)',
        ],
      };
    }
    case 'revocations prune': {
      const { now, entries, shares } = await revocations.list();
      const live = liveRevocations(entries, now, target.maxCredentialSeconds);
      const dropped = entries.filter(
        (entry) => !live.some((kept) => kept.username === entry.username && kept.cutOffAt === entry.cutOffAt),
      );
      const liveShares = liveShareRevocations(shares, now, target.maxCredentialSeconds);
      const droppedShares = shares.length - liveShares.length;
      return {
        command,
        steps: [
          dropped.length === 0
            ? 'drop no entry: none has expired'
            : `drop ${dropped.length} expired entr${dropped.length === 1 ? 'y' : 'ies'}: ${dropped.map((entry) => `${entry.username} (${iso(entry.cutOffAt)})`).join(', ')}`,
          `drop ${droppedShares} expired share entr${droppedShares === 1 ? 'y' : 'ies'}`,
          live.length + liveShares.length === 0
            ? `delete the inline policy tvm-revoked-users of ${target.vendingRoleName} (no entry remains)`
            : `write the ${live.length} remaining user entr${live.length === 1 ? 'y' : 'ies'} and ${liveShares.length} share entr${liveShares.length === 1 ? 'y' : 'ies'} into the inline policy tvm-revoked-users of ${target.vendingRoleName}`,
        ],
      };
    }
    case 'mfa reset': {
      const username = need(name);
      const shown = (await mfaCommand(target, 'show', username, context.log)).json as {
        totp: { enrolled: boolean };
        recoveryCodesLeft: number;
        passkeys: unknown[];
      };
      return {
        command,
        steps: [
          `remove ${shown.totp.enrolled ? 'the authenticator app, ' : 'no authenticator app, '}${shown.passkeys.length} passkey(s) and ${shown.recoveryCodesLeft} recovery code(s) of ${username}`,
        ],
      };
    }
    case 'shares revoke': {
      const username = need(name);
      const share = await findShare(sharingStores(target), username, needId(options.id));
      const { now } = await revocations.list();
      return {
        command: `${command} ${share.id}`,
        steps: [
          `cut off every AWS credential issued for share ${share.id} (${share.owner} -> ${share.grantee}, ${share.path === '' ? 'whole folder' : share.path}) before about ${iso(cutOffInstant(now, target.cutOffMarginMs))}, on the inline policy tvm-revoked-users of ${target.vendingRoleName}`,
          `remove the share, and audit share_revoked for ${share.owner} and ${share.grantee}`,
        ],
      };
    }
    case 'links revoke': {
      const username = need(name);
      const link = await findLink(sharingStores(target), username, needId(options.id));
      return {
        command: `${command} ${link.id}`,
        steps: [
          `remove the link ${link.id} to ${link.owner}/${link.path} (it then answers 404), and audit link_revoked`,
        ],
      };
    }
    case 'identities remove': {
      const username = need(name);
      const id = needId(options.id);
      return { command: `${command} ${id}`, steps: await identityRemovalPlan(admin, username, id) };
    }
    case 'smoke':
      return { command, steps: SMOKE_STEPS.map((step) => step.replace(/^\d+ /, '')) };
    case 'users create': {
      const username = need(name);
      const held = await admin.nameHeldUntil(username);
      const exists = await admin.showUser(username).then(
        () => true,
        (error: unknown) => {
          if (error instanceof NotFoundError) return false;
          throw error;
        },
      );
      if (exists || (held !== undefined && held >= Date.now()))
        return { command, steps: [`refuse: the name ${username} is taken`] };
      return {
        command,
        steps: [
          `create the account ${username} without a password (in every registration mode), audited as registered by the operator`,
          `issue a one-time reset code, valid for an hour, with which ${username} sets a password`,
        ],
      };
    }
    case 'invites create':
    case 'invites revoke': {
      const { argument, ...invite } = options.invite ?? {};
      const sub = key === 'invites create' ? 'create' : 'revoke';
      return {
        command: argument ? `${command} ${argument}` : command,
        steps: await invitePlanSteps(target, sub, argument, invite),
      };
    }
    default:
      throw new AdminError(`--dry-run is for commands that change something: ${STATE_CHANGING_COMMANDS.join(', ')}.`);
  }
}

/** "the 2 linked identities" in words (sign-in with a provider; unlinked with the records). */
function describeIdentities(count: number): string {
  return count === 1 ? 'the 1 linked identity' : `the ${count} linked identities`;
}

function needId(id: string | undefined): string {
  if (id === undefined) throw new AdminError('Missing <id>. Run tvm-admin --help.');
  return id;
}

function need(name: Username | undefined): Username {
  if (name === undefined) throw new AdminError('Missing <user>. Run tvm-admin --help.');
  return name;
}

/** "locked until ..., 5 failed attempts" in words. */
export function describeLockout(found: { locked: boolean; lockedUntil?: number; failedAttempts: number }): string {
  const attempts = `${found.failedAttempts} failed attempt(s) counted`;
  return found.locked ? `locked until ${iso(found.lockedUntil!)}, ${attempts}` : `not locked, ${attempts}`;
}

/** The plan as printed: numbered steps, and that nothing was changed. */
export function renderPlan(plan: Plan, target: AdminTarget): { json: unknown; table: string } {
  if (plan.nothingToDo) {
    return {
      json: { dryRun: true, command: plan.command, steps: [], nothingToDo: plan.nothingToDo },
      table: `dry run: ${plan.nothingToDo}; ${plan.command} would change nothing.`,
    };
  }
  return {
    json: { dryRun: true, command: plan.command, target: target.description, steps: plan.steps },
    table: [
      `dry run on ${target.description}; nothing was changed. ${plan.command} would:`,
      ...plan.steps.map((step, index) => `  ${index + 1}. ${step}`),
    ].join('\n'),
  };
}

/**
 * `tvm-admin mfa show <user>` and `tvm-admin mfa reset <user>`: a user's second factors, and
 * their removal by an operator (audited) for a person who lost their device.
 */
import { DynamoFactorStore } from '../lambda/adapters/dynamo/factor-store';
import { dynamoStores } from '../lambda/adapters/dynamo/stores';
import { readRuntimeSettings, type TvmConfig } from '../lambda/platform/config';
import { MfaAdmin } from '../lambda/operator/second-factor-admin';
import type { FactorSummary } from '../lambda/second-factor/mfa-service';
import { systemClock } from '../lambda/platform/clock';
import { AuditRecorder, type DomainLog } from '../lambda/platform/audit';
import type { Username } from '../lambda/accounts/username';
import { AdminError, type AdminTarget } from './target';

/** The usage lines tvm-admin prints for these commands. */
export const MFA_USAGE = `  mfa show <user>                    the user's second factors (never a secret)
  mfa reset <user>                   remove every second factor and recovery code (audited)`;

function render(username: Username, summary: FactorSummary): string {
  const passkeys = summary.passkeys.map(
    (passkey) => `${passkey.name} (${passkey.id.slice(0, 8)}..., added ${passkey.createdAt})`,
  );
  return [
    `user:            ${username}`,
    `authenticator:   ${summary.totp.enrolled ? `yes, since ${summary.totp.confirmedAt}` : 'no'}`,
    `recovery codes:  ${summary.recoveryCodesLeft} left`,
    `passkeys:        ${passkeys.length === 0 ? 'none' : passkeys.join('; ')}`,
  ].join('\n');
}

/** Runs `mfa show|reset <user>` on the target's table. */
export async function mfaCommand(
  target: Pick<AdminTarget, 'dynamo' | 'tableName'>,
  sub: string | undefined,
  username: Username,
  log: DomainLog,
): Promise<{ json: unknown; table: string }> {
  const { users, factors, audit } = dynamoStores(target.dynamo, target.tableName);
  // The recorder reads only the audit retention from the configuration.
  const config = { auditRetentionDays: readRuntimeSettings(process.env).auditRetentionDays } as TvmConfig;
  const admin = new MfaAdmin({
    users,
    factors,
    auditor: new AuditRecorder({ audit, clock: systemClock, log, config }),
  });
  switch (sub) {
    case 'show': {
      const summary = await admin.show(username);
      return { json: { username, ...summary }, table: render(username, summary) };
    }
    case 'reset': {
      const removed = await admin.reset(username);
      const what = `${removed.totp.enrolled ? 'the authenticator app, ' : ''}${removed.passkeys.length} passkey(s) and ${removed.recoveryCodesLeft} recovery code(s)`;
      return {
        json: { username, reset: true, removed },
        table: `${username}: removed ${what}; the next login needs only the password.`,
      };
    }
    default:
      throw new AdminError(`Unknown command "mfa ${sub ?? ''}". Run tvm-admin --help.`);
  }
}

/** Deletes a deleted account's second factors (its TOTP secret must not outlive it). */
export async function deleteFactorsOf(
  target: Pick<AdminTarget, 'dynamo' | 'tableName'>,
  username: Username,
): Promise<void> {
  await new DynamoFactorStore(target.dynamo, target.tableName).deleteFactors(username);
}

import { OPERATOR_ORIGIN } from '../platform/audit';
import { NotFoundError } from '../platform/errors';
import type { UserStore } from '../accounts/ports';
import type { AuditRecorder } from '../platform/audit';
import type { Username } from '../accounts/username';
import { summariseFactors, type FactorSummary } from '../second-factor/mfa-service';
import type { FactorStore } from '../second-factor/ports';

/** The operator's view of and control over a user's second factors (`tvm-admin mfa`). */
export class MfaAdmin {
  constructor(
    private readonly deps: {
      readonly users: Pick<UserStore, 'getUser'>;
      readonly factors: FactorStore;
      readonly auditor: AuditRecorder;
    },
  ) {}

  /** What the user has set up; never a secret. */
  async show(username: Username): Promise<FactorSummary> {
    const user = await this.deps.users.getUser(username);
    if (!user) throw new NotFoundError(`No user ${username}.`);
    const record = await this.deps.factors.getFactors(username);
    return summariseFactors(record?.userId === user.userId ? record : undefined);
  }

  /**
   * Removes every factor and recovery code (the person lost their device), audited as
   * `mfa_reset`. The next login needs only the password; the person should set up a factor again.
   */
  async reset(username: Username): Promise<FactorSummary> {
    const before = await this.show(username);
    await this.deps.factors.deleteFactors(username);
    await this.deps.auditor.record('mfa_reset', username, OPERATOR_ORIGIN, {
      totp: before.totp.enrolled ? 1 : 0,
      passkeys: before.passkeys.length,
      recoveryCodes: before.recoveryCodesLeft,
    });
    return before;
  }
}

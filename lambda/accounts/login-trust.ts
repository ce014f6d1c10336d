/**
 * What a successful login leaves on the user record: the device it came from becomes trusted
 * (or is noted as seen), and a hash weaker than the configuration is upgraded.
 */
import type { DomainLog } from '../platform/audit';
import type { Clock } from '../platform/clock';
import {
  hashDeviceToken,
  isTrustedDevice,
  isTrustedHash,
  newDeviceToken,
  withDeviceSeen,
  withTrustedDevice,
} from './device-trust';
import type { Password, PasswordHasher } from './password';
import type { UserChanges, UserRecord, UserStore } from './ports';

/** What {@link LoginTrust} needs. */
export interface LoginTrustDependencies {
  readonly users: Pick<UserStore, 'updateUser'>;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly log: DomainLog;
}

/** Device trust and hash upgrades after a login's proofs. */
export class LoginTrust {
  constructor(private readonly deps: LoginTrustDependencies) {}

  /**
   * After a correct password at login: re-hashes a hash weaker than the configuration, and
   * makes the device trusted (or notes that a trusted one was seen), in one conditional write
   * (lost to a concurrent password change, which wins). Returns the device token the app
   * keeps: the one it sent, if trusted, or a new one; none when the account's list is full of
   * devices still in use (see {@link withTrustedDevice}). A failed write costs the login
   * nothing: the hash stays valid and the device asks again. `trust` false only upgrades the
   * hash (a login that still owes its second factor earns no device token).
   */
  async afterPassword(
    user: UserRecord,
    password: Password | undefined,
    sentToken: string | undefined,
    trust: boolean,
  ): Promise<string | undefined> {
    const { hasher, users, log, clock } = this.deps;
    const trusted = sentToken !== undefined && isTrustedDevice(user, sentToken);
    const candidate = trusted ? sentToken : newDeviceToken();
    const devices = !trust
      ? undefined
      : trusted
        ? withDeviceSeen(user.trustedDevices, hashDeviceToken(candidate), clock.now())
        : withTrustedDevice(user.trustedDevices, hashDeviceToken(candidate), clock.now());
    let deviceToken = trusted || devices !== undefined ? candidate : undefined;
    const changes: UserChanges = {
      ...(devices !== undefined ? { trustedDevices: devices, ifTrustedDevices: { list: user.trustedDevices } } : {}),
      ...(password !== undefined && hasher.needsRehash(user.passwordHash)
        ? { passwordHash: await hasher.hash(password) }
        : {}),
    };
    if (Object.keys(changes).length === 0) return deviceToken;
    try {
      const updated = await users.updateUser(user.username, user.userId, {
        ...changes,
        ifPasswordHash: user.passwordHash,
      });
      if (!updated)
        log.warn('The user changed during login; device trust and re-hash wait for the next login.', {
          username: user.username,
        });
      else if (changes.passwordHash)
        log.info('Password hash upgraded to the configured scheme and cost.', { username: user.username });
      // A token the account does not hold would only mislead the app: none, and it asks again.
      if (!updated && !trusted) deviceToken = undefined;
    } catch {
      log.warn('Could not store device trust or the upgraded hash; the login goes on.', { username: user.username });
      if (!trusted) deviceToken = undefined;
    }
    return deviceToken;
  }

  /**
   * After a login's second factor: trusts the device, unless the login came from a device the
   * account still trusts (`trustedDeviceHash`), whose app keeps its token (its last login is
   * noted). Returns the new device token, if one was issued.
   */
  async afterSecondFactor(user: UserRecord, trustedDeviceHash: string | undefined): Promise<string | undefined> {
    if (trustedDeviceHash !== undefined && isTrustedHash(user, trustedDeviceHash)) {
      const devices = withDeviceSeen(user.trustedDevices, trustedDeviceHash, this.deps.clock.now());
      if (devices !== undefined) {
        await this.deps.users
          .updateUser(user.username, user.userId, {
            trustedDevices: devices,
            ifTrustedDevices: { list: user.trustedDevices },
            ifPasswordHash: user.passwordHash,
          })
          .catch(() =>
            this.deps.log.warn('Could not note the trusted device; the login goes on.', { username: user.username }),
          );
      }
      return undefined;
    }
    return this.afterPassword(user, undefined, undefined, true);
  }
}

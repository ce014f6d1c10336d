/**
 * In-memory second-factor stores with the DynamoDB stores' conditions
 * (lambda/adapters/dynamo/factor-store.ts and challenge-store.ts), each evaluated and applied
 * in one synchronous step after a yield, so parallel callers interleave as over a network.
 */
import type { LockoutScope } from '../../lambda/accounts/lockout';
import type {
  ChallengeRecord,
  ChallengeStore,
  FactorAttemptLimits,
  FactorAttemptResult,
  FactorAttemptState,
  FactorRecord,
  FactorStore,
  PasskeyRecord,
  PendingTotp,
  TotpFactor,
} from '../../lambda/second-factor/ports';
import type { Username } from '../../lambda/accounts/username';

const roundTrip = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Factors, attempt counters and challenges in maps. */
export class InMemoryMfaStore implements FactorStore, ChallengeStore {
  readonly records = new Map<string, FactorRecord>();
  /** Factor counters by `<username> <scope>`. */
  readonly attempts = new Map<string, FactorAttemptState>();
  readonly challenges = new Map<string, ChallengeRecord>();
  readonly owners = new Map<string, { username: Username; userId: string }>();

  async getFactors(username: Username): Promise<FactorRecord | undefined> {
    await roundTrip();
    const record = this.records.get(username);
    return record ? structuredClone(record) : undefined;
  }

  async putPendingTotp(username: Username, userId: string, pendingTotp: PendingTotp): Promise<void> {
    await roundTrip();
    const record = this.records.get(username);
    const base: FactorRecord =
      record?.userId === userId ? record : { username, userId, recoveryCodeHashes: [], passkeys: [] };
    this.records.set(username, { ...base, pendingTotp });
  }

  async confirmTotp(
    username: Username,
    userId: string,
    pendingSecret: string,
    totp: TotpFactor,
    recoveryCodeHashes?: readonly string[],
  ): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    if (record?.userId !== userId || record.pendingTotp?.secret !== pendingSecret || record.totp) return false;
    const { pendingTotp: _, pendingPasskey: __, ...rest } = record;
    this.records.set(username, {
      ...rest,
      totp,
      ...(recoveryCodeHashes ? { recoveryCodeHashes: [...recoveryCodeHashes] } : {}),
    });
    return true;
  }

  async useTotpStep(username: Username, userId: string, step: number): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    if (record?.userId !== userId || !record.totp || record.totp.lastUsedStep >= step) return false;
    this.records.set(username, { ...record, totp: { ...record.totp, lastUsedStep: step } });
    return true;
  }

  async redeemRecoveryCode(username: Username, userId: string, codeHash: string): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    if (record?.userId !== userId || !record.recoveryCodeHashes.includes(codeHash)) return false;
    this.records.set(username, {
      ...record,
      recoveryCodeHashes: record.recoveryCodeHashes.filter((hash) => hash !== codeHash),
    });
    return true;
  }

  async removeTotp(username: Username, userId: string, withRecoveryCodes: boolean): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    if (record?.userId !== userId || !record.totp) return false;
    const { totp: _, pendingTotp: __, ...rest } = record;
    this.records.set(username, { ...rest, ...(withRecoveryCodes ? { recoveryCodeHashes: [] } : {}) });
    return true;
  }

  async putPendingPasskey(
    username: Username,
    userId: string,
    pendingPasskey: { challenge: string; expiresAt: number },
  ): Promise<void> {
    await roundTrip();
    const record = this.records.get(username);
    const base: FactorRecord =
      record?.userId === userId ? record : { username, userId, recoveryCodeHashes: [], passkeys: [] };
    this.records.set(username, { ...base, pendingPasskey });
  }

  async addPasskey(
    username: Username,
    userId: string,
    challenge: string,
    passkey: PasskeyRecord,
    recoveryCodeHashes?: readonly string[],
  ): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    if (
      record?.userId !== userId ||
      record.pendingPasskey?.challenge !== challenge ||
      record.passkeys.some((known) => known.id === passkey.id)
    )
      return false;
    const { pendingPasskey: _, pendingTotp: __, ...rest } = record;
    this.records.set(username, {
      ...rest,
      passkeys: [...rest.passkeys, passkey],
      ...(recoveryCodeHashes ? { recoveryCodeHashes: [...recoveryCodeHashes] } : {}),
    });
    return true;
  }

  async claimPasskeyId(passkeyId: string, username: Username, userId: string): Promise<boolean> {
    await roundTrip();
    if (this.owners.has(passkeyId)) return false;
    this.owners.set(passkeyId, { username, userId });
    return true;
  }

  async releasePasskeyId(passkeyId: string, userId: string): Promise<void> {
    await roundTrip();
    if (this.owners.get(passkeyId)?.userId === userId) this.owners.delete(passkeyId);
  }

  async passkeyOwner(passkeyId: string): Promise<{ username: Username; userId: string } | undefined> {
    await roundTrip();
    return this.owners.get(passkeyId);
  }

  async usePasskey(
    username: Username,
    userId: string,
    passkeyId: string,
    counter: number,
    at: number,
  ): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    const stored = record?.passkeys.find((passkey) => passkey.id === passkeyId);
    if (record?.userId !== userId || !stored || !(stored.counter < counter || (stored.counter === 0 && counter === 0)))
      return false;
    this.records.set(username, {
      ...record,
      passkeys: record.passkeys.map((passkey) =>
        passkey.id === passkeyId ? { ...passkey, counter, lastUsedAt: at } : passkey,
      ),
    });
    return true;
  }

  async removePasskey(
    username: Username,
    userId: string,
    passkeyId: string,
    withRecoveryCodes: boolean,
  ): Promise<boolean> {
    await roundTrip();
    const record = this.records.get(username);
    if (record?.userId !== userId || !record.passkeys.some((passkey) => passkey.id === passkeyId)) return false;
    this.records.set(username, {
      ...record,
      passkeys: record.passkeys.filter((passkey) => passkey.id !== passkeyId),
      ...(withRecoveryCodes ? { recoveryCodeHashes: [] } : {}),
    });
    if (this.owners.get(passkeyId)?.userId === userId) this.owners.delete(passkeyId);
    return true;
  }

  async deleteFactors(username: Username): Promise<void> {
    await roundTrip();
    const record = this.records.get(username);
    for (const passkey of record?.passkeys ?? [])
      if (this.owners.get(passkey.id)?.userId === record?.userId) this.owners.delete(passkey.id);
    this.records.delete(username);
    for (const scope of ['unknown-device', 'reset']) this.attempts.delete(`${username} ${scope}`);
  }

  async tryReserveAttempt(
    username: Username,
    scope: LockoutScope,
    limits: FactorAttemptLimits,
    now: number,
    windowEndsAt: number,
    keepUntil: number,
  ): Promise<FactorAttemptResult> {
    await roundTrip();
    const key = `${username} ${scope}`;
    const item = this.attempts.get(key);
    if (!item) {
      this.attempts.set(key, { attempts: 1, windowEndsAt, consecutive: 1, keepUntil });
      return { reserved: true };
    }
    if (
      item.attempts < limits.perWindow &&
      item.windowEndsAt > now &&
      item.keepUntil > now &&
      item.consecutive < limits.consecutive
    ) {
      this.attempts.set(key, { ...item, attempts: item.attempts + 1, consecutive: item.consecutive + 1, keepUntil });
      return { reserved: true };
    }
    return { reserved: false, state: { ...item } };
  }

  async restartAttempts(
    username: Username,
    scope: LockoutScope,
    seenWindowEndsAt: number,
    windowEndsAt: number,
    keepUntil: number,
    consecutiveLimit: number,
    fresh: boolean,
  ): Promise<boolean> {
    await roundTrip();
    const key = `${username} ${scope}`;
    const item = this.attempts.get(key);
    if (item?.windowEndsAt !== seenWindowEndsAt || (!fresh && item.consecutive >= consecutiveLimit)) return false;
    this.attempts.set(key, { attempts: 1, windowEndsAt, keepUntil, consecutive: fresh ? 1 : item.consecutive + 1 });
    return true;
  }

  async clearAttempts(username: Username, scope: LockoutScope): Promise<void> {
    await roundTrip();
    this.attempts.delete(`${username} ${scope}`);
  }

  async putChallenge(challenge: ChallengeRecord): Promise<void> {
    await roundTrip();
    this.challenges.set(challenge.tokenHash, { ...challenge });
  }

  async takeChallengeAttempt(tokenHash: string, max: number, now: number): Promise<ChallengeRecord | undefined> {
    await roundTrip();
    const challenge = this.challenges.get(tokenHash);
    if (!challenge || challenge.attempts >= max || challenge.expiresAt <= now) return undefined;
    const updated = { ...challenge, attempts: challenge.attempts + 1 };
    this.challenges.set(tokenHash, updated);
    return { ...updated };
  }

  async consumeChallenge(tokenHash: string): Promise<boolean> {
    await roundTrip();
    return this.challenges.delete(tokenHash);
  }
}

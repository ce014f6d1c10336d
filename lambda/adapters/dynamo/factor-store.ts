/**
 * Second factors and their attempt counters on DynamoDB (layout in table-layout.ts). Every
 * change that could race is one conditional write; no transactions (dynalite has none).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from '../../accounts/lockout';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import type {
  FactorAttemptLimits,
  FactorAttemptResult,
  FactorRecord,
  FactorStore,
  PasskeyRecord,
  PendingTotp,
  TotpFactor,
} from '../../second-factor/ports';
import { DynamoTable, storedUsername, ttlSeconds, type WriteCommand } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

const TTL = TABLE_LAYOUT.timeToLiveAttribute;

/** {@link FactorStore} on DynamoDB: one record per user, passkey ids owned by one account each. */
export class DynamoFactorStore implements FactorStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async getFactors(username: Username): Promise<FactorRecord | undefined> {
    const item = await this.table.get(KEYS.factors(username));
    return item ? toFactors(item) : undefined;
  }

  putPendingTotp(username: Username, userId: string, pending: PendingTotp): Promise<void> {
    return this.putPending(username, userId, 'pendingTotp', pending);
  }

  putPendingPasskey(
    username: Username,
    userId: string,
    pending: { challenge: string; expiresAt: number },
  ): Promise<void> {
    return this.putPending(username, userId, 'pendingPasskey', pending);
  }

  /** Sets a pending enrolment, creating the record (with an empty passkey map) if needed. */
  private async putPending(
    username: Username,
    userId: string,
    attribute: 'pendingTotp' | 'pendingPasskey',
    pending: object,
  ): Promise<void> {
    const updated = await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: `SET username = :username, userId = :userId, ${attribute} = :pending, passkeys = if_not_exists(passkeys, :empty)`,
        ConditionExpression: 'attribute_not_exists(pk) OR userId = :userId',
        ExpressionAttributeValues: { ':username': username, ':userId': userId, ':pending': pending, ':empty': {} },
      }),
    );
    // A record of an earlier registration of this name: replace it whole.
    if (!updated)
      await this.run(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...KEYS.factors(username), username, userId, [attribute]: pending, passkeys: {} },
        }),
      );
  }

  async passkeyOwner(passkeyId: string): Promise<{ username: Username; userId: string } | undefined> {
    const item = await this.table.get(KEYS.passkeyOwner(passkeyId));
    return item ? { username: storedUsername(item.username, 'MFA'), userId: String(item.userId) } : undefined;
  }

  claimPasskeyId(passkeyId: string, username: Username, userId: string): Promise<boolean> {
    // Only one account can ever hold an id: the authenticator chooses it, so anyone could send any.
    return this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.passkeyOwner(passkeyId), username, userId },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async releasePasskeyId(passkeyId: string, userId: string): Promise<void> {
    // Only the claim of this registration: never another account's owner item.
    await this.table.conditional(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEYS.passkeyOwner(passkeyId),
        ConditionExpression: 'userId = :userId',
        ExpressionAttributeValues: { ':userId': userId },
      }),
    );
  }

  addPasskey(
    username: Username,
    userId: string,
    challenge: string,
    passkey: PasskeyRecord,
    recoveryCodeHashes?: readonly string[],
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ':userId': userId, ':challenge': challenge, ':passkey': passkey };
    const set = withRecoveryCodes('SET passkeys.#id = :passkey', values, recoveryCodeHashes);
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: `${set} REMOVE pendingPasskey, pendingTotp`,
        ConditionExpression:
          'userId = :userId AND pendingPasskey.challenge = :challenge AND attribute_not_exists(passkeys.#id)',
        ExpressionAttributeNames: { '#id': passkey.id },
        ExpressionAttributeValues: values,
      }),
    );
  }

  usePasskey(username: Username, userId: string, passkeyId: string, counter: number, at: number): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: 'SET passkeys.#id.#counter = :counter, passkeys.#id.lastUsedAt = :at',
        // The counter must grow (0 stays 0 for authenticators without one), checked on the
        // stored value: two answers with one counter value (a cloned key) cannot both pass.
        ConditionExpression:
          'userId = :userId AND attribute_exists(passkeys.#id) AND (passkeys.#id.#counter < :counter OR (passkeys.#id.#counter = :zero AND :counter = :zero))',
        ExpressionAttributeNames: { '#id': passkeyId, '#counter': 'counter' },
        ExpressionAttributeValues: { ':userId': userId, ':counter': counter, ':at': at, ':zero': 0 },
      }),
    );
  }

  async removePasskey(
    username: Username,
    userId: string,
    passkeyId: string,
    withRecoveryCodes: boolean,
  ): Promise<boolean> {
    const removed = await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: `REMOVE passkeys.#id${withRecoveryCodes ? ', recoveryCodes' : ''}`,
        ConditionExpression: 'userId = :userId AND attribute_exists(passkeys.#id)',
        ExpressionAttributeNames: { '#id': passkeyId },
        ExpressionAttributeValues: { ':userId': userId },
      }),
    );
    if (removed) await this.releasePasskeyId(passkeyId, userId);
    return removed;
  }

  confirmTotp(
    username: Username,
    userId: string,
    pendingSecret: string,
    totp: TotpFactor,
    recoveryCodeHashes?: readonly string[],
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ':userId': userId, ':secret': pendingSecret, ':totp': totp };
    const set = withRecoveryCodes('SET totp = :totp', values, recoveryCodeHashes);
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        // A factor added voids the other pending ceremony: its step-up may have been the password alone.
        UpdateExpression: `${set} REMOVE pendingTotp, pendingPasskey`,
        ConditionExpression: 'userId = :userId AND pendingTotp.secret = :secret AND attribute_not_exists(totp)',
        ExpressionAttributeValues: values,
      }),
    );
  }

  useTotpStep(username: Username, userId: string, step: number): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: 'SET totp.lastUsedStep = :step',
        ConditionExpression: 'userId = :userId AND totp.lastUsedStep < :step',
        ExpressionAttributeValues: { ':userId': userId, ':step': step },
      }),
    );
  }

  redeemRecoveryCode(username: Username, userId: string, codeHash: string): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: 'DELETE recoveryCodes :used',
        ConditionExpression: 'userId = :userId AND contains(recoveryCodes, :hash)',
        ExpressionAttributeValues: { ':userId': userId, ':hash': codeHash, ':used': new Set([codeHash]) },
      }),
    );
  }

  removeTotp(username: Username, userId: string, withRecoveryCodes: boolean): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factors(username),
        UpdateExpression: `REMOVE totp, pendingTotp${withRecoveryCodes ? ', recoveryCodes' : ''}`,
        ConditionExpression: 'userId = :userId AND attribute_exists(totp)',
        ExpressionAttributeValues: { ':userId': userId },
      }),
    );
  }

  async deleteFactors(username: Username): Promise<void> {
    const record = await this.getFactors(username);
    if (record) for (const passkey of record.passkeys) await this.releasePasskeyId(passkey.id, record.userId);
    await this.run(new DeleteCommand({ TableName: this.table.name, Key: KEYS.factors(username) }));
    // The counters named by the account alone; device and session counters are random names that expire.
    for (const scope of [UNKNOWN_DEVICE_SCOPE, 'reset'] as const)
      await this.run(new DeleteCommand({ TableName: this.table.name, Key: KEYS.factorAttempts(username, scope) }));
  }

  async tryReserveAttempt(
    username: Username,
    scope: LockoutScope,
    limits: FactorAttemptLimits,
    now: number,
    windowEndsAt: number,
    keepUntil: number,
  ): Promise<FactorAttemptResult> {
    const key = KEYS.factorAttempts(username, scope);
    const reserved = await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: key,
        UpdateExpression:
          'SET attempts = if_not_exists(attempts, :zero) + :one, consecutive = if_not_exists(consecutive, :zero) + :one, windowEndsAt = if_not_exists(windowEndsAt, :ends), keepUntil = :keep, #ttl = :ttl',
        // keepUntil is checked here, not left to TTL: TTL deletes late (and dynalite never).
        ConditionExpression:
          'attribute_not_exists(pk) OR (attempts < :max AND windowEndsAt > :now AND keepUntil > :now AND (attribute_not_exists(consecutive) OR consecutive < :ceiling))',
        ExpressionAttributeNames: { '#ttl': TTL },
        ExpressionAttributeValues: {
          ':zero': 0,
          ':one': 1,
          ':ends': windowEndsAt,
          ':keep': keepUntil,
          ':ttl': ttlSeconds(keepUntil),
          ':max': limits.perWindow,
          ':now': now,
          ':ceiling': limits.consecutive,
        },
      }),
    );
    if (reserved) return { reserved: true };
    const item = await this.table.get(key);
    if (!item) return { reserved: false, state: undefined };
    const windowEnds = Number(item.windowEndsAt);
    return {
      reserved: false,
      state: {
        attempts: Number(item.attempts),
        windowEndsAt: windowEnds,
        consecutive: Number(item.consecutive ?? item.attempts),
        // A counter from before keepUntil existed lives as long as its window.
        keepUntil: item.keepUntil === undefined ? windowEnds : Number(item.keepUntil),
      },
    };
  }

  restartAttempts(
    username: Username,
    scope: LockoutScope,
    seenWindowEndsAt: number,
    windowEndsAt: number,
    keepUntil: number,
    consecutiveLimit: number,
    fresh: boolean,
  ): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.factorAttempts(username, scope),
        UpdateExpression: `SET attempts = :one, windowEndsAt = :ends, keepUntil = :keep, #ttl = :ttl, consecutive = ${fresh ? ':one' : 'if_not_exists(consecutive, :zero) + :one'}`,
        ConditionExpression: fresh
          ? 'windowEndsAt = :seen'
          : 'windowEndsAt = :seen AND (attribute_not_exists(consecutive) OR consecutive < :ceiling)',
        ExpressionAttributeNames: { '#ttl': TTL },
        ExpressionAttributeValues: {
          ':one': 1,
          ':ends': windowEndsAt,
          ':keep': keepUntil,
          ':ttl': ttlSeconds(keepUntil),
          ':seen': seenWindowEndsAt,
          ...(fresh ? {} : { ':zero': 0, ':ceiling': consecutiveLimit }),
        },
      }),
    );
  }

  async clearAttempts(username: Username, scope: LockoutScope): Promise<void> {
    await this.run(new DeleteCommand({ TableName: this.table.name, Key: KEYS.factorAttempts(username, scope) }));
  }

  /** A write that must apply: a failed condition is a 503 too. */
  private async run(command: WriteCommand): Promise<void> {
    if (!(await this.table.conditional(command))) throw new BackendUnavailableError('DynamoDB (condition failed)');
  }
}

/** Adds the first factor's recovery code hashes (a string set) to a SET clause, when there are any. */
function withRecoveryCodes(
  set: string,
  values: Record<string, unknown>,
  hashes: readonly string[] | undefined,
): string {
  if (!hashes || hashes.length === 0) return set;
  values[':codes'] = new Set(hashes);
  return `${set}, recoveryCodes = :codes`;
}

function toFactors(item: Record<string, unknown>): FactorRecord {
  const totp = item.totp as Record<string, unknown> | undefined;
  const pending = item.pendingTotp as Record<string, unknown> | undefined;
  const pendingPasskey = item.pendingPasskey as Record<string, unknown> | undefined;
  const passkeys = (item.passkeys ?? {}) as Record<string, Record<string, unknown>>;
  const codes = item.recoveryCodes instanceof Set ? [...(item.recoveryCodes as Set<string>)] : [];
  return {
    username: storedUsername(item.username, 'MFA'),
    userId: String(item.userId),
    ...(totp
      ? {
          totp: {
            secret: String(totp.secret),
            confirmedAt: Number(totp.confirmedAt),
            lastUsedStep: Number(totp.lastUsedStep),
          },
        }
      : {}),
    ...(pending ? { pendingTotp: { secret: String(pending.secret), expiresAt: Number(pending.expiresAt) } } : {}),
    ...(pendingPasskey
      ? { pendingPasskey: { challenge: String(pendingPasskey.challenge), expiresAt: Number(pendingPasskey.expiresAt) } }
      : {}),
    recoveryCodeHashes: codes,
    passkeys: Object.values(passkeys)
      .map(toPasskey)
      .sort((a, b) => a.createdAt - b.createdAt),
  };
}

function toPasskey(item: Record<string, unknown>): PasskeyRecord {
  const transports = item.transports;
  return {
    id: String(item.id),
    publicKey: String(item.publicKey),
    counter: Number(item.counter ?? 0),
    name: String(item.name ?? 'Passkey'),
    createdAt: Number(item.createdAt),
    ...(Array.isArray(transports) ? { transports: transports.map(String) } : {}),
    ...(item.lastUsedAt !== undefined ? { lastUsedAt: Number(item.lastUsedAt) } : {}),
  };
}

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from '../../platform/audit';
import { BackendUnavailableError, UsernameTakenError } from '../../platform/errors';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from '../../accounts/lockout';
import type { TrustedDevice } from '../../accounts/device-trust';
import type { AuditTrail } from '../../platform/audit';
import type { LockoutState, LockoutStore, ReserveResult, ResetCodeStore, UserChanges, UserRecord, UserStore } from '../../accounts/ports';
import type { SessionRecord, SessionStore, SessionWithUser, SessionWithUserReader } from '../../sessions/ports';
import { isUsername, type Username } from '../../accounts/username';
import { isConditionFailure, unavailable } from './helpers';
import { TABLE_LAYOUT } from './table-layout';

const PROFILE = 'PROFILE';
const LOCKOUT = 'LOCKOUT';
const SESSION = 'SESSION';
const RESET = 'RESET';
const AUDIT = 'AUDIT#';

const userKey = (username: Username) => ({ pk: `USER#${username}`, sk: PROFILE });
/** The unknown-device counter keeps the original sort key, so counters written before scopes still count. */
const lockoutKey = (username: Username, scope: LockoutScope = UNKNOWN_DEVICE_SCOPE) => ({
  pk: `USER#${username}`,
  sk: scope === UNKNOWN_DEVICE_SCOPE ? LOCKOUT : `${LOCKOUT}#${scope}`,
});
const sessionKey = (tokenHash: string) => ({ pk: `SESSION#${tokenHash}`, sk: SESSION });
const resetKey = (username: Username) => ({ pk: `USER#${username}`, sk: RESET });
const sessionOwner = (username: Username) => `USER#${username}`;
/** DynamoDB TTL reads epoch seconds. */
const ttlSeconds = (epochMs: number) => Math.ceil(epochMs / 1000);

/** How often a BatchGetItem is sent before keys it leaves unprocessed make a 503. */
const BATCH_GET_ATTEMPTS = 3;
/** The wait before asking again for unprocessed keys, doubled each time (AWS advises backing off). */
const BATCH_GET_BACKOFF_MS = 25;

/**
 * Users, sessions and lockout counters in one DynamoDB table (layout in table-layout.ts).
 * Every write that must not race is conditional; no transactions are used.
 */
export class DynamoTvmStore implements UserStore, SessionStore, SessionWithUserReader, LockoutStore, ResetCodeStore, AuditTrail {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...userKey(user.username), ...user },
          // A deleted name's hold is the same item: the name is free only once the hold is over.
          ConditionExpression: 'attribute_not_exists(pk) OR heldUntil < :now',
          ExpressionAttributeValues: { ':now': user.createdAt },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new UsernameTakenError();
      throw unavailable(error);
    }
  }

  async getUser(username: Username): Promise<UserRecord | undefined> {
    const item = await this.get(userKey(username));
    return item && !isHold(item) ? toUser(item) : undefined;
  }

  async nameHeldUntil(username: Username): Promise<number | undefined> {
    const item = await this.get(userKey(username));
    return item && isHold(item) ? Number(item.heldUntil) : undefined;
  }

  async updateUser(username: Username, userId: string, changes: UserChanges): Promise<UserRecord | undefined> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { ':userId': userId };
    const names: Record<string, string> = {};
    let condition = 'userId = :userId';
    if (changes.passwordHash !== undefined) {
      sets.push('passwordHash = :passwordHash');
      values[':passwordHash'] = changes.passwordHash;
    }
    if (changes.disabled !== undefined) {
      sets.push('disabled = :disabled');
      values[':disabled'] = changes.disabled;
    }
    if (changes.trustedDevices !== undefined) {
      sets.push('trustedDevices = :trustedDevices');
      values[':trustedDevices'] = changes.trustedDevices.map(({ hash, seenAt }) => ({ hash, seenAt }));
    }
    if (changes.ifTrustedDevices !== undefined) {
      const { list } = changes.ifTrustedDevices;
      // Every change appends (an added device) or grows the list, so its length and newest
      // entry tell whether another login wrote it since it was read.
      if (list === undefined) condition += ' AND attribute_not_exists(trustedDevices)';
      else {
        values[':devicesCount'] = list.length;
        condition += ' AND size(trustedDevices) = :devicesCount';
        const newest = list.at(-1);
        if (newest !== undefined) {
          values[':newestDevice'] = newest.hash;
          names['#deviceHash'] = 'hash';
          condition += ` AND trustedDevices[${list.length - 1}].#deviceHash = :newestDevice`;
        }
      }
    }
    if (changes.ifPasswordHash !== undefined) {
      values[':ifPasswordHash'] = changes.ifPasswordHash;
      condition += ' AND passwordHash = :ifPasswordHash';
    }
    if (changes.cutOffAt !== undefined) {
      sets.push('cutOffAt = :cutOffAt');
      values[':cutOffAt'] = changes.cutOffAt;
      condition += ' AND (attribute_not_exists(cutOffAt) OR cutOffAt <= :cutOffAt)';
    }
    if (changes.sessionGeneration !== undefined) {
      sets.push('sessionGeneration = :toGeneration');
      values[':toGeneration'] = changes.sessionGeneration.to;
      values[':fromGeneration'] = changes.sessionGeneration.from;
      condition += ' AND sessionGeneration = :fromGeneration';
    }
    if (sets.length === 0) return this.getUser(username);
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(username),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toUser(result.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw unavailable(error);
    }
  }

  async holdName(username: Username, userId: string, heldUntil: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...userKey(username), username, heldUntil, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(heldUntil) },
          ConditionExpression: 'userId = :userId',
          ExpressionAttributeValues: { ':userId': userId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }

  async *listUsers(): AsyncIterable<UserRecord> {
    try {
      const pages = paginateScan(
        { client: this.documents, pageSize: 100 },
        {
          TableName: this.tableName,
          FilterExpression: 'sk = :profile',
          ExpressionAttributeValues: { ':profile': PROFILE },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) if (!isHold(item)) yield toUser(item);
      }
    } catch (error) {
      throw error instanceof BackendUnavailableError ? error : unavailable(error);
    }
  }

  /**
   * Writes a new session. Its token hash is random, so the condition can only fail because
   * this very write already happened: the SDK retried an attempt that timed out after DynamoDB
   * applied it. The stored item is then read back, and the write counts as done if it is this
   * session; anything else is a 503.
   */
  async putSession(session: SessionRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...sessionKey(session.tokenHash),
            ...session,
            [TABLE_LAYOUT.sessionsByOwnerIndex.partitionKey]: sessionOwner(session.username),
            [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(session.expiresAt),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
      const stored = await this.get(sessionKey(session.tokenHash));
      if (stored?.sessionId !== session.sessionId || stored.userId !== session.userId) throw unavailable(error);
    }
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const item = await this.get(sessionKey(tokenHash));
    return item ? toSession(item) : undefined;
  }

  /** One consistent BatchGetItem for both items. */
  async getSessionWithUser(tokenHash: string, username: Username): Promise<SessionWithUser> {
    const wantedSession = sessionKey(tokenHash);
    const wantedUser = userKey(username);
    const items = await this.batchGet([wantedSession, wantedUser]);
    const find = (key: { pk: string; sk: string }) => items.find((item) => item.pk === key.pk && item.sk === key.sk);
    const sessionItem = find(wantedSession);
    const userItem = find(wantedUser);
    return {
      ...(sessionItem ? { session: toSession(sessionItem) } : {}),
      ...(userItem && !isHold(userItem) ? { user: toUser(userItem) } : {}),
    };
  }

  async listSessions(username: Username): Promise<SessionRecord[]> {
    const index = TABLE_LAYOUT.sessionsByOwnerIndex;
    const sessions: SessionRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.name,
            KeyConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': index.partitionKey },
            ExpressionAttributeValues: { ':owner': sessionOwner(username) },
            ExclusiveStartKey: startKey,
          }),
        );
        sessions.push(...(page.Items ?? []).map(toSession));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw error instanceof BackendUnavailableError ? error : unavailable(error);
    }
    return sessions;
  }

  async touchSession(tokenHash: string, at: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: sessionKey(tokenHash),
          UpdateExpression: 'SET lastUsedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      // A session revoked a moment ago: nothing to record.
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  async putResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.run(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...resetKey(username), codeHash, expiresAt, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt) },
      }),
    );
  }

  async redeemResetCode(username: Username, codeHash: string, now: number): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: resetKey(username),
          ConditionExpression: 'codeHash = :codeHash AND expiresAt > :now',
          ExpressionAttributeValues: { ':codeHash': codeHash, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }

  async restoreResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.run(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...resetKey(username), codeHash, expiresAt, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt) },
        // A newer code issued meanwhile wins.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof BackendUnavailableError && isConditionFailure(error.cause))) throw error;
    });
  }

  async record(event: AuditEvent, expiresAt: number): Promise<void> {
    await this.run(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `USER#${event.username}`, sk: auditSortKey(event.at), ...event, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt) },
      }),
    );
  }

  async recordNothing(event: AuditEvent, expiresAt: number): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `USER#${event.username}`, sk: auditSortKey(event.at), ...event, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt) },
          // The sort key is new and random, so the item cannot exist: the write always fails.
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  async list(username: Username, limit: number): Promise<AuditEvent[]> {
    try {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
          ExpressionAttributeValues: { ':pk': `USER#${username}`, ':audit': AUDIT },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (page.Items ?? []).map(toAuditEvent);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.run(new DeleteCommand({ TableName: this.tableName, Key: sessionKey(tokenHash) }));
  }

  async tryReserve(username: Username, threshold: number, now: number, expiresAt: number, scope?: LockoutScope): Promise<ReserveResult> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: lockoutKey(username, scope),
          UpdateExpression: 'SET attempts = if_not_exists(attempts, :zero) + :one, expiresAt = :expiresAt, #ttl = :ttl',
          // A counter that is full, locked or stale is refused; the caller decides what that means.
          ConditionExpression:
            'attribute_not_exists(pk) OR (attempts < :threshold AND expiresAt > :now AND attribute_not_exists(lockedUntil))',
          ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':one': 1,
            ':threshold': threshold,
            ':now': now,
            ':expiresAt': expiresAt,
            ':ttl': ttlSeconds(expiresAt),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { reserved: true, attempts: Number(result.Attributes?.attempts) };
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
    return { reserved: false, state: await this.getLockout(username, scope) };
  }

  async restart(username: Username, seen: LockoutState | undefined, expiresAt: number, scope?: LockoutScope): Promise<boolean> {
    const values: Record<string, unknown> = { ':one': 1, ':expiresAt': expiresAt, ':ttl': ttlSeconds(expiresAt) };
    let condition = 'attribute_not_exists(pk)';
    if (seen) {
      condition = 'attempts = :seenAttempts AND expiresAt = :seenExpiresAt AND ';
      condition += seen.lockedUntil === undefined ? 'attribute_not_exists(lockedUntil)' : 'lockedUntil = :seenLockedUntil';
      values[':seenAttempts'] = seen.attempts;
      values[':seenExpiresAt'] = seen.expiresAt;
      if (seen.lockedUntil !== undefined) values[':seenLockedUntil'] = seen.lockedUntil;
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: lockoutKey(username, scope),
          UpdateExpression: 'SET attempts = :one, expiresAt = :expiresAt, #ttl = :ttl REMOVE lockedUntil',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }

  async lock(username: Username, lockedUntil: number, expiresAt: number, scope?: LockoutScope): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: lockoutKey(username, scope),
          UpdateExpression: 'SET lockedUntil = :lockedUntil, expiresAt = :expiresAt, #ttl = :ttl',
          // A success cleared the counter while this failure was checked: that success wins.
          ConditionExpression: 'attribute_exists(attempts)',
          ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
          ExpressionAttributeValues: { ':lockedUntil': lockedUntil, ':expiresAt': expiresAt, ':ttl': ttlSeconds(expiresAt) },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  async clear(username: Username, scope?: LockoutScope): Promise<void> {
    await this.run(new DeleteCommand({ TableName: this.tableName, Key: lockoutKey(username, scope) }));
  }

  async peek(username: Username, scope?: LockoutScope): Promise<LockoutState | undefined> {
    return this.getLockout(username, scope);
  }

  async deleteResetCode(username: Username): Promise<void> {
    await this.run(new DeleteCommand({ TableName: this.tableName, Key: resetKey(username) }));
  }

  private async getLockout(username: Username, scope?: LockoutScope): Promise<LockoutState | undefined> {
    const item = await this.get(lockoutKey(username, scope));
    if (!item) return undefined;
    return {
      attempts: Number(item.attempts),
      expiresAt: Number(item.expiresAt),
      ...(item.lockedUntil !== undefined ? { lockedUntil: Number(item.lockedUntil) } : {}),
    };
  }

  private async get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      return result.Item;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * A consistent BatchGetItem of a few keys. Keys DynamoDB leaves unprocessed (throttling) are
   * asked again after a short, doubling wait, at most BATCH_GET_ATTEMPTS times in all; any
   * still left make a 503.
   */
  private async batchGet(keys: readonly { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = [...keys];
    try {
      for (let attempt = 0; attempt < BATCH_GET_ATTEMPTS && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(BATCH_GET_BACKOFF_MS * 2 ** (attempt - 1));
        const result = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        items.push(...(result.Responses?.[this.tableName] ?? []));
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    } catch (error) {
      throw unavailable(error);
    }
    if (pending.length > 0) throw unavailable(new Error(`BatchGetItem left ${pending.length} keys unprocessed`));
    return items;
  }

  private async run(command: PutCommand | UpdateCommand | DeleteCommand): Promise<void> {
    try {
      // The union confuses send's overloads; each member is a valid document command.
      await this.documents.send(command as PutCommand);
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/**
 * Time-ordered audit sort key. Within one millisecond the process's monotonic clock keeps this
 * instance's events in order (login_failed before locked); the random tail keeps events of
 * two instances apart.
 */
function auditSortKey(at: number): string {
  const tick = (process.hrtime.bigint() % 1_000_000_000_000n).toString().padStart(12, '0');
  return `${AUDIT}${String(at).padStart(13, '0')}#${tick}#${randomBytes(4).toString('hex')}`;
}

/** A deleted name's hold, stored in the user's place (see {@link DynamoTvmStore.holdName}). */
function isHold(item: Record<string, unknown>): boolean {
  return item.heldUntil !== undefined;
}

function toUser(item: Record<string, unknown>): UserRecord {
  return {
    username: storedUsername(item.username),
    userId: String(item.userId),
    passwordHash: String(item.passwordHash),
    createdAt: Number(item.createdAt),
    disabled: item.disabled === true,
    sessionGeneration: Number(item.sessionGeneration ?? 0),
    ...(Array.isArray(item.trustedDevices) ? { trustedDevices: item.trustedDevices.map(toTrustedDevice) } : {}),
    ...(typeof item.cutOffAt === 'number' ? { cutOffAt: item.cutOffAt } : {}),
  };
}

/** A stored trusted device; a bare hash (stored before devices had `seenAt`) counts as long idle. */
function toTrustedDevice(entry: unknown): TrustedDevice {
  if (typeof entry === 'object' && entry !== null) {
    const { hash, seenAt } = entry as { hash?: unknown; seenAt?: unknown };
    return { hash: String(hash), seenAt: Number(seenAt ?? 0) };
  }
  return { hash: String(entry), seenAt: 0 };
}

function toSession(item: Record<string, unknown>): SessionRecord {
  return {
    tokenHash: String(item.tokenHash),
    sessionId: String(item.sessionId),
    username: storedUsername(item.username),
    userId: String(item.userId),
    generation: Number(item.generation ?? 0),
    createdAt: Number(item.createdAt),
    expiresAt: Number(item.expiresAt),
    ...(item.lastUsedAt !== undefined ? { lastUsedAt: Number(item.lastUsedAt) } : {}),
    ...(typeof item.device === 'string' ? { device: item.device } : {}),
  };
}

function toAuditEvent(item: Record<string, unknown>): AuditEvent {
  const type = item.type as AuditEventType;
  if (!AUDIT_EVENT_TYPES.includes(type)) throw new BackendUnavailableError('DynamoDB (corrupt audit item)');
  return {
    username: storedUsername(item.username),
    type,
    at: Number(item.at),
    ...(typeof item.sourceIp === 'string' ? { sourceIp: item.sourceIp } : {}),
    ...(typeof item.userAgent === 'string' ? { userAgent: item.userAgent } : {}),
    ...(item.details && typeof item.details === 'object' ? { details: item.details as Record<string, string | number> } : {}),
  };
}

/** Usernames read back are re-checked: a tampered item must not reach a policy. */
function storedUsername(value: unknown): Username {
  if (typeof value !== 'string' || !isUsername(value)) throw new BackendUnavailableError('DynamoDB (corrupt user item)');
  return value;
}

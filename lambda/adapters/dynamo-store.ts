import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { BackendUnavailableError, UsernameTakenError } from '../core/errors';
import type {
  LockoutState,
  LockoutStore,
  ReserveResult,
  SessionRecord,
  SessionStore,
  UserRecord,
  UserStore,
} from '../core/ports';
import { isUsername, type Username } from '../core/username';
import { TABLE_LAYOUT } from './table-layout';

const PROFILE = 'PROFILE';
const LOCKOUT = 'LOCKOUT';
const SESSION = 'SESSION';

const userKey = (username: Username) => ({ pk: `USER#${username}`, sk: PROFILE });
const lockoutKey = (username: Username) => ({ pk: `USER#${username}`, sk: LOCKOUT });
const sessionKey = (tokenHash: string) => ({ pk: `SESSION#${tokenHash}`, sk: SESSION });
/** DynamoDB TTL reads epoch seconds. */
const ttlSeconds = (epochMs: number) => Math.ceil(epochMs / 1000);

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** Any DynamoDB fault other than a failed condition is a 503: the cause is kept for logs only. */
function unavailable(error: unknown): BackendUnavailableError {
  return new BackendUnavailableError('DynamoDB', { cause: error });
}

/**
 * Users, sessions and lockout counters in one DynamoDB table (layout in table-layout.ts).
 * Every write that must not race is conditional; no transactions are used.
 */
export class DynamoTvmStore implements UserStore, SessionStore, LockoutStore {
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
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new UsernameTakenError();
      throw unavailable(error);
    }
  }

  async getUser(username: Username): Promise<UserRecord | undefined> {
    const item = await this.get(userKey(username));
    if (!item) return undefined;
    return {
      username: storedUsername(item.username),
      userId: String(item.userId),
      passwordHash: String(item.passwordHash),
      createdAt: Number(item.createdAt),
    };
  }

  async putSession(session: SessionRecord): Promise<void> {
    await this.run(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...sessionKey(session.tokenHash), ...session, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(session.expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const item = await this.get(sessionKey(tokenHash));
    if (!item) return undefined;
    return {
      tokenHash: String(item.tokenHash),
      username: storedUsername(item.username),
      userId: String(item.userId),
      createdAt: Number(item.createdAt),
      expiresAt: Number(item.expiresAt),
      ...(typeof item.device === 'string' ? { device: item.device } : {}),
    };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.run(new DeleteCommand({ TableName: this.tableName, Key: sessionKey(tokenHash) }));
  }

  async tryReserve(username: Username, threshold: number, now: number, expiresAt: number): Promise<ReserveResult> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: lockoutKey(username),
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
    return { reserved: false, state: await this.getLockout(username) };
  }

  async restart(username: Username, seen: LockoutState | undefined, expiresAt: number): Promise<boolean> {
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
          Key: lockoutKey(username),
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

  async lock(username: Username, lockedUntil: number, expiresAt: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: lockoutKey(username),
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

  async clear(username: Username): Promise<void> {
    await this.run(new DeleteCommand({ TableName: this.tableName, Key: lockoutKey(username) }));
  }

  private async getLockout(username: Username): Promise<LockoutState | undefined> {
    const item = await this.get(lockoutKey(username));
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

  private async run(command: PutCommand | UpdateCommand | DeleteCommand): Promise<void> {
    try {
      // The union confuses send's overloads; each member is a valid document command.
      await this.documents.send(command as PutCommand);
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/** Usernames read back are re-checked: a tampered item must not reach a policy. */
function storedUsername(value: unknown): Username {
  if (typeof value !== 'string' || !isUsername(value)) throw new BackendUnavailableError('DynamoDB (corrupt user item)');
  return value;
}

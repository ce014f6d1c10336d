/** Failed-login counters on DynamoDB (layout in table-layout.ts): one item per user and scope. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LockoutScope, LockoutState, ReserveResult } from '../../accounts/lockout';
import type { LockoutStore } from '../../accounts/ports';
import type { Username } from '../../accounts/username';
import { DynamoTable, isConditionFailure, ttlSeconds, unavailable } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** {@link LockoutStore} on DynamoDB: the reservation is one conditional update, so a burst gets at most `threshold` checks. */
export class DynamoLockoutStore implements LockoutStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async tryReserve(
    username: Username,
    threshold: number,
    now: number,
    expiresAt: number,
    scope?: LockoutScope,
  ): Promise<ReserveResult> {
    try {
      const result = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.lockout(username, scope),
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

  async restart(
    username: Username,
    seen: LockoutState | undefined,
    expiresAt: number,
    scope?: LockoutScope,
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ':one': 1, ':expiresAt': expiresAt, ':ttl': ttlSeconds(expiresAt) };
    let condition = 'attribute_not_exists(pk)';
    if (seen) {
      condition = 'attempts = :seenAttempts AND expiresAt = :seenExpiresAt AND ';
      condition +=
        seen.lockedUntil === undefined ? 'attribute_not_exists(lockedUntil)' : 'lockedUntil = :seenLockedUntil';
      values[':seenAttempts'] = seen.attempts;
      values[':seenExpiresAt'] = seen.expiresAt;
      if (seen.lockedUntil !== undefined) values[':seenLockedUntil'] = seen.lockedUntil;
    }
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.lockout(username, scope),
        UpdateExpression: 'SET attempts = :one, expiresAt = :expiresAt, #ttl = :ttl REMOVE lockedUntil',
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
        ExpressionAttributeValues: values,
      }),
    );
  }

  async lock(username: Username, lockedUntil: number, expiresAt: number, scope?: LockoutScope): Promise<void> {
    await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.lockout(username, scope),
        UpdateExpression: 'SET lockedUntil = :lockedUntil, expiresAt = :expiresAt, #ttl = :ttl',
        // A success cleared the counter while this failure was checked: that success wins.
        ConditionExpression: 'attribute_exists(attempts)',
        ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
        ExpressionAttributeValues: {
          ':lockedUntil': lockedUntil,
          ':expiresAt': expiresAt,
          ':ttl': ttlSeconds(expiresAt),
        },
      }),
    );
  }

  async clear(username: Username, scope?: LockoutScope): Promise<void> {
    await this.table.write(new DeleteCommand({ TableName: this.table.name, Key: KEYS.lockout(username, scope) }));
  }

  async peek(username: Username, scope?: LockoutScope): Promise<LockoutState | undefined> {
    return this.getLockout(username, scope);
  }

  private async getLockout(username: Username, scope?: LockoutScope): Promise<LockoutState | undefined> {
    const item = await this.table.get(KEYS.lockout(username, scope));
    if (!item) return undefined;
    return {
      attempts: Number(item.attempts),
      expiresAt: Number(item.expiresAt),
      ...(item.lockedUntil !== undefined ? { lockedUntil: Number(item.lockedUntil) } : {}),
    };
  }
}

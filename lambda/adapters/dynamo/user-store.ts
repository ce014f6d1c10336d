/** Users, and the holds on deleted names, on DynamoDB (layout in table-layout.ts). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { TrustedDevice, UserChanges, UserRecord, UserStore } from '../../accounts/ports';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError, UsernameTakenError } from '../../platform/errors';
import { DynamoTable, isConditionFailure, storedUsername, ttlSeconds, unavailable } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** {@link UserStore} on DynamoDB: every write that must not race is conditional; no transactions. */
export class DynamoUserStore implements UserStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...KEYS.user(user.username), ...user },
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
    const item = await this.table.get(KEYS.user(username));
    return item && !isHold(item) ? toUser(item) : undefined;
  }

  async nameHeldUntil(username: Username): Promise<number | undefined> {
    const item = await this.table.get(KEYS.user(username));
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
      const result = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.user(username),
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

  /**
   * Sets the user's own quota (`null`: none; `undefined`: back to the `defaultQuotaBytes`
   * setting), only on a user (never on a deleted name's hold). Returns the updated user, or
   * undefined when there is no such user.
   */
  async setQuotaBytes(username: Username, quotaBytes: number | null | undefined): Promise<UserRecord | undefined> {
    try {
      const result = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.user(username),
          ...(quotaBytes === undefined
            ? { UpdateExpression: 'REMOVE quotaBytes' }
            : {
                UpdateExpression: 'SET quotaBytes = :quotaBytes',
                ExpressionAttributeValues: { ':quotaBytes': quotaBytes },
              }),
          ConditionExpression: 'attribute_exists(userId)',
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
    return this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...KEYS.user(username),
          username,
          heldUntil,
          [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(heldUntil),
        },
        ConditionExpression: 'userId = :userId',
        ExpressionAttributeValues: { ':userId': userId },
      }),
    );
  }

  async *listUsers(): AsyncIterable<UserRecord> {
    try {
      const pages = paginateScan(
        { client: this.table.documents, pageSize: 100 },
        {
          TableName: this.table.name,
          FilterExpression: 'sk = :profile',
          ExpressionAttributeValues: { ':profile': KEYS.userSortKey },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) if (!isHold(item)) yield toUser(item);
      }
    } catch (error) {
      throw error instanceof BackendUnavailableError ? error : unavailable(error);
    }
  }
}

/** A deleted name's hold, stored in the user's place (see {@link DynamoUserStore.holdName}). */
export function isHold(item: Record<string, unknown>): boolean {
  return item.heldUntil !== undefined;
}

export function toUser(item: Record<string, unknown>): UserRecord {
  return {
    username: storedUsername(item.username),
    userId: String(item.userId),
    passwordHash: String(item.passwordHash),
    createdAt: Number(item.createdAt),
    disabled: item.disabled === true,
    sessionGeneration: Number(item.sessionGeneration ?? 0),
    ...(Array.isArray(item.trustedDevices) ? { trustedDevices: item.trustedDevices.map(toTrustedDevice) } : {}),
    ...(typeof item.cutOffAt === 'number' ? { cutOffAt: item.cutOffAt } : {}),
    ...(item.quotaBytes === null || typeof item.quotaBytes === 'number' ? { quotaBytes: item.quotaBytes } : {}),
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

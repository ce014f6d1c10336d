/**
 * Invites on DynamoDB (layout in table-layout.ts): one item per invite, keyed by the SHA-256 of
 * its code, with an expiry and a TTL. Claims, releases and uses are single conditional writes
 * (lambda/signup/registration-gate.ts says why there is no transaction).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { InviteClaim, InviteRecord, InviteStore } from '../../signup/ports';
import { DynamoTable, guarded, storedUsername, ttlSeconds } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** How long an expired or used invite stays listable before DynamoDB's TTL removes it. */
const KEPT_AFTER_EXPIRY_MS = 30 * 24 * 60 * 60 * 1000;

/** {@link InviteStore} on the TVM's table. */
export class DynamoInviteStore implements InviteStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  create(record: InviteRecord): Promise<boolean> {
    return this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...KEYS.invite(record.codeHash),
          codeHash: record.codeHash,
          createdAt: record.createdAt,
          expiresAt: record.expiresAt,
          [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(record.expiresAt + KEPT_AFTER_EXPIRY_MS),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(codeHash: string): Promise<InviteRecord | undefined> {
    const item = await this.table.get(KEYS.invite(codeHash));
    return item ? toInvite(item) : undefined;
  }

  claim(codeHash: string, claim: InviteClaim, replacing?: string): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.invite(codeHash),
        UpdateExpression: 'SET claimUserId = :userId, claimUsername = :username, claimedAt = :at',
        // TTL deletes late: the expiry in the condition is what makes an old invite useless.
        ConditionExpression: `attribute_exists(pk) AND expiresAt > :at AND attribute_not_exists(usedBy) AND ${
          replacing === undefined ? 'attribute_not_exists(claimUserId)' : 'claimUserId = :replacing'
        }`,
        ExpressionAttributeValues: {
          ':userId': claim.userId,
          ':username': claim.username,
          ':at': claim.at,
          ...(replacing === undefined ? {} : { ':replacing': replacing }),
        },
      }),
    );
  }

  release(codeHash: string, userId: string): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.invite(codeHash),
        UpdateExpression: 'REMOVE claimUserId, claimUsername, claimedAt',
        ConditionExpression: 'claimUserId = :userId AND attribute_not_exists(usedBy)',
        ExpressionAttributeValues: { ':userId': userId },
      }),
    );
  }

  markUsed(codeHash: string, claim: InviteClaim): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.invite(codeHash),
        UpdateExpression: 'SET usedBy = :username, usedAt = :at REMOVE claimUserId, claimUsername, claimedAt',
        ConditionExpression: 'claimUserId = :userId',
        ExpressionAttributeValues: { ':userId': claim.userId, ':username': claim.username, ':at': claim.at },
      }),
    );
  }

  revoke(codeHash: string): Promise<boolean> {
    return this.table.conditional(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEYS.invite(codeHash),
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedBy)',
      }),
    );
  }

  async list(): Promise<InviteRecord[]> {
    return guarded(async () => {
      const invites: InviteRecord[] = [];
      const pages = paginateScan(
        { client: this.table.documents, pageSize: 100 },
        {
          TableName: this.table.name,
          FilterExpression: 'sk = :invite AND begins_with(pk, :prefix)',
          ExpressionAttributeValues: { ':invite': KEYS.invite('').sk, ':prefix': KEYS.invite('').pk },
        },
      );
      for await (const page of pages) for (const item of page.Items ?? []) invites.push(toInvite(item));
      return invites;
    });
  }
}

function toInvite(item: Record<string, unknown>): InviteRecord {
  const claim =
    typeof item.claimUserId === 'string'
      ? {
          claim: {
            username: storedUsername(item.claimUsername, 'invite'),
            userId: item.claimUserId,
            at: Number(item.claimedAt),
          },
        }
      : {};
  return {
    codeHash: String(item.codeHash),
    createdAt: Number(item.createdAt),
    expiresAt: Number(item.expiresAt),
    ...(item.usedBy !== undefined
      ? { usedBy: storedUsername(item.usedBy, 'invite'), usedAt: Number(item.usedAt) }
      : {}),
    ...claim,
  };
}

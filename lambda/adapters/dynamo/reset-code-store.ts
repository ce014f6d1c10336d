/** One-time reset codes on DynamoDB (layout in table-layout.ts): one item per user, only the code's hash. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ResetCodeStore } from '../../accounts/ports';
import type { Username } from '../../accounts/username';
import { DynamoTable, ttlSeconds } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** {@link ResetCodeStore} on DynamoDB: redeeming is one conditional delete. */
export class DynamoResetCodeStore implements ResetCodeStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async putResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.table.write(
      new PutCommand({ TableName: this.table.name, Item: resetCodeItem(username, codeHash, expiresAt) }),
    );
  }

  redeemResetCode(username: Username, codeHash: string, now: number): Promise<boolean> {
    return this.table.conditional(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEYS.resetCode(username),
        ConditionExpression: 'codeHash = :codeHash AND expiresAt > :now',
        ExpressionAttributeValues: { ':codeHash': codeHash, ':now': now },
      }),
    );
  }

  async restoreResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: resetCodeItem(username, codeHash, expiresAt),
        // A newer code issued meanwhile wins.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async deleteResetCode(username: Username): Promise<void> {
    await this.table.write(new DeleteCommand({ TableName: this.table.name, Key: KEYS.resetCode(username) }));
  }
}

/** A user's one reset-code item: the code's hash only, gone with DynamoDB's TTL once expired. */
function resetCodeItem(username: Username, codeHash: string, expiresAt: number): Record<string, unknown> {
  return {
    ...KEYS.resetCode(username),
    codeHash,
    expiresAt,
    [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt),
  };
}

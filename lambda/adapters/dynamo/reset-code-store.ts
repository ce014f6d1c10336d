/** One-time reset codes on DynamoDB (layout in table-layout.ts): one item per user, only the code's hash. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ResetCodeStore } from '../../accounts/ports';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import { DynamoTable, isConditionFailure, ttlSeconds, unavailable } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** {@link ResetCodeStore} on DynamoDB: redeeming is one conditional delete. */
export class DynamoResetCodeStore implements ResetCodeStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async putResetCode(username: Username, codeHash: string, expiresAt: number): Promise<void> {
    await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...KEYS.resetCode(username),
          codeHash,
          expiresAt,
          [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt),
        },
      }),
    );
  }

  async redeemResetCode(username: Username, codeHash: string, now: number): Promise<boolean> {
    try {
      await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: KEYS.resetCode(username),
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
    await this.table
      .write(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...KEYS.resetCode(username),
            codeHash,
            expiresAt,
            [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt),
          },
          // A newer code issued meanwhile wins.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof BackendUnavailableError && isConditionFailure(error.cause))) throw error;
      });
  }

  async deleteResetCode(username: Username): Promise<void> {
    await this.table.write(new DeleteCommand({ TableName: this.table.name, Key: KEYS.resetCode(username) }));
  }
}

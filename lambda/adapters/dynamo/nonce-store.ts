/**
 * Sign-in nonces on DynamoDB (layout in table-layout.ts): stored by hash with an expiry and a
 * TTL; read while a first sign-in asks for a username, and consumed by one conditional
 * DeleteItem, so of two parallel sign-ins with one token only one finds it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { NonceStore } from '../../identities/ports';
import { DynamoTable, ttlSeconds } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** {@link NonceStore} on the TVM's table. */
export class DynamoNonceStore implements NonceStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async put(nonceHash: string, expiresAt: number): Promise<void> {
    await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.oidcNonce(nonceHash), expiresAt, [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt) },
      }),
    );
  }

  async isLive(nonceHash: string, now: number): Promise<boolean> {
    const item = await this.table.get(KEYS.oidcNonce(nonceHash));
    return typeof item?.expiresAt === 'number' && item.expiresAt > now;
  }

  consume(nonceHash: string, now: number): Promise<boolean> {
    // TTL deletes late: the expiry in the condition is what makes an old nonce useless.
    return this.table.conditional(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEYS.oidcNonce(nonceHash),
        ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  }
}

/**
 * The DynamoDB table's shape, shared by the adapter, the CDK stack and the local sandbox.
 * Single-table design: every item has a string partition key and sort key.
 *
 * | item | pk | sk |
 * |---|---|---|
 * | user | `USER#<username>` | `PROFILE` |
 * | lockout counter | `USER#<username>` | `LOCKOUT` |
 * | session | `SESSION#<sha256 of token>` | `SESSION` |
 */
export const TABLE_LAYOUT = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL deletes the item some time after it. Readers check expiry themselves. */
  timeToLiveAttribute: 'ttl',
} as const;

/**
 * The CreateTable input for this layout (on-demand), for the local sandbox and the
 * integration tests. The deployed table is defined by the CDK stack from TABLE_LAYOUT.
 */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: TABLE_LAYOUT.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE_LAYOUT.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE_LAYOUT.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_LAYOUT.sortKey, KeyType: 'RANGE' as const },
    ],
  };
}

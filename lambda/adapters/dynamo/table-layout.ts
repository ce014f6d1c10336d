/**
 * The DynamoDB table's shape, shared by the adapter, the CDK stack and the local sandbox.
 * Single-table design: every item has a string partition key and sort key.
 *
 * | item | pk | sk |
 * |---|---|---|
 * | user, or the hold on a deleted name (`heldUntil`) | `USER#<username>` | `PROFILE` |
 * | lockout counter, unknown devices | `USER#<username>` | `LOCKOUT` |
 * | lockout counter, one trusted device, session or reset | `USER#<username>` | `LOCKOUT#<scope>` |
 * | session | `SESSION#<sha256 of token>` | `SESSION` |
 * | reset code | `USER#<username>` | `RESET` |
 * | audit entry | `USER#<username>` | `AUDIT#<epoch ms, 13 digits>#<random>` |
 * | credential cut-off | `REVOCATIONS` | `USER#<username>` |
 * | revocation lock | `REVOCATIONS` | `LOCK` |
 * | self-service deletion waiting for its worker | `DELETIONS` | `USER#<username>` |
 *
 * Sessions also carry `sessionOwner` (`USER#<username>`) and `createdAt`, the keys of the
 * `sessionsByOwner` index, which lists one user's sessions.
 */
export const TABLE_LAYOUT = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL deletes the item some time after it. Readers check expiry themselves. */
  timeToLiveAttribute: 'ttl',
  /** Global secondary index listing a user's sessions, oldest first. Keys only plus what the list shows. */
  sessionsByOwnerIndex: {
    name: 'sessionsByOwner',
    partitionKey: 'sessionOwner',
    sortKey: 'createdAt',
  },
} as const;

/**
 * The CreateTable input for this layout (on-demand), for the local sandbox and the
 * integration tests. The deployed table is defined by the CDK stack from TABLE_LAYOUT.
 */
export function createTableInput(tableName: string) {
  const index = TABLE_LAYOUT.sessionsByOwnerIndex;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: TABLE_LAYOUT.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE_LAYOUT.sortKey, AttributeType: 'S' as const },
      { AttributeName: index.partitionKey, AttributeType: 'S' as const },
      { AttributeName: index.sortKey, AttributeType: 'N' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE_LAYOUT.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_LAYOUT.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}

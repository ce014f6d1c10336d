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

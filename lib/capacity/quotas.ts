/**
 * The AWS service quotas the capacity model checks (docs/capacity.md), each with the page that
 * documents it. Defaults of a fresh account; most can be raised through Service Quotas or
 * support, which the model does not assume.
 */

/** One documented quota. */
export interface ServiceQuota {
  readonly value: number;
  /** What the number counts. */
  readonly unit: string;
  /** Whom it is shared with. */
  readonly scope: string;
  readonly source: string;
}

/** The quotas, by name. */
export const QUOTAS = {
  /** Every STS call of the account in the Region counts, AssumeRole from every workload included; raised only through support. */
  stsRequests: {
    value: 600,
    unit: 'STS requests per second',
    scope: 'per account and Region, shared by every STS call in the account',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
  },
  apiGatewayAccountRate: {
    value: 10_000,
    unit: 'requests per second (burst 5,000)',
    scope: 'per account and Region, across every API',
    source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
  },
  lambdaConcurrency: {
    value: 1_000,
    unit: 'concurrent executions',
    scope: 'per account and Region, shared by every function',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
  },
  dynamoDbTableReads: {
    value: 40_000,
    unit: 'read request units per second',
    scope: 'per on-demand table (account-level table quota)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html',
  },
  dynamoDbTableWrites: {
    value: 40_000,
    unit: 'write request units per second',
    scope: 'per on-demand table (account-level table quota)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html',
  },
  /** A new on-demand table serves this much at once; beyond it, up to twice its previous peak within 30 minutes. */
  dynamoDbNewTableWrites: {
    value: 4_000,
    unit: 'write request units per second',
    scope: 'a new on-demand table before its first peak (then twice the previous peak)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html',
  },
  dynamoDbNewTableReads: {
    value: 12_000,
    unit: 'read request units per second',
    scope: 'a new on-demand table before its first peak (then twice the previous peak)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html',
  },
  dynamoDbPartitionWrites: {
    value: 1_000,
    unit: 'write request units per second',
    scope: 'per partition (one partition key value at least)',
    source: 'https://repost.aws/knowledge-center/on-demand-table-throttling-dynamodb',
  },
} as const satisfies Record<string, ServiceQuota>;

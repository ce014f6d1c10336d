import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_LAYOUT } from '../lambda/adapters/dynamo/table-layout';

/** Props of {@link UserTable}. */
export interface UserTableProps {
  /**
   * Whether the table may be deleted with the stack (a `dev` stage). When false the table is
   * retained on stack deletion and has deletion protection on.
   * @default false
   */
  readonly disposable?: boolean;
}

/**
 * The single DynamoDB table holding users, sessions, lockout counters, reset codes and the
 * audit trail (layout in
 * lambda/adapters/dynamo/table-layout.ts). On-demand, because sign-in traffic is spiky and small;
 * point-in-time recovery, because it holds every account; TTL, so expired sessions and
 * lockout counters clean themselves up.
 */
export class UserTable extends Construct {
  /** The table. */
  readonly table: Table;

  constructor(scope: Construct, id: string, props: UserTableProps = {}) {
    super(scope, id);
    const disposable = props.disposable ?? false;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_LAYOUT.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_LAYOUT.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_LAYOUT.timeToLiveAttribute,
      // AWS-owned key: encrypted at rest at no cost; a customer key would add KMS calls to every login.
      encryption: TableEncryption.DEFAULT,
      deletionProtection: !disposable,
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const index = TABLE_LAYOUT.sessionsByOwnerIndex;
    // Lists one user's sessions (GET /sessions, tvm-admin); ALL, because the list shows most fields.
    this.table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.NUMBER },
      projectionType: ProjectionType.ALL,
    });
  }
}

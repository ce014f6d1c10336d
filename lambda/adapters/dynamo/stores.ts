/** Every store over the TVM's one table, built together (the functions, tvm-admin and the sandbox). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAuditTrail } from './audit-store';
import { DynamoChallengeStore } from './challenge-store';
import { DynamoFactorStore } from './factor-store';
import { DynamoLockoutStore } from './lockout-store';
import { DynamoResetCodeStore } from './reset-code-store';
import { DynamoSessionStore } from './session-store';
import { DynamoUsageTotals } from './usage-totals';
import { DynamoUserStore } from './user-store';

/** One store per capability's port, all on one table. */
export interface DynamoStores {
  readonly users: DynamoUserStore;
  readonly sessions: DynamoSessionStore;
  /** The session store's one-round-trip read of a session and its user. */
  readonly sessionWithUser: DynamoSessionStore;
  readonly lockout: DynamoLockoutStore;
  readonly resetCodes: DynamoResetCodeStore;
  readonly audit: DynamoAuditTrail;
  readonly factors: DynamoFactorStore;
  readonly challenges: DynamoChallengeStore;
  /** The meter's totals, as every vend reads them. */
  readonly usage: DynamoUsageTotals;
}

/** The stores of the table `tableName`. */
export function dynamoStores(client: DynamoDBClient, tableName: string): DynamoStores {
  const sessions = new DynamoSessionStore(client, tableName);
  return {
    users: new DynamoUserStore(client, tableName),
    sessions,
    sessionWithUser: sessions,
    lockout: new DynamoLockoutStore(client, tableName),
    resetCodes: new DynamoResetCodeStore(client, tableName),
    audit: new DynamoAuditTrail(client, tableName),
    factors: new DynamoFactorStore(client, tableName),
    challenges: new DynamoChallengeStore(client, tableName),
    usage: new DynamoUsageTotals(client, tableName),
  };
}

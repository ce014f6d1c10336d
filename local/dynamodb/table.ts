/** The sandbox's one table in dynalite, with the layout the stack deploys (lambda/adapters/dynamo/table-layout.ts). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../lambda/adapters/dynamo/table-layout';
import { SANDBOX_REGION, SANDBOX_TABLE } from '../names';
import type { LongTermKey } from '../secrets';

/** Creates the sandbox's table in dynalite if missing, and waits until it is ACTIVE. */
export async function ensureSandboxTable(endpoint: string, credentials: LongTermKey): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: SANDBOX_REGION,
    credentials,
  });
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: SANDBOX_TABLE }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await client.send(new CreateTableCommand(createTableInput(SANDBOX_TABLE)));
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: SANDBOX_TABLE }));
      if (Table?.TableStatus === 'ACTIVE') {
        // dynalite cannot add an index to an existing table: say so rather than fail later on a query.
        const present = new Set((Table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
        const missing = (createTableInput(SANDBOX_TABLE).GlobalSecondaryIndexes ?? [])
          .map((index) => index.IndexName)
          .filter((name) => !present.has(name));
        if (missing.length > 0) {
          console.warn(
            `[sandbox] The table in the data folder predates the index ${missing.join(', ')}; delete the data folder to recreate it.`,
          );
        }
        return;
      }
      await new Promise((wait) => setTimeout(wait, 100));
    }
    throw new Error(`The table ${SANDBOX_TABLE} did not become ACTIVE.`);
  } finally {
    client.destroy();
  }
}

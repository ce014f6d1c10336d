/**
 * dynalite (the DynamoDB API on LevelDB, here in memory) with the TVM's table created: the one
 * DynamoDB stand-in of the integration tests and the benchmarks (the sandbox runs its own
 * dynalite on a thread). Neutral ground: `test/` and `bench/` both import it.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTableInput } from '../../lambda/adapters/dynamo/table-layout';

// dynalite ships no types; this is the part of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs?: number; path?: string }) => Server;

/** A dynalite server on a free loopback port, with the TVM table created. */
export interface DynaliteServer {
  readonly endpoint: string;
  /** A low-level client of it, with throwaway credentials (dynalite checks none). */
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

/** Starts dynalite in memory and creates `tableName` with the TVM's layout. */
export async function startDynalite(tableName: string): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test-secret' },
  });
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

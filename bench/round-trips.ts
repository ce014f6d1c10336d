/**
 * Counts each route's backend round trips, as `npm run bench` reports them: the handler
 * modules run in this process against a sandbox's DynamoDB, STS and Lambda Invoke endpoint,
 * with the SDK clients they send through (DynamoDBDocumentClient, DynamoDBClient, STSClient,
 * LambdaClient) instrumented. A
 * *stage* begins whenever a call starts while no other is in flight, so calls issued together
 * count as one stage; `stages` is the number of sequential round trips a caller waits for.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { join, resolve } from 'node:path';
import type { AccountAdmin } from '../lambda/operator/account-admin';
import { EXPECTED_FIRST_STATUS, MEASURED_ROUTES, coldEvent } from './first-events';

const ROOT = resolve(__dirname, '..');

/** What one invocation sent, stage by stage (each stage the commands issued together). */
export interface RoundTrips {
  readonly stages: number;
  readonly calls: number;
  readonly byStage: readonly (readonly string[])[];
}

type Send = (this: unknown, command: { constructor: { name: string } }, ...rest: unknown[]) => Promise<unknown>;

/** Wraps the clients' `send` once; returns a recorder of what each invocation sends. */
function instrumentClients(): { record<T>(run: () => Promise<T>): Promise<{ result: T; trips: RoundTrips }> } {
  let inFlight = 0;
  // Only calls made while an invocation is recorded count (not the operator calls that prepare the next event).
  let recording = false;
  let byStage: string[][] = [];
  // LambdaClient: DELETE /shares/{id} asks the cut-off worker to run (an Invoke).
  for (const client of [DynamoDBDocumentClient, DynamoDBClient, STSClient, LambdaClient] as unknown as {
    prototype: { send: Send };
  }[]) {
    const original = client.prototype.send;
    client.prototype.send = function instrumentedSend(this: unknown, command, ...rest) {
      if (!recording) return original.call(this, command, ...rest);
      if (inFlight === 0) byStage.push([]);
      byStage[byStage.length - 1]?.push(command.constructor.name.replace(/Command$/, ''));
      inFlight += 1;
      return original.call(this, command, ...rest).finally(() => {
        inFlight -= 1;
      });
    };
  }
  return {
    async record(run) {
      byStage = [];
      recording = true;
      try {
        const result = await run();
        if (inFlight !== 0) throw new Error('a backend call was still in flight when the handler answered');
        return { result, trips: { stages: byStage.length, calls: byStage.flat().length, byStage } };
      } finally {
        recording = false;
      }
    },
  };
}

/**
 * Each route's first event (success path, checked) and the floor's, with the handler modules
 * loaded here against `functionEnvironment`.
 */
export async function countRoundTrips(
  functionEnvironment: Readonly<Record<string, string>>,
  apiUrl: string,
  admin: AccountAdmin,
): Promise<{ routes: Record<string, RoundTrips>; floor: RoundTrips }> {
  // The handlers read their configuration once, from process.env, when first loaded; the
  // benchmark's own environment is put back afterwards.
  const saved = { ...process.env };
  Object.assign(process.env, functionEnvironment, { POWERTOOLS_LOG_LEVEL: 'SILENT' });
  try {
    return await countWithEnvironment(apiUrl, admin);
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

async function countWithEnvironment(
  apiUrl: string,
  admin: AccountAdmin,
): Promise<{ routes: Record<string, RoundTrips>; floor: RoundTrips }> {
  const recorder = instrumentClients();
  const context = {
    awsRequestId: 'bench',
    functionName: 'bench',
    getRemainingTimeInMillis: () => 10_000,
    callbackWaitsForEmptyEventLoop: false,
  };
  type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyResult>;
  const routes: Record<string, RoundTrips> = {};
  let serial = 0;
  for (const route of MEASURED_ROUTES) {
    const { handler } = (await import(join(ROOT, route.entry))) as { handler: Handler };
    const event = await coldEvent(route, apiUrl, admin, 1_000_000 + ++serial);
    const { result, trips } = await recorder.record(() => handler(event, context));
    if (result.statusCode !== EXPECTED_FIRST_STATUS[route.name]) {
      throw new Error(
        `round trips: ${route.name} answered ${result.statusCode} ${result.body}, not ${EXPECTED_FIRST_STATUS[route.name]}`,
      );
    }
    routes[route.name] = trips;
  }
  const floorModule = (await import(join(ROOT, 'bench', 'floor-handler.ts'))) as {
    handler: () => Promise<APIGatewayProxyResult>;
  };
  const { result, trips: floor } = await recorder.record(() => floorModule.handler());
  if (result.statusCode !== 200) throw new Error(`round trips: the floor answered ${result.statusCode}`);
  return { routes, floor };
}

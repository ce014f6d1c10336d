/**
 * The floors of `npm run bench`: the least a credential vending call can do against the same
 * backends as /token. One consistent GetItem (the caller's record) and one AssumeRole, with
 * the functions' own SDK clients and settings, and nothing else: no middleware, no session
 * check, no session policy, no write. /token's throughput is reported against it.
 * `writingHandler` adds the one write /token cannot do without (its audit event, an item of
 * the same shape): the least a vending call that records itself can do.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createDynamoDbClient, createStsClient } from '../lambda/adapters/aws-clients';

const region = process.env.AWS_REGION ?? 'us-east-1';
const dynamodb = createDynamoDbClient(region);
const sts = createStsClient(region);
let serial = 0;

/** One GetItem, then one AssumeRole; answers the credentials. */
export async function handler(): Promise<APIGatewayProxyResult> {
  return vend(++serial);
}

/** One GetItem, then one AssumeRole, then one PutItem; answers the credentials. */
export async function writingHandler(): Promise<APIGatewayProxyResult> {
  const call = ++serial;
  const result = await vend(call);
  const at = Date.now();
  await dynamodb.send(
    new PutItemCommand({
      TableName: process.env.TABLE_NAME,
      Item: {
        pk: { S: 'USER#bench-load' },
        sk: { S: `AUDIT#${at}#floor-${call}` },
        type: { S: 'token_issued' },
        at: { N: String(at) },
        details: { M: { sessionId: { S: 'bench-floor-session' } } },
        expiresAt: { N: String(Math.ceil(at / 1000) + 3600) },
      },
    }),
  );
  return result;
}

async function vend(call: number): Promise<APIGatewayProxyResult> {
  await dynamodb.send(
    new GetItemCommand({
      TableName: process.env.TABLE_NAME,
      Key: { pk: { S: 'USER#bench-load' }, sk: { S: 'PROFILE' } },
      ConsistentRead: true,
    }),
  );
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: process.env.VENDING_ROLE_ARN,
      RoleSessionName: `bench-floor-${call}`,
      // The vending role's trust policy requires a source identity.
      SourceIdentity: `bench-floor-${call}`,
      DurationSeconds: 900,
    }),
  );
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credentials: Credentials }),
  };
}

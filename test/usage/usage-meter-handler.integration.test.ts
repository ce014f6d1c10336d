/**
 * The meter function (lambda/handlers/usage-meter.ts) as Lambda runs it, on dynalite: an SQS
 * batch of S3 notifications moves the user's totals, a malformed message is the one batch
 * item failure, a folder crossing its quota asks the cut-off worker (an asynchronous Invoke),
 * and every DynamoDB call it makes is one the stack grants it (USAGE_METER.tableActions).
 */
import '../support/handler-env';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { Username } from '../../lambda/accounts/username';
import { DynamoUsageStore } from '../../lambda/adapters/dynamo/usage-store';
import { DynamoUserStore } from '../../lambda/adapters/dynamo/user-store';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import { systemClock } from '../../lambda/platform/clock';
import { USAGE_METER } from '../../lambda/workers';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { S3History } from './s3-history';

const TABLE = 'tvm-usage-meter-handler';
const BUCKET = 'tvm-meter-files';

// Every DynamoDB command sent, to check against the rights the stack grants the function.
let sent: string[] = [];
type Send = (this: unknown, command: { constructor: { name: string } }, ...rest: unknown[]) => Promise<unknown>;
for (const client of [DynamoDBDocumentClient, DynamoDBClient] as unknown as { prototype: { send: Send } }[]) {
  const original = client.prototype.send;
  client.prototype.send = function recordingSend(this: unknown, command, ...rest) {
    sent.push(`${command.constructor.name.replace(/Command$/, '').replace(/Item$/, '')}Item`);
    return original.call(this, command, ...rest);
  };
}
const lambda = mockClient(LambdaClient);
let dynamo: TestDynamoDb;
let handler: (event: SQSEvent) => Promise<SQSBatchResponse>;

const sqsEvent = (bodies: readonly string[]): SQSEvent => ({
  Records: bodies.map((body, index) => ({
    messageId: `message-${index}`,
    receiptHandle: 'r',
    body,
    attributes: {} as never,
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:meter',
    awsRegion: 'eu-west-1',
  })),
});

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  Object.assign(process.env, {
    TABLE_NAME: TABLE,
    BUCKET_NAME: BUCKET,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    DEFAULT_QUOTA_BYTES: '1000',
  });
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  await new DynamoUserStore(dynamo.client, TABLE).createUser({
    username: 'carol' as Username,
    userId: 'carol-id',
    passwordHash: 'x',
    createdAt: Date.now(),
    disabled: false,
    sessionGeneration: 0,
  });
  handler = ((await import('../../lambda/handlers/usage-meter')) as { handler: typeof handler }).handler;
});

afterAll(async () => {
  delete process.env.DEFAULT_QUOTA_BYTES;
  await dynamo.stop();
});

describe('the meter function', () => {
  it('applies a batch, fails only the malformed message, asks the cut-off worker when the folder crosses its quota, within its granted table actions', async () => {
    sent = [];
    const bucket = new S3History(BUCKET, true);
    bucket.apply({ op: 'put', key: 'carol/a.bin', size: 900 });
    bucket.apply({ op: 'put', key: 'carol/b.bin', size: 300 });
    const answer = await handler(sqsEvent([S3History.body(bucket.records), '{"Records": "nope"}']));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-1' }] });
    expect(
      await new DynamoUsageStore(dynamo.client, TABLE, systemClock).totals('carol' as Username, 'carol-id'),
    ).toEqual({ bytes: 1200, objects: 2 });
    // Over the default quota (1,000 bytes): the entry is written and the worker asked at once.
    expect(await new DynamoRevocationStore(dynamo.client, TABLE).getQuotaEntry('carol' as Username)).toMatchObject({
      under: false,
      pending: true,
    });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: 'tvm-cut-off-worker',
      InvocationType: 'Event',
    });
    const actions = [...new Set(sent)];
    expect(actions.filter((action) => !(USAGE_METER.tableActions as readonly string[]).includes(action))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['GetItem', 'PutItem', 'UpdateItem']));
  });
});

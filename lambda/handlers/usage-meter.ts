/**
 * The storage meter function (docs/operating.md#usage-meter): an SQS batch of the file
 * bucket's S3 event notifications, applied by the meter (lambda/usage/meter.ts); the answer
 * is SQS's partial batch response, so only the messages that failed are retried (then
 * dead-lettered). Not a route. The sandbox's event queue calls the same
 * {@link handleS3Notifications}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoDbClient } from '../adapters/aws-clients';
import { createQuotaSync } from '../adapters/quota-cut-off';
import { createUsageMeter, handleS3Notifications } from '../adapters/usage-meter-wiring';
import type { DomainLog } from '../platform/audit';
import { loadConfig } from '../platform/config';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tvm' });
const log: DomainLog = {
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};
const config = loadConfig(process.env);
const dynamo = createDynamoDbClient(config.region);
const meter = createUsageMeter({
  dynamo,
  tableName: config.tableName,
  bucketName: config.bucketName,
  quota: createQuotaSync({ config, dynamo, log }),
  log,
});

/** SQS's batch of S3 notifications (ReportBatchItemFailures is on). */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { batchItemFailures, result } = await handleS3Notifications(meter, event.Records);
  logger.info('usage events applied', {
    messages: event.Records.length,
    applied: result.applied,
    unchanged: result.unchanged,
    skipped: result.skipped,
    failed: batchItemFailures.length,
    users: result.users.length,
  });
  return { batchItemFailures };
}

/**
 * The access-log processor (not a route): S3 notifies the log bucket's new objects through an
 * SQS queue (lib/access-log-processing.ts; the sandbox's local queue does the same), and each
 * log object under the file bucket's prefix is counted into the per-user daily items
 * (lambda/usage/access-log-processor.ts). Answers SQS's partial batch response: only the
 * messages that failed come back (and after the queue's receives, go to its dead-letter queue).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3AccessLogReader, functionS3Client } from '../adapters/access-log-reader';
import { createDynamoDbClient } from '../adapters/aws-clients';
import { DynamoUsageDayStore } from '../adapters/dynamo/usage-day-store';
import type { DomainLog } from '../platform/audit';
import { loadConfig } from '../platform/config';
import { ACCESS_LOG_PREFIX } from '../usage/access-log';
import { AccessLogProcessor } from '../usage/access-log-processor';
import { MalformedNotificationError, parseNotification } from '../usage/s3-events';
import { ACCESS_LOG_PROCESSOR } from '../workers';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tvm' });
const config = loadConfig(process.env);
// The log bucket, the only one whose objects this function reads.
const logBucket = process.env[ACCESS_LOG_PROCESSOR.bucketVariable]?.trim();
if (!logBucket) throw new Error(`${ACCESS_LOG_PROCESSOR.bucketVariable} is not set.`);
const log: DomainLog = {
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};
const processor = new AccessLogProcessor({
  store: new DynamoUsageDayStore(createDynamoDbClient(config.region), config.tableName),
  reader: new S3AccessLogReader(functionS3Client(config.region, config.s3Endpoint)),
  tally: { bucket: config.bucketName, vendingRoleName: config.vendingRoleArn.split('/').at(-1) ?? '' },
  log,
});

/** Counts the log objects a batch of notifications names. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const parsed = parseNotification(record.body);
      for (const rejected of parsed.rejected) log.warn('notification record not understood', { ...rejected });
      for (const object of parsed.events) {
        if (object.kind !== 'created' || object.bucket !== logBucket || !object.key.startsWith(ACCESS_LOG_PREFIX)) {
          log.warn('notification of an object that is not an access log of the file bucket; skipped', {
            eventName: object.eventName,
          });
          continue;
        }
        await processor.process(object.bucket, object.key);
      }
    } catch (error) {
      // Not a notification at all: retried, then dead-lettered, where the operator sees it.
      if (error instanceof MalformedNotificationError) log.error('message is not an S3 notification', {});
      else log.error('access log not counted; the message comes back', { error: (error as Error).name });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

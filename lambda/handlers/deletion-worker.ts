import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { createAccountDeletion, propagationFromEnvironment } from '../adapters/account-deletion-wiring';
import { getRuntime } from './runtime';

const { config, dynamo, stores, logger } = getRuntime();
// IAM and S3 take their endpoints from the SDK's environment settings, as DynamoDB does.
const deletion = createAccountDeletion({
  config,
  dynamo,
  stores,
  iam: new IAMClient({ region: config.region, maxAttempts: 3 }),
  s3: new S3Client({ region: config.region, maxAttempts: 3 }),
  propagationMs: propagationFromEnvironment(process.env),
  log: (message) => logger.info(message),
});

/**
 * The deletion worker (an EventBridge schedule, not a route): advances every queued
 * self-service deletion once. A failed step is logged and retried by the next run.
 */
export async function handler(): Promise<{ advanced: number; failed: number }> {
  const outcomes = await deletion.sweep();
  let failed = 0;
  for (const outcome of outcomes) {
    if (outcome.error !== undefined) {
      failed += 1;
      // For the operator's logs only: no client ever sees this.
      const error =
        outcome.error instanceof Error
          ? { name: outcome.error.name, message: outcome.error.message }
          : { name: String(outcome.error) };
      logger.error('deletion step failed', { username: outcome.username, error });
    } else if (outcome.progress) {
      logger.info('deletion advanced', { username: outcome.username, state: outcome.progress.state });
    }
  }
  return { advanced: outcomes.length - failed, failed };
}

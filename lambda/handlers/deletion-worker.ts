import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { createCutOffWorker, propagationFromEnvironment } from '../adapters/account-deletion-wiring';
import { getRuntime } from './runtime';

const { config, dynamo, stores, logger } = getRuntime();
// IAM and S3 take their endpoints from the SDK's environment settings, as DynamoDB does.
const worker = createCutOffWorker({
  config,
  dynamo,
  stores,
  iam: new IAMClient({ region: config.region, maxAttempts: 3 }),
  s3: new S3Client({ region: config.region, maxAttempts: 3 }),
  propagationMs: propagationFromEnvironment(process.env),
  log: (message) => logger.info(message),
});

/** For the operator's logs only: no client ever sees this. */
function errorFields(error: unknown): { name: string; message?: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: String(error) };
}

/**
 * The deletion worker, which is also the cut-off worker (an EventBridge schedule every minute,
 * and an asynchronous Invoke from each function that revokes a share; not a route): puts pending
 * share cut-offs on the vending role, then advances every queued self-service deletion once.
 * The event is not read: every run does the same. A failed step is logged and retried by the next run.
 */
export async function handler(): Promise<{ advanced: number; failed: number; sharesApplied: number }> {
  const run = await worker.run();
  if (run.sharesError !== undefined) logger.error('share cut-off not applied', { error: errorFields(run.sharesError) });
  else if (run.sharesApplied)
    logger.info('share cut-offs applied', {
      shares: run.sharesApplied.shares.length,
      users: run.sharesApplied.entries.length,
      characters: run.sharesApplied.characters,
    });
  let failed = 0;
  for (const outcome of run.deletions) {
    if (outcome.error !== undefined) {
      failed += 1;
      logger.error('deletion step failed', { username: outcome.username, error: errorFields(outcome.error) });
    } else if (outcome.progress) {
      logger.info('deletion advanced', { username: outcome.username, state: outcome.progress.state });
    }
  }
  return {
    advanced: run.deletions.length - failed,
    failed,
    sharesApplied: run.sharesApplied?.shares.length ?? 0,
  };
}

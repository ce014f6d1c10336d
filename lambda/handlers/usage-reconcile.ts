/**
 * The scheduled reconcile (docs/operating.md#usage-meter): once a day, every user's folder is
 * listed and the meter's states and totals are made to match it (lambda/usage/reconcile.ts),
 * as `tvm-admin usage reconcile` does. Not a route; the event is not read.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { createDynamoDbClient } from '../adapters/aws-clients';
import { DynamoUserStore } from '../adapters/dynamo/user-store';
import { createQuotaSync } from '../adapters/quota-cut-off';
import { createReconciler } from '../adapters/usage-meter-wiring';
import type { Username } from '../accounts/username';
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
const users = new DynamoUserStore(dynamo, config.tableName);
const reconciler = createReconciler({
  dynamo,
  s3: new S3Client({ region: config.region, maxAttempts: 3 }),
  tableName: config.tableName,
  bucketName: config.bucketName,
  quota: createQuotaSync({ config, dynamo, log }),
  log,
});

/** Time kept back from the function's timeout: a folder started is finished, the rest wait for the next run. */
const RESERVE_MS = 60_000;

async function* usernames(): AsyncIterable<Username> {
  for await (const user of users.listUsers()) yield user.username;
}

/** Reconciles every folder; returns how many were fixed, failed, or left for the next run. */
export async function handler(
  _event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<{ reconciled: number; drifted: number; failed: number; unfinished: number }> {
  const stopAt = context ? Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS : Number.POSITIVE_INFINITY;
  const run = await reconciler.reconcileAll(usernames(), stopAt);
  const drifted = run.reconciled.filter(
    (folder) => folder.before.bytes !== folder.after.bytes || folder.before.objects !== folder.after.objects,
  );
  for (const folder of drifted) logger.warn('usage drift fixed', { ...folder });
  for (const { username, error } of run.failed)
    logger.error('usage reconcile failed', {
      username,
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
  const summary = {
    reconciled: run.reconciled.length,
    drifted: drifted.length,
    failed: run.failed.length,
    unfinished: run.unfinished,
  };
  logger.info('usage reconcile done', summary);
  return summary;
}

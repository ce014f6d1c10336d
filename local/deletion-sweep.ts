/**
 * The sandbox's deletion worker, which is also the cut-off worker: on AWS a scheduled function
 * (lib/deletion-worker.ts) puts pending share cut-offs on the vending role and finishes
 * self-service deletions; here the same run (lambda/adapters/account-deletion-wiring.ts) runs on
 * a timer and whenever a function invokes the worker (local/lambda/server.ts), with the
 * operator's key for DynamoDB, IAM and S3 (as `tvm-admin --local` has), and no IAM propagation
 * wait: the sandbox's IAM applies a policy at once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { FUNCTION_TIMEOUT_SECONDS } from '../lambda/contract/limits';
import { accountStores, createCutOffWorker } from '../lambda/adapters/account-deletion-wiring';
import type { DeletionProgress } from '../lambda/accounts/account-deletion';
import { readRuntimeSettings, type TvmConfig } from '../lambda/platform/config';
import type { DomainLog } from '../lambda/platform/audit';
import type { Username } from '../lambda/accounts/username';
import { SANDBOX_BUCKET, SANDBOX_REGION, SANDBOX_TABLE, SANDBOX_VENDING_ROLE_ARN } from './names';
import type { LongTermKey } from './secrets';

/** What one sweep did, per queued user. */
export type SweepOutcome = { username: Username; progress?: DeletionProgress; error?: unknown };

/** A running sweep timer. */
export interface DeletionSweep {
  /** Runs one sweep now (after any sweep in progress) and resolves with what it did to queued deletions. */
  sweep(): Promise<SweepOutcome[]>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/** Options of {@link startDeletionSweep}. */
export interface DeletionSweepOptions {
  readonly dynamoEndpoint: string;
  readonly iamEndpoint: string;
  readonly s3Endpoint: string;
  readonly operatorKey: LongTermKey;
  /** How often the timer sweeps, in ms; 0 = never by itself (only {@link DeletionSweep.sweep}). */
  readonly intervalMs: number;
  /** One line per step and per failure, to stderr. */
  readonly log: boolean;
}

/** Starts sweeping the deletion queue every `intervalMs`. */
export function startDeletionSweep(options: DeletionSweepOptions): DeletionSweep {
  const common = { region: SANDBOX_REGION, credentials: options.operatorKey, maxAttempts: 2 };
  const dynamo = new DynamoDBClient({ ...common, endpoint: options.dynamoEndpoint });
  const iam = new IAMClient({ ...common, endpoint: options.iamEndpoint });
  const s3 = new S3Client({
    ...common,
    endpoint: options.s3Endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const say = (message: string) => {
    if (options.log) console.error(`[sandbox] deletion: ${message}`);
  };
  const log: DomainLog = { info: say, warn: say, error: say };
  // AccountAdmin reads only runtime settings, as tvm-admin's does.
  const stores = accountStores(dynamo, SANDBOX_TABLE, log, readRuntimeSettings(process.env) as TvmConfig);
  const worker = createCutOffWorker({
    config: {
      tableName: SANDBOX_TABLE,
      bucketName: SANDBOX_BUCKET,
      vendingRoleArn: SANDBOX_VENDING_ROLE_ARN,
      partition: 'aws',
    },
    dynamo,
    stores,
    iam,
    s3,
    propagationMs: 0,
    // As tvm-admin --local: the sandbox's clocks are this machine's.
    cutOffMarginMs: FUNCTION_TIMEOUT_SECONDS * 1000 + 1000,
    log: say,
  });

  // One sweep at a time: the timer's and a caller's queue behind each other.
  let running: Promise<SweepOutcome[]> = Promise.resolve([]);
  const sweep = (): Promise<SweepOutcome[]> => {
    running = running
      .catch(() => [])
      .then(async () => {
        const { deletions: outcomes, sharesError, sharesApplied } = await worker.run();
        if (sharesError !== undefined)
          say(
            `share cut-offs not applied (${sharesError instanceof Error ? sharesError.message : String(sharesError)}); the next sweep retries`,
          );
        else if (sharesApplied) say(`share cut-offs applied (${sharesApplied.shares.length} on the list)`);
        for (const { username, progress, error } of outcomes) {
          if (error !== undefined)
            say(
              `${username}: step failed (${error instanceof Error ? error.message : String(error)}); the next sweep retries it`,
            );
          else if (progress) say(`${username}: ${progress.state}`);
        }
        return outcomes;
      });
    return running;
  };
  const timer =
    options.intervalMs > 0
      ? setInterval(
          () => void sweep().catch((error: unknown) => say(`sweep failed: ${String(error)}`)),
          options.intervalMs,
        )
      : undefined;
  timer?.unref();
  return {
    sweep,
    stop: async () => {
      if (timer) clearInterval(timer);
      await running.catch(() => undefined);
      for (const client of [dynamo, iam, s3]) client.destroy();
    },
  };
}

/**
 * Self-service deletion (lambda/accounts/account-deletion.ts) on the TVM's own resources: the
 * queue and records in the table, the cut-off through the operator's {@link RevocationList},
 * the folder through the operator's {@link purgeFolder}. The `DELETE /account` function, the
 * worker function and the sandbox's timer all build it here, so they run the same steps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import { AccountAdmin, type AccountAdminDependencies } from '../operator/account-admin';
import { AccountDeletion, type AccountDeletionDependencies } from '../accounts/account-deletion';
import type { TvmConfig } from '../platform/config';
import { bucketArn, renderVendingRolePolicy } from '../credentials/policy';
import { CUT_OFF_MARGIN_MS } from '../credentials/revocation';
import { CREDENTIAL_MAX_SECONDS } from '../platform/settings';
import { AuditRecorder, type DomainLog } from '../platform/audit';
import { systemClock } from '../platform/clock';
import { dynamoStores } from './dynamo/stores';
import { DynamoDeletionQueue } from './deletion-queue';
import { purgeFolder } from './folder-purge';
import { RevocationList, type AppliedRevocations } from './revocation-list';
import { recordShareCutOffs } from './share-cut-off';
import { SharingLifecycle } from '../sharing/share-lifecycle';
import { DynamoLinkStore } from './dynamo/link-store';
import { DynamoShareStore } from './dynamo/share-store';
import { DynamoIdentityStore } from './dynamo/identity-store';
import { DynamoRevocationStore } from '../operator/revocation-store';

/**
 * How long AWS may take to apply a change to the vending role's policy everywhere. AWS
 * documents IAM changes as eventually consistent
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency);
 * a deletion waits this long after the cut-off before it deletes files, so nothing uploaded
 * in that time survives.
 */
export const IAM_PROPAGATION_MS = 5 * 60_000;

/** A cut-off instant's margin on AWS (said once, in revocation.ts). */
export { CUT_OFF_MARGIN_MS };

/**
 * `IAM_PROPAGATION_SECONDS` when set (the sandbox's IAM applies a policy at once: 0), else
 * {@link IAM_PROPAGATION_MS}.
 */
export function propagationFromEnvironment(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.IAM_PROPAGATION_SECONDS?.trim();
  if (raw === undefined || raw === '') return IAM_PROPAGATION_MS;
  if (!/^\d{1,4}$/.test(raw))
    throw new Error(`IAM_PROPAGATION_SECONDS is invalid ("${raw}"): whole seconds, 0 to 9999.`);
  return Number(raw) * 1000;
}

/** The IAM role name in a role ARN (after `role/` and any path). */
function roleName(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

/**
 * The table's stores as the operator's account operations use them (AccountAdmin, and the
 * deletion that builds on it): the one wiring the functions, tvm-admin and the sandbox share.
 */
export function accountStores(
  dynamo: DynamoDBClient,
  tableName: string,
  log: DomainLog,
  config: TvmConfig,
): AccountAdminDependencies {
  const { users, sessions, lockout, resetCodes, audit } = dynamoStores(dynamo, tableName);
  // The identity links go with the account's records (AccountAdmin.deleteUser), for the worker and tvm-admin alike.
  const identities = new DynamoIdentityStore(dynamo, tableName);
  return { users, sessions, lockout, resetCodes, audit, identities, clock: systemClock, log, config };
}

/** What {@link createAccountDeletion} needs. */
export interface AccountDeletionWiring {
  readonly config: Pick<TvmConfig, 'tableName' | 'bucketName' | 'vendingRoleArn' | 'partition'>;
  readonly dynamo: DynamoDBClient;
  /** The table's stores, as the operator's account operations use them ({@link accountStores}). */
  readonly stores: AccountAdminDependencies;
  /** The request side (the route); the worker leaves it out and never takes requests. */
  readonly requests?: Pick<AccountDeletionDependencies, 'authenticate' | 'stepUp'>;
  /** The worker's: IAM for the vending role's cut-off list, S3 for the folder. */
  readonly iam?: Pick<IAMClient, 'send'>;
  readonly s3?: Pick<S3Client, 'send'>;
  readonly propagationMs: number;
  readonly cutOffMarginMs?: number;
  readonly log: (message: string) => void;
}

const workerOnly = (what: string) => (): never => {
  throw new Error(`${what} is the deletion worker's step; this function has no client for it.`);
};

/** The deletion and, where IAM is given, the cut-off list it applies. */
function wire(wiring: AccountDeletionWiring): { deletion: AccountDeletion; revocations?: RevocationList } {
  const { config, dynamo, stores, requests, iam, s3, log } = wiring;
  const cutOffMarginMs = wiring.cutOffMarginMs ?? CUT_OFF_MARGIN_MS;
  const revocationStore = new DynamoRevocationStore(dynamo, config.tableName);
  const revocations = iam
    ? new RevocationList({
        store: revocationStore,
        iam,
        vendingRoleName: roleName(config.vendingRoleArn),
        vendingRolePolicy: renderVendingRolePolicy(bucketArn(config.bucketName, config.partition)),
        maxCredentialSeconds: CREDENTIAL_MAX_SECONDS,
        cutOffMarginMs,
        sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
        progress: log,
      })
    : undefined;
  // The worker records share cut-offs and applies them with the user's own (or on its next run).
  const sharing = new SharingLifecycle({
    shares: new DynamoShareStore(dynamo, config.tableName),
    links: new DynamoLinkStore(dynamo, config.tableName),
    cutOff: {
      cutOff: async (ids) =>
        void (await recordShareCutOffs(revocationStore, ids, {
          cutOffMarginMs,
          maxCredentialSeconds: CREDENTIAL_MAX_SECONDS,
        })),
    },
  });
  const deletion = new AccountDeletion({
    authenticate: requests?.authenticate ?? workerOnly('taking a request'),
    stepUp: requests?.stepUp ?? workerOnly('taking a request'),
    users: stores.users,
    admin: new AccountAdmin(stores),
    queue: new DynamoDeletionQueue(dynamo, config.tableName),
    cutOff: {
      serverDate: () => revocationStore.serverDate(),
      cutOff: revocations
        ? async (username, cutOffAt) => void (await revocations.cutOff(username, cutOffAt))
        : workerOnly('the role cut-off'),
    },
    folder: {
      purge: s3 ? (username) => purgeFolder(s3, config.bucketName, username, log) : workerOnly('the folder purge'),
    },
    sharing,
    auditor: new AuditRecorder(stores),
    clock: stores.clock,
    cutOffMarginMs,
    propagationMs: wiring.propagationMs,
    maxCredentialSeconds: CREDENTIAL_MAX_SECONDS,
  });
  return revocations ? { deletion, revocations } : { deletion };
}

/** Self-service deletion wired to the table, the vending role and the bucket. */
export function createAccountDeletion(wiring: AccountDeletionWiring): AccountDeletion {
  return wire(wiring).deletion;
}

/** What one run of the cut-off worker did. */
export interface WorkerRun {
  /** The share cut-offs it put on the role (undefined: none was pending). */
  readonly sharesApplied?: AppliedRevocations;
  /** Why putting pending share cut-offs on the role failed (the next run retries). */
  readonly sharesError?: unknown;
  /** Each queued deletion, advanced once. */
  readonly deletions: Awaited<ReturnType<AccountDeletion['sweep']>>;
}

/** The deletion worker's function, which is also the cut-off worker: one run does both. */
export interface CutOffWorker {
  /**
   * Puts pending share cut-offs on the vending role, advances every queued deletion once, then
   * applies what the deletions recorded. Each part's failure is reported, not thrown.
   */
  run(): Promise<WorkerRun>;
}

/** The worker (the scheduled function, an Invoke by a function that revoked shares, the sandbox's timer). */
export function createCutOffWorker(
  wiring: AccountDeletionWiring & { readonly iam: Pick<IAMClient, 'send'> },
): CutOffWorker {
  const { deletion, revocations } = wire(wiring);
  if (!revocations) throw new Error('The cut-off worker needs IAM.');
  const applyPending = async (): Promise<Pick<WorkerRun, 'sharesApplied' | 'sharesError'>> => {
    try {
      const applied = await revocations.applyPending();
      return applied ? { sharesApplied: applied } : {};
    } catch (error) {
      return { sharesError: error };
    }
  };
  return {
    async run() {
      // Cut-offs first: a DELETE /shares waits for this run in the sandbox.
      const first = await applyPending();
      const deletions = await deletion.sweep();
      const second = deletions.length > 0 ? await applyPending() : {};
      const sharesApplied = second.sharesApplied ?? first.sharesApplied;
      const sharesError = second.sharesError ?? first.sharesError;
      return {
        ...(sharesApplied ? { sharesApplied } : {}),
        ...(sharesError !== undefined ? { sharesError } : {}),
        deletions,
      };
    },
  };
}

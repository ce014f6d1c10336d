/**
 * Vending: STS credentials under the user's session policy (without writes while the folder is
 * over its quota), never ones the user's cut-off denies, and where the user's files live.
 */
import type { PolicyDocument } from '../../policies';
import type { Username } from '../accounts/username';
import type { IssuedCredentials, StorageInfo, StorageUsage } from '../contract/wire';
import type { UserRecord } from '../accounts/ports';
import { EMPTY_USAGE, effectiveQuotaBytes, storageUsage, type UsageTotals } from '../usage/quota';
import { totalsFor, type StoredUsage, type StoredUsageReader } from '../usage/quota-enforcer';
import type { DomainLog } from '../platform/audit';
import type { Clock } from '../platform/clock';
import type { TvmConfig } from '../platform/config';
import { CutOffPendingError } from '../platform/errors';
import { bucketArn, renderSessionPolicy, serialiseSessionPolicy, userPrefix } from './policy';
import type { CredentialIssuer } from './ports';
import { VEND_WAIT_MAX_MS, credentialsIssuedAt, cutOffDelayMs } from './revocation';
import type { SessionTagKey } from './session-tags';

/** What {@link CredentialVendor} needs. */
export interface CredentialVendorDependencies {
  readonly config: Pick<
    TvmConfig,
    'bucketName' | 'partition' | 'credentialSeconds' | 'region' | 's3Endpoint' | 'defaultQuotaBytes'
  >;
  readonly issuer: CredentialIssuer;
  /** The meter's totals of a folder (the USAGE item). */
  readonly usage: StoredUsageReader;
  readonly clock: Clock;
  readonly log: DomainLog;
  /** Waits `ms` (a vend waiting out a cut-off instant a few seconds ahead). Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Vends a user's credentials and says where their folder is. */
export class CredentialVendor {
  constructor(private readonly deps: CredentialVendorDependencies) {}

  /**
   * Throws {@link CutOffPendingError} (503 with Retry-After) when the user's cut-off instant
   * lies further ahead than a vend waits: call it before spending a one-time proof (a
   * second-factor code, a challenge) on a login that would then vend nothing.
   */
  checkCutOff(user: { readonly cutOffAt?: number }): void {
    const aheadMs = cutOffDelayMs(user.cutOffAt, this.deps.clock.now());
    if (aheadMs > VEND_WAIT_MAX_MS) throw new CutOffPendingError(Math.ceil(aheadMs / 1000));
  }

  /**
   * Vends credentials that the user's cut-off (`cutOffAt`, from the user record the route
   * already read) does not deny: while the instant lies ahead, waits when it is at most
   * {@link VEND_WAIT_MAX_MS} away and otherwise throws {@link CutOffPendingError} (503 with
   * Retry-After) before calling STS. STS's own clock has the last word: credentials it
   * stamped before the cut-off (its clock trailing this one) are dropped and asked for again
   * after the difference, once. `usage` ({@link usageOf}) decides the writes: over quota,
   * the session policy has none.
   */
  async vend(username: Username, cutOffAt: number | undefined, usage: StorageUsage): Promise<IssuedCredentials> {
    const policy = renderSessionPolicy(this.bucketArn(), username, { overQuota: usage.overQuota });
    return this.vendUnder(username, cutOffAt, policy);
  }

  /**
   * Starts reading a folder's USAGE item, so a route can read it beside its own reads (a login
   * beside bcrypt) before it knows the user; {@link usageOf} keeps it only for the user's own
   * registration. A failure reaches only whoever awaits the promise (then a 503).
   */
  readTotals(username: Username): Promise<StoredUsage | undefined> {
    const reading = this.deps.usage.storedUsage(username);
    // Awaited later, or never (the login failed first): never an unhandled rejection.
    reading.catch(() => undefined);
    return reading;
  }

  /**
   * The user's folder against the quota in force for them (their own, or the default): from
   * `read`, the totals the route already has (/token's first stage) or the item it started to
   * read ({@link readTotals}), else read now. Totals an earlier account of the name left count nothing.
   */
  async usageOf(
    user: Pick<UserRecord, 'username' | 'userId' | 'quotaBytes'>,
    read?: UsageTotals | Promise<StoredUsage | undefined>,
  ): Promise<StorageUsage> {
    const counted =
      read !== undefined && !(read instanceof Promise)
        ? read
        : totalsFor(await (read ?? this.deps.usage.storedUsage(user.username)), user.userId);
    return storageUsage(counted, effectiveQuotaBytes(user.quotaBytes, this.deps.config.defaultQuotaBytes));
  }

  /** A new account's folder: empty, under the default quota. */
  newFolderUsage(): StorageUsage {
    return storageUsage(EMPTY_USAGE, effectiveQuotaBytes(undefined, this.deps.config.defaultQuotaBytes));
  }

  /**
   * Vends credentials as {@link vend} does (the same cut-off rules for `username`), narrowed
   * by another session policy (a share's) and carrying `extraTags` beside the user's tags.
   */
  async vendUnder(
    username: Username,
    cutOffAt: number | undefined,
    policy: PolicyDocument,
    extraTags?: Readonly<Partial<Record<SessionTagKey, string>>>,
  ): Promise<IssuedCredentials> {
    const { config, issuer, clock, log } = this.deps;
    const request = {
      username,
      sessionPolicy: serialiseSessionPolicy(policy),
      durationSeconds: config.credentialSeconds,
      ...(extraTags ? { extraTags } : {}),
    };
    this.checkCutOff({ cutOffAt });
    const aheadMs = cutOffDelayMs(cutOffAt, clock.now());
    if (aheadMs > 0) await this.sleep(aheadMs);
    for (let attempt = 1; ; attempt++) {
      const credentials = await issuer.issue(request);
      const missingMs = cutOffDelayMs(cutOffAt, credentialsIssuedAt(credentials.expiration, request.durationSeconds));
      if (missingMs === 0) return credentials;
      if (attempt > 1 || missingMs > VEND_WAIT_MAX_MS) throw new CutOffPendingError(Math.ceil(missingMs / 1000));
      log.warn('STS issued credentials before the cut-off instant (its clock trails); asking again.', {
        username,
        missingMs,
      });
      await this.sleep(missingMs);
    }
  }

  /** The file bucket's ARN. */
  bucketArn(): string {
    return bucketArn(this.deps.config.bucketName, this.deps.config.partition);
  }

  /** Where the user's files live (apps never hard-code the bucket), and what the folder holds. */
  storage(username: Username, usage: StorageUsage): StorageInfo {
    return this.storageAt(userPrefix(username), usage);
  }

  /** The same, for any key prefix of the bucket (a share's: the owner's folder plus the shared path). */
  storageAt(prefix: string, usage: StorageUsage): StorageInfo {
    const { config } = this.deps;
    return {
      bucket: config.bucketName,
      prefix,
      region: config.region,
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
      usage,
    };
  }

  /** The file bucket's name. */
  bucketName(): string {
    return this.deps.config.bucketName;
  }

  private sleep(ms: number): Promise<void> {
    return this.deps.sleep ? this.deps.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }
}

import { Annotations, CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ROUTES, secretCheckingPaths } from '../lambda/contract/routes';
import { CLI_MANAGED_POLICY_PREFIX } from '../policies';
import { AccessLogProcessing } from './access-log-processing';
import { ApiFirewall } from './api-firewall';
import { DeletionWorker } from './deletion-worker';
import { FileBucket } from './file-bucket';
import {
  hasSandboxRelyingParty,
  isDisposableStage,
  resolveSettings,
  settingsFromContext,
  type TvmSettings,
  type TvmSettingsInput,
} from './settings';
import { ProviderLogGroups } from './provider-log-groups';
import { RolePolicyCleanup } from './role-policy-cleanup';
import { BUNDLING, RUNTIME, TvmApi } from './tvm-api';
import { UsageMeter } from './usage-meter';
import { UserTable } from './user-table';
import { VendingRole } from './vending-role';

/** Props of {@link TvmStack}. */
export interface TvmStackProps extends StackProps {
  /**
   * Settings that take precedence over CDK context (cdk.json, `-c key=value`); each key left
   * out falls back to context, then to {@link DEFAULT_SETTINGS}.
   * @default {} (context and defaults only)
   */
  readonly settings?: TvmSettingsInput;
}

/**
 * The Token Vending Machine: user table, file bucket, API with its functions, vending role,
 * and optionally a WAF web ACL. It only wires the constructs together and states the outputs
 * an app or operator needs.
 */
export class TvmStack extends Stack {
  /** The validated settings this stack was built with. */
  readonly settings: TvmSettings;
  /** Users, sessions and lockout counters. */
  readonly userTable: UserTable;
  /** The users' file bucket and its access-log bucket. */
  readonly fileBucket: FileBucket;
  /** The REST API, its functions and their execution roles. */
  readonly api: TvmApi;
  /** The role vended credentials belong to. */
  readonly vendingRole: VendingRole;
  /** Finishes self-service account deletions on a schedule. */
  readonly deletionWorker: DeletionWorker;
  /** Counts the file bucket's access logs per user and day (tvm-admin usage report). */
  readonly accessLogProcessing: AccessLogProcessing;
  /** The storage meter: the bucket's event queue, the meter function and the daily reconcile. */
  readonly usageMeter: UsageMeter;
  /** The WAF web ACL, when the `waf` setting is on. */
  readonly firewall?: ApiFirewall;

  constructor(scope: Construct, id: string, props: TvmStackProps = {}) {
    super(scope, id, props);
    const settings = resolveSettings(mergeDefined(settingsFromContext(this.node), props.settings ?? {}));
    this.settings = settings;
    const disposable = isDisposableStage(settings);
    this.warnAboutSandboxSettings(settings);

    const users = (this.userTable = new UserTable(this, 'UserTable', { disposable }));
    const files = (this.fileBucket = new FileBucket(this, 'FileBucket', {
      allowedOrigins: settings.allowedOrigins,
      disposable,
    }));
    const api = (this.api = new TvmApi(this, 'Api', {
      table: users.table,
      bucket: files.bucket,
      settings,
      routes: ROUTES,
    }));
    const vendingRole = (this.vendingRole = new VendingRole(this, 'VendingRole', {
      bucket: files.bucket,
      trustedRoles: api.vendingFunctionRoles,
    }));
    api.connectVendingRole(vendingRole);
    this.deletionWorker = new DeletionWorker(this, 'DeletionWorker', {
      table: users.table,
      bucket: files.bucket,
      vendingRole: vendingRole.role,
      settings,
      logRemovalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.accessLogProcessing = new AccessLogProcessing(this, 'AccessLogProcessing', {
      table: users.table,
      bucket: files.bucket,
      logBucket: files.accessLogBucket,
      vendingRole: vendingRole.role,
      settings,
      logRemovalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    // The worker is also the cut-off worker: DELETE /shares asks it to put a cut-off on the role now.
    api.connectCutOffWorker(this.deletionWorker.function);
    this.usageMeter = new UsageMeter(this, 'UsageMeter', {
      table: users.table,
      bucket: files.bucket,
      vendingRole: vendingRole.role,
      cutOffWorker: this.deletionWorker.function,
      settings,
      logRemovalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    // tvm-admin's cut-off list lives on the vending role; it must go before the role can.
    new RolePolicyCleanup(this, 'VendingRoleCleanup', {
      role: vendingRole.role,
      // A replaced vending role's Delete arrives after the rights moved to the new role.
      roleNamePattern: vendingRole.roleNamePattern,
      policyNamePrefix: CLI_MANAGED_POLICY_PREFIX,
      runtime: RUNTIME,
      bundling: BUNDLING,
      logRetention: settings.logRetentionDays,
      logRemovalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    if (settings.waf) {
      this.firewall = new ApiFirewall(this, 'Firewall', {
        stageArn: api.api.deploymentStage.stageArn,
        rateLimitedPaths: secretCheckingPaths(ROUTES),
        requestsPerFiveMinutes: settings.wafRateLimit,
        allPathsRequestsPerFiveMinutes: settings.wafAllRoutesRateLimit,
        metricPrefix: `tvm-${settings.stage}`,
        ...(settings.allowedOrigins.length === 1 ? { corsAllowOrigin: settings.allowedOrigins[0] } : {}),
      });
    } else {
      Validations.of(api.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          "WAF is off by choice (the dev stage's default, or context waf=false; saves about US$7 a month): each method's throttle bounds the request rate and per-account lockout bounds password guessing. Set waf=true to attach the per-IP rate-limit web ACL.",
      });
    }

    // Last: it finds the CDK's own provider functions, which have no log group of their own.
    new ProviderLogGroups(this, 'ProviderLogs', {
      retention: settings.logRetentionDays,
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: api.urlDescription });
    new CfnOutput(this, 'BucketName', { value: files.bucket.bucketName, description: "The users' file bucket." });
    new CfnOutput(this, 'TableName', {
      value: users.table.tableName,
      description: 'The DynamoDB table of users and sessions.',
    });
    new CfnOutput(this, 'Region', { value: this.region, description: 'The region of the API, bucket and table.' });
    new CfnOutput(this, 'DefaultQuotaBytes', {
      value: String(settings.defaultQuotaBytes),
      description: 'The quota of a user without their own, in bytes (0: none); tvm-admin reads it.',
    });
    new CfnOutput(this, 'VendingRoleArn', {
      value: vendingRole.role.roleArn,
      description: 'The role vended credentials belong to.',
    });
  }

  /** Synth warnings for a deployed stage that still runs with the sandbox's defaults. */
  private warnAboutSandboxSettings(settings: TvmSettings): void {
    if (settings.stage === 'dev') return;
    if (!settings.passkeys && hasSandboxRelyingParty(settings))
      Annotations.of(this).addWarningV2(
        'tvm:passkeysOff',
        `Passkeys are off in stage ${settings.stage}: passkeyRpId is ${settings.passkeyRpId} and passkeyOrigins ${settings.passkeyOrigins.join(',')}. Set both to your web app's domain and https origin (-c passkeyRpId=files.example.com -c passkeyOrigins=https://files.example.com) to turn them on.`,
      );
    if (settings.allowedOrigins.includes('*'))
      Annotations.of(this).addWarningV2(
        'tvm:allowedOriginsAny',
        `allowedOrigins is * in stage ${settings.stage}: any web page may call the API and the bucket from a browser (with a user's token or credentials it already holds). Set -c allowedOrigins=https://your.app to allow only your apps.`,
      );
  }
}

/** `base` overlaid with the keys of `override` whose value is defined. */
function mergeDefined(base: TvmSettingsInput, override: TvmSettingsInput): TvmSettingsInput {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) if (value !== undefined) merged[key] = value;
  return merged;
}

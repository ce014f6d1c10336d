/**
 * The local sandbox: the whole TVM on one machine, with no AWS account.
 *
 * - DynamoDB: dynalite, on its own worker thread, on disk under the data folder.
 * - STS: the local STS ({@link startSts}), remembering every session it issues.
 * - Lambda: an Invoke endpoint for the cut-off worker alone ({@link startLambda}), which runs the
 *   deletion worker's sweep before it answers, so a revoked share is cut off when the route answers.
 * - S3: an emulator on a Unix socket in a private folder, reachable only through the S3 gate,
 *   which verifies SigV4, evaluates the role and session policies with a real IAM policy
 *   engine, and forwards a request rebuilt from what it authorised.
 * - Keys: the functions' and the operator's, random per data folder (secrets.ts); DynamoDB,
 *   STS and IAM answer only requests signed with them.
 * - OpenID Connect: a development identity provider (local/oidc/), configured as provider `dev`
 *   beside those of OIDC_PROVIDERS.
 * - API: the handlers of lambda/handlers/, served from the route table in lambda/contract/routes.ts,
 *   running on worker threads like Lambda instances (function-threads.ts).
 *
 * Every server listens on 127.0.0.1 only. The handlers reach the local services through the
 * AWS SDK's endpoint variables, in the environment their threads are given.
 */
import { s3rverUploadRecords } from './s3/uploads';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { ROUTES, type RouteName, type ThrottleLimits } from '../lambda/contract/routes';
import { bucketArn, renderVendingRolePolicy } from '../lambda/credentials/policy';
import { readRuntimeSettings } from '../lambda/platform/config';
import { DEFAULT_SETTINGS, settingsEnvironment } from '../lambda/platform/settings';
import { routeThrottles } from '../lib/throttles';
import { VENDING_ROLE_POLICY_NAME } from '../policies';
import { startDeletionSweep, type SweepOutcome } from './deletion-sweep';
import { startFunctionThreads } from './api-gateway/function-threads';
import { ensureSandboxTable } from './dynamodb/table';
import { startDynamoDbThread } from './dynamodb/thread';
import { functionsTableGrant } from './dynamodb/functions-grant';
import { createApiServer, ownOrigins, type LoadedRoute, type StaticHandler } from './api-gateway/api-server';
import {
  SANDBOX_BUCKET,
  SANDBOX_CUT_OFF_WORKER_FUNCTION,
  SANDBOX_LOG_BUCKET,
  SANDBOX_REGION,
  SANDBOX_TABLE,
  SANDBOX_VENDING_ROLE_ARN,
} from './names';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { startIam } from './iam/server';
import { lockDataFolder, SANDBOX_MANIFEST, type SandboxManifest } from './manifest';
import { RolePolicyStore } from './iam/role-policies';
import { startS3Emulator } from './s3/emulator/supervisor';
import { loadOrCreateSandboxSecrets } from './secrets';
import { startS3Gate, type S3Gate } from './s3/gate';
import { SessionStore } from './sts/session-store';
import { listenOnLoopback } from './shared/listen';
import { startSts } from './sts/server';
import { assumeRoleRateFrom } from './sts/rate';
import { startLambda } from './lambda/server';
import { CUT_OFF_WORKER_VARIABLE } from '../lambda/platform/config';
import type { OidcProviderSetting } from '../lambda/platform/settings';
import { DEV_IDP_CLIENT_ID, DEV_IDP_PROVIDER_NAME, startDevIdp, type DevIdp } from './oidc/server';
import { randomUUID } from 'node:crypto';
import { ACCESS_LOG_PROCESSOR, SQS_FUNCTIONS, USAGE_METER_FUNCTION_NAME } from '../lambda/workers';
import type { FunctionThreads } from './api-gateway/function-threads';
import { DEFAULT_ACCESS_LOG_ROLL_MS } from './s3/access-log-writer';
import type { SqsBatchResponse } from './sqs/queue';
import { functionsS3Grant } from './s3/functions-grant';
import { startUsagePipeline, type SqsConsumer, type UsagePipeline } from './usage-pipeline';

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** The API's port on 127.0.0.1; 0 = any free port. Default 3000. */
  readonly port?: number;
  /** The S3 gate's port on 127.0.0.1; 0 = any free port. Default 3001. */
  readonly s3Port?: number;
  /** Where DynamoDB, S3 objects and STS sessions persist. Default `.tvm-local/`. */
  readonly dataDir?: string;
  /**
   * bcrypt cost for new passwords, overriding BCRYPT_COST. The functions' other settings come
   * from this process's environment (SESSION_DAYS, LOCKOUT_THRESHOLD, ...), checked by the
   * settings table; each unset one takes its deployed default.
   */
  readonly bcryptCost?: number;
  /** Print one line per API request and per refused S3 request, and the handlers' logs. Default false. */
  readonly log?: boolean;
  /** Serves non-API GET requests (e.g. a web app at `/`); resolve false to fall through to a 404. */
  readonly staticHandler?: StaticHandler;
  /**
   * The clock of the local STS and the S3 gate (not of the handlers), for tests that need
   * credentials to expire. Default Date.now.
   */
  readonly now?: () => number;
  /**
   * Put a fault proxy between the handlers and DynamoDB, and one between them and STS, so
   * tests can make either backend fail, throttle, hang or vanish (see `Sandbox.faults`).
   * Default false.
   */
  readonly faultInjection?: boolean;
  /**
   * How many function instances (worker threads) run the handlers; each serves any route,
   * and an invocation goes to the least busy. Default 2.
   */
  readonly functionThreads?: number;
  /** The S3 gate's budget of request-body bytes held at once, across requests (tests); see MAX_GATE_BUFFERED_BYTES. */
  readonly s3MaxBufferedBytes?: number;
  /**
   * How often the deletion worker sweeps the queue of self-service deletions, in ms; 0 = only
   * when `sweepDeletions()` is called (tests). Default 2,000.
   */
  readonly deletionSweepMs?: number;
  /**
   * How often the S3 gate's access log is rolled into a log object of the log bucket (which
   * the access-log processor then counts), in ms. Default 5,000 (ACCESS_LOG_ROLL_SECONDS for
   * `npm start`).
   */
  readonly accessLogRollMs?: number;
  /** Told of every S3 event notification the sandbox sends, with its bucket (tests, the meter's lag). */
  readonly onS3Notification?: (bucket: string, body: string) => void;
  /**
   * The dev identity provider's port on 127.0.0.1. Default 0, any free port (tests run many
   * sandboxes at once); `npm start` passes OIDC_PORT, default 3002, a fixed issuer so the
   * identities linked to it survive restarts.
   */
  readonly oidcPort?: number;
  /**
   * The local STS's account-wide AssumeRole rate, calls per second (AWS's quota is about 600
   * per account and Region); more answer `Throttling`. Overrides STS_ASSUME_ROLE_RATE; default 600.
   */
  readonly stsAssumeRoleRate?: number;
  /**
   * The OpenID Connect providers configured beside the dev IdP's `dev`, overriding
   * OIDC_PROVIDERS (tests: a second issuer). Default: those of OIDC_PROVIDERS.
   */
  readonly oidcProviders?: readonly OidcProviderSetting[];
  /**
   * Each route's throttle, API Gateway's per-method token bucket (429 `rate_limited` with
   * Retry-After). Default: the limits a stack deployed with the default deploy-time settings and
   * this sandbox's runtime settings gets (lib/throttles.ts). `false` turns them off (benchmarks
   * of the handlers themselves); an object replaces the limits of the routes it names (tests).
   */
  readonly routeThrottles?: false | Readonly<Partial<Record<RouteName, ThrottleLimits>>>;
}

/** A running sandbox. */
export interface Sandbox {
  /** The API's base URL, e.g. `http://127.0.0.1:3000`. */
  readonly apiUrl: string;
  /**
   * The web app's URL to open in a browser, `http://localhost:3000/`: localhost, not the IP
   * address, because WebAuthn refuses IP addresses as relying-party ids (passkeys' default is `localhost`).
   */
  readonly webAppUrl: string;
  /** The S3 endpoint (the gate), e.g. `http://127.0.0.1:3001`; use path-style addressing. */
  readonly s3Url: string;
  readonly bucket: string;
  readonly region: string;
  /** The handlers' fault proxies, when started with `faultInjection`. */
  readonly faults?: { readonly dynamodb: FaultProxy; readonly sts: FaultProxy };
  /** The environment the handlers run with: table, bucket, role, region and the internal endpoints. */
  readonly functionEnvironment: Readonly<Record<string, string>>;
  /** The development OpenID Connect provider (local/oidc/), configured as provider `dev`. */
  readonly devIdp: DevIdp;
  /** The providers the functions accept (OIDC_PROVIDERS): `dev` first, then the configured ones. */
  readonly oidcProviders: readonly OidcProviderSetting[];
  /** Runs the deletion worker's sweep once now (it also runs on its timer) and resolves with what it did. */
  sweepDeletions(): Promise<SweepOutcome[]>;
  /**
   * The usage path (docs/sandbox.md#usage-events-and-access-logs): roll the access log now, run
   * a lifecycle expiration, wait until every notification sent so far was consumed.
   */
  readonly usage: Pick<UsagePipeline, 'rollAccessLog' | 'expire' | 'settled'>;
  /** Stops every server and closes the database; resolves when all are closed. */
  stop(): Promise<void>;
}

/** A public port that could not be bound; `message` is one line fit for a terminal. */
export class SandboxPortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly what: string,
    readonly variable: string,
  ) {
    super(
      `Port ${port} on 127.0.0.1 (${what}) is already in use; stop what uses it or set ${variable} to another port.`,
    );
    this.name = 'SandboxPortInUseError';
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    if (!server.listening) {
      resolveClose();
      return;
    }
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}

const REPOSITORY_ROOT = resolve(__dirname, '..');

function definedVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function listenPublic(server: Server, port: number, what: string, variable: string): Promise<number> {
  try {
    return await listenOnLoopback(server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new SandboxPortInUseError(port, what, variable);
    if ((error as NodeJS.ErrnoException).code === 'EACCES')
      throw new Error(`Port ${port} on 127.0.0.1 (${what}) needs privileges; set ${variable} to a port above 1023.`);
    throw error;
  }
}

/**
 * Starts the sandbox: dynalite, the S3 emulator, the local STS, the S3 gate and the API, creating
 * the table and the bucket if missing. On failure everything already started is stopped.
 *
 * The handlers run on their own threads with their own environment (this process's, plus
 * table, bucket, role, region, endpoints and a stand-in function key); `process.env` is not
 * changed, so one process may start, stop and start sandboxes with any settings.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dataDir = resolve(options.dataDir ?? '.tvm-local');
  const runtimeSettings = {
    ...readRuntimeSettings(process.env),
    ...(options.bcryptCost !== undefined ? { bcryptCost: options.bcryptCost } : {}),
  };
  // Owner-only, also for a folder that already existed (made by hand or an older sandbox): it
  // holds password and session hashes, every user's files and the sandbox's keys.
  for (const folder of [dataDir, join(dataDir, 'dynamodb'), join(dataDir, 's3')]) {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
  }

  const releaseLock = lockDataFolder(dataDir);
  let secrets: ReturnType<typeof loadOrCreateSandboxSecrets>;
  try {
    secrets = loadOrCreateSandboxSecrets(dataDir);
  } catch (error) {
    releaseLock();
    throw error;
  }
  const cleanup: (() => Promise<void>)[] = [async () => releaseLock()];
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        console.error('[sandbox] error while stopping:', error instanceof Error ? error.message : error);
      }
    }
  };

  try {
    // The public ports first, so "port in use" fails before anything else starts. Until the
    // handlers are loaded every request answers 503 with Retry-After (never a 404).
    const routes: LoadedRoute[] = [];
    let functionsLoaded = false;
    const apiServer = createApiServer({
      routes,
      isReady: () => functionsLoaded,
      ...(options.staticHandler ? { staticHandler: options.staticHandler } : {}),
      ...(options.log !== undefined ? { log: options.log } : {}),
      // CORS grants the configured origins, or by default only the sandbox's own (its web app's).
      ...(process.env.ALLOWED_ORIGINS !== undefined ? { allowedOrigins: runtimeSettings.allowedOrigins } : {}),
    });
    const apiPort = await listenPublic(apiServer, options.port ?? 3000, 'API', 'PORT');
    // Browsers' origins for the API and the bucket alike: the configured ones, or by default the sandbox's own (its web app's).
    const allowedOrigins =
      process.env.ALLOWED_ORIGINS !== undefined ? runtimeSettings.allowedOrigins : ownOrigins(apiPort);
    cleanup.push(() => closeServer(apiServer));

    // The dev IdP, whose only client is the web app on the sandbox's origins; `dev` beside the configured providers.
    const configuredProviders = options.oidcProviders ?? runtimeSettings.oidcProviders;
    if (configuredProviders.some((provider) => provider.name === DEV_IDP_PROVIDER_NAME))
      throw new Error(
        `OIDC_PROVIDERS names a provider "${DEV_IDP_PROVIDER_NAME}": that name is the sandbox's own identity provider; choose another.`,
      );
    let devIdp: DevIdp;
    const oidcPort = options.oidcPort ?? 0;
    try {
      devIdp = await startDevIdp({
        port: oidcPort,
        clients: [
          { clientId: DEV_IDP_CLIENT_ID, redirectOrigins: [...new Set([...ownOrigins(apiPort), ...allowedOrigins])] },
        ],
        ...(options.log !== undefined ? { log: options.log } : {}),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new SandboxPortInUseError(oidcPort, 'the dev identity provider', 'OIDC_PORT');
      throw error;
    }
    const runningIdp = devIdp;
    cleanup.push(() => runningIdp.stop());
    const oidcProviders: OidcProviderSetting[] = [
      { name: DEV_IDP_PROVIDER_NAME, issuer: devIdp.issuer, audiences: [DEV_IDP_CLIENT_ID], trustProviderMfa: false },
      ...configuredProviders,
    ];

    const routesGrant = functionsTableGrant(ROUTES, SANDBOX_TABLE);
    // The routes' grants and the queue-fed functions' (one key stands for every role here).
    const actions = [...new Set([...routesGrant.actions, ...SQS_FUNCTIONS.flatMap((fn) => fn.tableActions)])];
    const functionsKey = { ...secrets.functionKey, grant: { ...routesGrant, actions } };
    const database = await startDynamoDbThread(join(dataDir, 'dynamodb'), 0, [functionsKey, secrets.operatorKey]);
    cleanup.push(() => database.stop());
    const { endpoint: dynamoEndpoint } = database;
    await ensureSandboxTable(dynamoEndpoint, secrets.operatorKey);

    const emulator = await startS3Emulator(join(dataDir, 's3'), [SANDBOX_LOG_BUCKET]);
    cleanup.push(() => emulator.close());

    const rolePolicies = new RolePolicyStore(RolePolicyStore.fileIn(dataDir));
    const vendingRolePolicy = renderVendingRolePolicy(bucketArn(SANDBOX_BUCKET));
    const iam = await startIam({
      policies: rolePolicies,
      operatorKey: secrets.operatorKey,
      ownPolicies: [{ name: VENDING_ROLE_POLICY_NAME, policy: vendingRolePolicy }],
      ...(options.now ? { now: options.now } : {}),
    });
    cleanup.push(() => closeServer(iam.server));

    const sessions = new SessionStore(SessionStore.fileIn(dataDir));
    sessions.open();
    cleanup.push(() => sessions.close());
    const sts = await startSts({
      sessions,
      functionKey: secrets.functionKey,
      assumeRoleRate: options.stsAssumeRoleRate ?? assumeRoleRateFrom(process.env.STS_ASSUME_ROLE_RATE),
      ...(options.now ? { now: options.now } : {}),
    });
    cleanup.push(() => closeServer(sts.server));

    // The functions' consumers of S3's notifications, on the function threads once they run.
    const running: { threads?: FunctionThreads } = {};
    const consumer =
      (name: string): SqsConsumer =>
      async (event) => {
        if (!running.threads) throw new Error('the functions are not running yet');
        return (await running.threads.invokeEvent(name, event, randomUUID())) as SqsBatchResponse;
      };
    const usage = startUsagePipeline({
      socketPath: emulator.socketPath,
      fileBucket: SANDBOX_BUCKET,
      logBucket: SANDBOX_LOG_BUCKET,
      accessLogRollMs: options.accessLogRollMs ?? DEFAULT_ACCESS_LOG_ROLL_MS,
      meter: consumer(USAGE_METER_FUNCTION_NAME),
      accessLogs: consumer(ACCESS_LOG_PROCESSOR.name),
      ...(options.onS3Notification ? { onNotification: options.onS3Notification } : {}),
    });

    let gate: S3Gate;
    try {
      gate = await startS3Gate({
        sessions,
        vendingRolePolicy,
        inlineRolePolicies: () => rolePolicies.all(),
        upstreamSocket: emulator.socketPath,
        operatorKey: secrets.operatorKey,
        functionKey: secrets.functionKey,
        functionsMay: functionsS3Grant,
        onCompleted: (completed) => usage.requestCompleted(completed),
        allowedOrigins,
        ...s3rverUploadRecords(emulator.directory),
        port: options.s3Port ?? 3001,
        ...(options.now ? { now: options.now } : {}),
        ...(options.log !== undefined ? { log: options.log } : {}),
        ...(options.s3MaxBufferedBytes !== undefined ? { maxBufferedBytes: options.s3MaxBufferedBytes } : {}),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new SandboxPortInUseError(options.s3Port ?? 3001, 'S3', 'S3_PORT');
      throw error;
    }
    cleanup.push(() => gate.close());

    let faults: { dynamodb: FaultProxy; sts: FaultProxy } | undefined;
    if (options.faultInjection) {
      faults = {
        dynamodb: await startFaultProxy(dynamoEndpoint, 'dynamodb'),
        sts: await startFaultProxy(sts.url, 'sts'),
      };
      const started = faults;
      cleanup.push(() => started.dynamodb.stop());
      cleanup.push(() => started.sts.stop());
    }

    // The deletion worker, which is also the cut-off worker: on its timer, and whenever a
    // function invokes it through the local Lambda endpoint (after revoking a share).
    const deletions = startDeletionSweep({
      dynamoEndpoint,
      iamEndpoint: iam.url,
      s3Endpoint: gate.url,
      operatorKey: secrets.operatorKey,
      intervalMs: options.deletionSweepMs ?? 2_000,
      log: options.log ?? false,
    });
    cleanup.push(() => deletions.stop());
    const lambda = await startLambda({
      functionKey: secrets.functionKey,
      workerFunctionName: SANDBOX_CUT_OFF_WORKER_FUNCTION,
      runWorker: () => deletions.sweep(),
    });
    cleanup.push(() => closeServer(lambda.server));

    const environment: Record<string, string> = {
      TABLE_NAME: SANDBOX_TABLE,
      BUCKET_NAME: SANDBOX_BUCKET,
      VENDING_ROLE_ARN: SANDBOX_VENDING_ROLE_ARN,
      AWS_REGION: SANDBOX_REGION,
      AWS_DEFAULT_REGION: SANDBOX_REGION,
      AWS_ACCESS_KEY_ID: secrets.functionKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secrets.functionKey.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: faults?.dynamodb.endpoint ?? dynamoEndpoint,
      AWS_ENDPOINT_URL_STS: faults?.sts.endpoint ?? sts.url,
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
      // Every sandbox function runs in one pool with one key; on AWS only the revoking ones get it.
      [CUT_OFF_WORKER_VARIABLE]: SANDBOX_CUT_OFF_WORKER_FUNCTION,
      AWS_EC2_METADATA_DISABLED: 'true',
      S3_ENDPOINT: gate.url,
      [ACCESS_LOG_PROCESSOR.bucketVariable]: SANDBOX_LOG_BUCKET,
      // DELETE /account's completesAfter: the sandbox's IAM applies a policy at once.
      IAM_PROPAGATION_SECONDS: '0',
      ...settingsEnvironment({
        ...runtimeSettings,
        // Passkeys are bound to the page's origin: the sandbox's own, unless configured.
        ...(process.env.WEBAUTHN_ORIGINS === undefined ? { passkeyOrigins: [`http://localhost:${apiPort}`] } : {}),
        allowedOrigins,
        oidcProviders,
      }),
    };
    const functionEnvironment: Record<string, string> = { ...definedVariables(process.env), ...environment };
    // The function's own role, never a developer's profile or session.
    delete functionEnvironment.AWS_SESSION_TOKEN;
    delete functionEnvironment.AWS_PROFILE;
    functionEnvironment.POWERTOOLS_LOG_LEVEL ??= options.log ? 'INFO' : 'SILENT';
    const functions = await startFunctionThreads({
      functions: [...ROUTES, ...SQS_FUNCTIONS].map((fn) => ({
        name: fn.name,
        file: join(REPOSITORY_ROOT, fn.entry),
      })),
      environment: functionEnvironment,
      threads: options.functionThreads ?? 2,
    });
    cleanup.push(() => functions.stop());
    running.threads = functions;
    // Before the threads stop: the last log object is written and both queues drained.
    cleanup.push(() => usage.stop());
    // The throttles a deployed stack gets: its deploy-time defaults, with this sandbox's runtime settings.
    const throttles = routeThrottles({ ...DEFAULT_SETTINGS, ...runtimeSettings });
    const overrides: Readonly<Partial<Record<string, ThrottleLimits>>> = options.routeThrottles || {};
    routes.push(
      ...ROUTES.map((route): LoadedRoute => {
        const throttle =
          options.routeThrottles === false ? undefined : (overrides[route.name] ?? throttles.get(route.name));
        return {
          route,
          invoke: (event, requestId) => functions.invoke(route.name, event, requestId),
          ...(throttle ? { throttle } : {}),
        };
      }),
    );
    functionsLoaded = true;

    // tvm-admin --local finds the running sandbox, and its internal endpoints, through this file.
    const manifestFile = join(dataDir, SANDBOX_MANIFEST);
    const manifest: SandboxManifest = {
      pid: process.pid,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      region: SANDBOX_REGION,
      tableName: SANDBOX_TABLE,
      bucketName: SANDBOX_BUCKET,
      vendingRoleArn: SANDBOX_VENDING_ROLE_ARN,
      dynamoEndpoint,
      stsEndpoint: sts.url,
      iamEndpoint: iam.url,
      s3Endpoint: gate.url,
      defaultQuotaBytes: runtimeSettings.defaultQuotaBytes,
    };
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2), { mode: 0o600 });
    cleanup.push(async () => rmSync(manifestFile, { force: true }));

    let stopped: Promise<void> | undefined;
    return {
      apiUrl: `http://127.0.0.1:${apiPort}`,
      webAppUrl: `http://localhost:${apiPort}/`,
      s3Url: gate.url,
      bucket: SANDBOX_BUCKET,
      region: SANDBOX_REGION,
      ...(faults ? { faults } : {}),
      functionEnvironment,
      devIdp,
      oidcProviders,
      sweepDeletions: () => deletions.sweep(),
      usage: {
        rollAccessLog: () => usage.rollAccessLog(),
        expire: (rule) => usage.expire(rule),
        settled: () => usage.settled(),
      },
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * `npm run bench`: bundles, cold starts, backend round trips, /token against its floor, and a
 * soak. A benchmark, never part of `npm test`; writes bench/results.json (git-ignored) and
 * prints a table. Loopback only; bounded in time. docs/benchmarks.md explains each figure.
 *
 * 1. bundleBytes: each function's bundle as `cdk synth` builds it (the CDK app run in-process
 *    into a temporary cloud assembly; asset folder per function from the template metadata),
 *    and the same entry rebuilt with esbuild with the AWS SDK bundled in, for comparison.
 * 2. coldStartMs: a fresh `node` process requires the bundle and answers one first event on
 *    its success path (median of BENCH_COLD_RUNS, default 20, runs interleaved), with fake
 *    backends: the SDK clients' `send` answered in memory (cold-start-fakes.ts).
 *    coldStartRatio divides by the same for a baseline bundle that only requires the same
 *    @aws-sdk/* modules, built the same way, measured in the same run. For comparison, the
 *    same bundles against the sandbox's dynalite and STS over HTTP (the SDK's own first-call
 *    work included), and with the SDK bundled in. The SDK stays external, as in the stack, and
 *    resolves from node_modules (NODE_PATH).
 *    For the routes that check a password, a variant with bcryptjs timed (timed-bcrypt.ts)
 *    gives the first event's time without bcrypt. Round trips: every route's first event run
 *    in this process with the SDK clients instrumented (round-trips.ts), and the floor's.
 * 3. tokenRps / tokenP99Ms: autocannon against a sandbox child process; floorRps / floorP99Ms:
 *    the same load on the floor (floor-handler.ts: one GetItem and one AssumeRole) served on
 *    function threads by a child process against the same sandbox's DynamoDB and STS;
 *    floorWithWriteRps: the floor and one PutItem; tokenHandlerRps: the token handler served the
 *    floors' way, without the sandbox's API adapter. Each gets BENCH_LOAD_WARMUP_SECONDS
 *    (default 10) of warm-up, then BENCH_ROUNDS (4) interleaved rounds of BENCH_ROUND_SECONDS
 *    (5) each (token-floor.ts). loginRps: /login after BENCH_LOAD_WARMUP_SECONDS, for BENCH_SECONDS.
 * 4. soak: BENCH_SOAK_SECONDS (default 60) of mixed register, login, token and S3 traffic
 *    from BENCH_VUS (default 50) virtual users against the same child sandbox (`node --import tsx
 *    local/main.ts`): errors, p99, and the sandbox process's RSS after a warm-up and at the end.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { build, type Plugin } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTvmApp } from '../lib/app';
import { BUNDLING } from '../lib/tvm-api';
import type { RouteDefinition } from '../lambda/contract/routes';
import { accountAdmin } from '../admin/operations';
import { SANDBOX_REGION, SANDBOX_TABLE } from '../local/names';
import { readSandboxSecrets } from '../local/secrets';
import { startSandbox } from '../local/sandbox';
import { COLD_USERS, EXPECTED_FIRST_STATUS, MEASURED_ROUTES, PASSWORD, coldEvent, postJson } from './first-events';
import { countRoundTrips } from './round-trips';
import { LOAD_WARMUP_SECONDS } from './load-phase';
import { integerEnv, median } from './numbers';
import { TOKEN_FLOOR_TIMING, cannon, tokenAgainstFloor } from './token-floor';
import { rssKb, startSandboxProcess } from './sandbox-process';

const ROOT = resolve(__dirname, '..');
const COLD_RUNS = integerEnv('BENCH_COLD_RUNS', 20);
const LOAD_SECONDS = integerEnv('BENCH_SECONDS', 10);
const SOAK_SECONDS = integerEnv('BENCH_SOAK_SECONDS', 60);
const WARMUP_SECONDS = integerEnv('BENCH_WARMUP_SECONDS', 15);
const VUS = integerEnv('BENCH_VUS', 50);
const BCRYPT_COST = 10;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---- 1. bundles ---------------------------------------------------------------------------

interface FunctionBundle {
  readonly route: RouteDefinition;
  /** The asset folder cdk synth wrote. */
  readonly assetDir: string;
  readonly bundlePath: string;
  readonly bundleBytes: number;
  /** Everything in the asset (bundle plus source map), what the zip holds. */
  readonly assetBytes: number;
}

/** A production bundle with its SDK-external twin (for the fake backends, which hook `require`). */
interface MeasuredBundle extends FunctionBundle {
  /** The same entry built with the AWS SDK left out, as the stack used to ship it. */
  readonly externalPath: string;
  readonly externalBytes: number;
  /** The @aws-sdk/* modules the external build requires at run time. */
  readonly sdkModules: readonly string[];
}

function synthesiseBundles(outdir: string): FunctionBundle[] {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const { app, stack } = createTvmApp({ appProps: { outdir, context: cdkJson.context ?? {} } });
  const assembly = (app as App).synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Metadata?: Record<string, unknown>; Properties?: { Code?: { S3Key?: unknown } } }>;
  };
  return MEASURED_ROUTES.map((route) => {
    const fn = stack.api.functions.get(route.name);
    if (!fn) throw new Error(`no function for ${route.name}`);
    const id = stack.getLogicalId(fn.node.defaultChild as never);
    // The CLI adds aws:asset:path metadata; in-process, the asset's hash is the S3 key's name.
    const resource = template.Resources[id];
    const s3Key = resource?.Properties?.Code?.S3Key;
    const assetPath = resource?.Metadata?.['aws:asset:path'] ?? (typeof s3Key === 'string' ? `asset.${s3Key.replace(/\.zip$/, '')}` : undefined);
    if (typeof assetPath !== 'string') throw new Error(`no asset path for ${route.name} (${id})`);
    const assetDir = join(outdir, assetPath);
    const bundlePath = join(assetDir, 'index.js');
    const assetBytes = readdirSync(assetDir).reduce((sum, file) => sum + statSync(join(assetDir, file)).size, 0);
    return { route, assetDir, bundlePath, bundleBytes: statSync(bundlePath).size, assetBytes };
  });
}

/** The @aws-sdk/* modules a bundle requires at run time. */
function requiredSdkModules(bundlePath: string): string[] {
  const text = readFileSync(bundlePath, 'utf8');
  return [...new Set([...text.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1] as string))].sort();
}

/**
 * esbuild with the options NodejsFunction uses (lib/tvm-api.ts BUNDLING): `bundleSdk` as the
 * stack ships (the SDK inside, ESM entry points first), or the SDK left external.
 */
async function esbuildLikeCdk(entry: { path?: string; contents?: string }, outfile: string, bundleSdk: boolean, plugins: Plugin[] = []): Promise<number> {
  await build({
    plugins,
    ...(entry.path ? { entryPoints: [entry.path] } : { stdin: { contents: entry.contents ?? '', resolveDir: ROOT, loader: 'ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: bundleSdk ? [] : ['@aws-sdk/*'],
    ...(bundleSdk ? { mainFields: [...(BUNDLING.mainFields ?? [])] } : {}),
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

/** A handler that only requires the given SDK modules (and keeps them), as the baseline. */
function baselineSource(modules: readonly string[]): string {
  const lines = modules.map((name, index) => `import * as sdk${index} from '${name}';`);
  const keep = modules.map((_, index) => `Object.keys(sdk${index}).length`).join(' + ') || '0';
  return `${lines.join('\n')}\nexport const handler = async () => ({ statusCode: 200, body: String(${keep}) });\n`;
}

/**
 * A second baseline: the same SDK modules, plus one DynamoDB GetItem and one STS AssumeRole
 * against the same backends, i.e. the SDK's first-call work that /token also does.
 */
const BASELINE_WITH_CALLS = `
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import * as documentClient from '@aws-sdk/lib-dynamodb';
const dynamodb = new DynamoDBClient({ region: process.env.AWS_REGION });
const sts = new STSClient({ region: process.env.AWS_REGION });
export const handler = async () => {
  await dynamodb.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: 'USER#nobody' }, sk: { S: 'PROFILE' } }, ConsistentRead: true }));
  await sts.send(new AssumeRoleCommand({ RoleArn: process.env.VENDING_ROLE_ARN, RoleSessionName: 'bench-baseline', DurationSeconds: 900 }));
  return { statusCode: 200, body: String(Object.keys(documentClient).length) };
};
`;

// ---- 2. cold starts -----------------------------------------------------------------------

const HARNESS = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const mod = require(process.argv[2]);
const t1 = performance.now();
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 10000, callbackWaitsForEmptyEventLoop: false };
Promise.resolve(mod.handler(JSON.parse(process.env.BENCH_EVENT), context)).then((result) => {
  const t2 = performance.now();
  process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ initMs: t1 - t0, firstEventMs: t2 - t1, sinceProcessStartMs: t2, bcryptMs: globalThis.__tvmBenchBcryptMs || 0, status: result && result.statusCode, ...(result && result.statusCode >= 400 ? { body: String(result.body).slice(0, 300) } : {}) }) + '\\n');
  process.exit(0);
}, (error) => {
  process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ error: String(error) }) + '\\n');
  process.exit(1);
});
`;

interface ColdSample {
  readonly initMs: number;
  readonly firstEventMs: number;
  readonly sinceProcessStartMs: number;
  /** Time in bcrypt's hash and compare, in the bcrypt-timed variants (else 0). */
  readonly bcryptMs: number;
  readonly status?: number;
  /** The answer's body, when it was a refusal (for the error message). */
  readonly body?: string;
  readonly error?: string;
}

function runCold(harness: string, bundlePath: string, env: Record<string, string>, event: unknown, preload?: string): Promise<ColdSample> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', ...(preload ? ['--require', preload] : []), harness, bundlePath], {
      env: { ...env, BENCH_EVENT: JSON.stringify(event) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const line = out.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
      if (!line) return reject(new Error(`no result from ${bundlePath}: ${err.slice(-500)}`));
      resolveRun(JSON.parse(line.slice('BENCH_RESULT '.length)) as ColdSample);
    });
  });
}

interface ColdResult {
  readonly coldStartMs: number;
  readonly initMs: number;
  readonly firstEventMs: number;
  readonly sinceProcessStartMs: number;
  /** The first event's time minus the time it spent in bcrypt (median of the differences). */
  readonly firstEventWithoutBcryptMs: number;
  readonly bcryptMs: number;
  readonly statuses: readonly number[];
}

/** For a route that checks a password: its first event without the time bcrypt took, from the bcrypt-timed variant of the same run. */
function withoutBcrypt(timed: ColdResult | undefined, baseline: ColdResult): Record<string, number> {
  if (!timed) return {};
  return {
    bcryptMs: timed.bcryptMs,
    firstEventWithoutBcryptMs: timed.firstEventWithoutBcryptMs,
    coldStartWithoutBcryptRatio: round((timed.initMs + timed.firstEventWithoutBcryptMs) / baseline.coldStartMs, 2),
  };
}

function summarise(samples: readonly ColdSample[]): ColdResult {
  const failed = samples.find((sample) => sample.error !== undefined);
  if (failed) throw new Error(`a cold start failed: ${failed.error}`);
  return {
    coldStartMs: round(median(samples.map((sample) => sample.initMs + sample.firstEventMs))),
    initMs: round(median(samples.map((sample) => sample.initMs))),
    firstEventMs: round(median(samples.map((sample) => sample.firstEventMs))),
    sinceProcessStartMs: round(median(samples.map((sample) => sample.sinceProcessStartMs))),
    firstEventWithoutBcryptMs: round(median(samples.map((sample) => sample.firstEventMs - sample.bcryptMs))),
    bcryptMs: round(median(samples.map((sample) => sample.bcryptMs))),
    statuses: [...new Set(samples.map((sample) => sample.status ?? 0))],
  };
}

/** What a cold-start process takes from the sandbox's function environment. */
const FUNCTION_SETTINGS = [
  'TABLE_NAME',
  'BUCKET_NAME',
  'VENDING_ROLE_ARN',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_STS',
  'AWS_EC2_METADATA_DISABLED',
  'BCRYPT_COST',
] as const;

/** Every item of the sandbox's table, as the DocumentClient reads them: the fake backends' seed. */
async function tableItems(documents: DynamoDBDocumentClient): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: SANDBOX_TABLE, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Cold starts, each in a fresh node process, all variants interleaved round by round:
 *
 * - `<route>`: the CDK bundle with fake backends (cold-start-fakes.ts, seeded from the
 *   sandbox's table), and `baseline:<modules>` the same way: the figures the goal is about.
 * - `<route>@sandbox`: the same bundle against the sandbox's dynalite and local STS over HTTP,
 *   so the SDK's own first-call work (serialising, signing, HTTP) is included, with
 *   `baseline-with-sdk-calls`, which makes one GetItem and one AssumeRole there.
 * - `<route>+sdk`: the bundle with the SDK inside, against the sandbox.
 *
 * Every first event takes its route's success path (checked); the state it needs is created
 * in the sandbox just before, and the fakes' seed is read after that.
 */
async function measureColdStarts(work: string, bundles: readonly MeasuredBundle[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tvm-bench-cold-'));
  const sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: BCRYPT_COST });
  const dynamo = new DynamoDBClient({ region: SANDBOX_REGION, endpoint: sandbox.functionEnvironment.AWS_ENDPOINT_URL_DYNAMODB, credentials: readSandboxSecrets(dataDir).operatorKey });
  const documents = DynamoDBDocumentClient.from(dynamo);
  const admin = accountAdmin({ dynamo, tableName: SANDBOX_TABLE }, { info: () => undefined, warn: () => undefined, error: () => undefined });
  try {
    const harness = join(work, 'harness.cjs');
    writeFileSync(harness, HARNESS);
    const fakes = join(work, 'cold-start-fakes.cjs');
    await build({ entryPoints: [join(ROOT, 'bench', 'cold-start-fakes.ts')], outfile: fakes, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
    const seedFile = join(work, 'fake-seed.json');
    // A clean environment, as Lambda's: the sandbox's function settings, and nothing of ours.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      ...Object.fromEntries(FUNCTION_SETTINGS.map((name) => [name, sandbox.functionEnvironment[name] ?? ''])),
      POWERTOOLS_SERVICE_NAME: 'tvm',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      BENCH_FAKE_SEED: seedFile,
    };
    for (const username of COLD_USERS) {
      const { status } = await postJson(`${sandbox.apiUrl}/register`, { username, password: PASSWORD });
      if (status !== 201) throw new Error(`register ${username}: ${status}`);
    }

    const baselineFor = new Map<string, string>();
    for (const bundle of bundles) {
      const modulesKey = bundle.sdkModules.join(',');
      if (baselineFor.has(modulesKey)) continue;
      const baseline = join(work, `baseline-${baselineFor.size}`, 'index.js');
      await esbuildLikeCdk({ contents: baselineSource(bundle.sdkModules) }, baseline, false);
      // The same imports with the SDK inside, as the stack bundles: the production bundles' baseline.
      await esbuildLikeCdk({ contents: baselineSource(bundle.sdkModules) }, join(work, `baseline-bundled-${baselineFor.size}`, 'index.js'), true);
      baselineFor.set(modulesKey, baseline);
    }
    const withCalls = join(work, 'baseline-with-calls', 'index.js');
    await esbuildLikeCdk({ contents: BASELINE_WITH_CALLS }, withCalls, false);

    // The routes that check a password or reset code, once more with bcryptjs timed (timed-bcrypt.ts).
    const timedBcrypt = join(ROOT, 'bench', 'timed-bcrypt.ts');
    const timedBcryptPlugin: Plugin = {
      name: 'timed-bcrypt',
      setup: (esbuild) => esbuild.onResolve({ filter: /^bcryptjs$/ }, (args) => (args.importer === timedBcrypt ? undefined : { path: timedBcrypt })),
    };
    const bcryptTimed = new Map<string, string>();
    for (const { route } of bundles.filter((bundle) => bundle.route.checksSecret)) {
      const outfile = join(work, `bcrypt-timed-${route.name}`, 'index.js');
      await esbuildLikeCdk({ path: join(ROOT, route.entry) }, outfile, false, [timedBcryptPlugin]);
      bcryptTimed.set(route.name, outfile);
    }

    const samples = new Map<string, ColdSample[]>();
    const record = (key: string, sample: ColdSample, route?: RouteDefinition) => {
      if (route && sample.status !== undefined && sample.status !== EXPECTED_FIRST_STATUS[route.name]) {
        throw new Error(`${key}: the first event answered ${sample.status} ${sample.body ?? ''}, not ${EXPECTED_FIRST_STATUS[route.name]}; the cold start would time a refusal`);
      }
      (samples.get(key) ?? samples.set(key, []).get(key))?.push(sample);
    };
    let serial = 0;
    for (let run = 0; run < COLD_RUNS; run++) {
      // With fake backends: every event prepared first, then one seed with all they need.
      const events = new Map<string, Record<string, unknown>>();
      for (const { route } of bundles) events.set(route.name, await coldEvent(route, sandbox.apiUrl, admin, ++serial));
      writeFileSync(seedFile, JSON.stringify(await tableItems(documents)));
      for (const bundle of bundles) {
        record(bundle.route.name, await runCold(harness, bundle.externalPath, env, events.get(bundle.route.name), fakes), bundle.route);
      }
      for (const [modulesKey, baseline] of baselineFor) {
        record(`baseline:${modulesKey}`, await runCold(harness, baseline, env, {}, fakes));
        record(`baseline-bundled:${modulesKey}`, await runCold(harness, baseline.replace(/baseline-(\d+)/, 'baseline-bundled-$1'), env, {}));
      }
      // Each process starts from the same seed, so the same event takes the same path again.
      for (const { route } of bundles) {
        const timed = bcryptTimed.get(route.name);
        if (timed) record(`${route.name}~bcrypt-timed`, await runCold(harness, timed, env, events.get(route.name), fakes), route);
      }
      // Against the sandbox: each run changes its state, so each gets a fresh event.
      for (const bundle of bundles) {
        record(`${bundle.route.name}@sandbox`, await runCold(harness, bundle.externalPath, env, await coldEvent(bundle.route, sandbox.apiUrl, admin, ++serial)), bundle.route);
        record(`${bundle.route.name}+sdk`, await runCold(harness, bundle.bundlePath, env, await coldEvent(bundle.route, sandbox.apiUrl, admin, ++serial)), bundle.route);
      }
      record('baseline-with-sdk-calls', await runCold(harness, withCalls, env, {}));
      if ((run + 1) % 5 === 0) log(`cold starts: ${run + 1}/${COLD_RUNS} rounds`);
    }
    const results: Record<string, ColdResult> = {};
    for (const [key, list] of samples) results[key] = summarise(list);
    log('round trips: each route once, with the SDK clients instrumented...');
    const roundTrips = await countRoundTrips(sandbox.functionEnvironment, sandbox.apiUrl, admin);
    return { results, baselineFor, roundTrips };
  } finally {
    dynamo.destroy();
    await sandbox.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---- 3 and 4. the sandbox as a child process ---------------------------------------------

const LOAD_TIMING = { seconds: LOAD_SECONDS, warmupSeconds: LOAD_WARMUP_SECONDS };

interface SoakStats {
  ops: number;
  errors: number;
  errorSamples: string[];
  latencies: Record<string, number[]>;
}

/** One virtual user: registers, then loops over weighted operations with a think time. */
async function virtualUser(apiUrl: string, index: number, until: () => boolean, stats: () => SoakStats): Promise<void> {
  const username = `soak-${index}-${Date.now().toString(36)}`;
  type Vended = { session: { token: string }; credentials: Record<string, string>; storage: { bucket: string; prefix: string; region: string; endpoint?: string } };
  let vended = {} as Vended;
  let s3: S3Client | undefined;
  const record = async (op: string, action: () => Promise<boolean>) => {
    const started = performance.now();
    const current = stats();
    try {
      const ok = await action();
      if (!ok) throw new Error(`${op} answered unexpectedly`);
    } catch (error) {
      current.errors++;
      if (current.errorSamples.length < 10) current.errorSamples.push(`${op}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      current.ops++;
      (current.latencies[op] ??= []).push(performance.now() - started);
    }
  };
  const useCredentials = () => {
    s3?.destroy();
    s3 = new S3Client({
      region: vended.storage.region,
      endpoint: vended.storage.endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      credentials: { accessKeyId: vended.credentials.accessKeyId as string, secretAccessKey: vended.credentials.secretAccessKey as string, sessionToken: vended.credentials.sessionToken as string },
    });
  };
  await record('register', async () => {
    const { status, json } = await postJson(`${apiUrl}/register`, { username, password: PASSWORD });
    vended = json as Vended;
    return status === 201;
  });
  if (!vended.session) return;
  useCredentials();
  let object = 0;
  while (!until()) {
    const dice = Math.random() * 100;
    const bucket = vended.storage.bucket;
    const key = `${vended.storage.prefix}file-${object % 5}.txt`;
    if (dice < 40) {
      await record('token', async () => {
        const { status, json } = await postJson(`${apiUrl}/token`, undefined, vended.session.token);
        if (status === 200) {
          vended = { ...vended, credentials: json.credentials as Record<string, string> };
          useCredentials();
        }
        return status === 200;
      });
    } else if (dice < 60) {
      object++;
      await record('s3-put', async () => (await s3!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `hello ${object}` }))).$metadata.httpStatusCode === 200);
    } else if (dice < 80) {
      await record('s3-get', async () => {
        try {
          const answer = await s3!.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          await answer.Body?.transformToString();
          return true;
        } catch (error) {
          return (error as { name?: string }).name === 'NoSuchKey';
        }
      });
    } else if (dice < 94) {
      await record('s3-list', async () => (await s3!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: vended.storage.prefix }))).$metadata.httpStatusCode === 200);
    } else if (dice < 96) {
      await record('s3-delete', async () => (await s3!.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))).$metadata.httpStatusCode === 204);
    } else if (dice < 98.5) {
      await record('login', async () => (await postJson(`${apiUrl}/login`, { username, password: PASSWORD })).status === 200);
    } else {
      await record('register', async () => (await postJson(`${apiUrl}/register`, { username: `${username}-${++object}`, password: PASSWORD })).status === 201);
    }
    await new Promise((wait) => setTimeout(wait, 200 + Math.random() * 400));
  }
  s3?.destroy();
}

async function soak(apiUrl: string, pid: number) {
  const fresh = (): SoakStats => ({ ops: 0, errors: 0, errorSamples: [], latencies: {} });
  let stats = fresh();
  const warmupEnds = Date.now() + WARMUP_SECONDS * 1000;
  const soakEnds = warmupEnds + SOAK_SECONDS * 1000;
  const users = Array.from({ length: VUS }, (_, index) => virtualUser(apiUrl, index, () => Date.now() >= soakEnds, () => stats));
  await new Promise((wait) => setTimeout(wait, Math.max(0, warmupEnds - Date.now())));
  const warmup = stats;
  stats = fresh();
  const rssAfterWarmupKb = rssKb(pid);
  const rssSamplesKb: number[] = [rssAfterWarmupKb];
  const sampler = setInterval(() => rssSamplesKb.push(rssKb(pid)), 5000);
  await Promise.all(users);
  clearInterval(sampler);
  const rssEndKb = rssKb(pid);
  rssSamplesKb.push(rssEndKb);
  const all = Object.values(stats.latencies).flat();
  const byOp = Object.fromEntries(
    Object.entries(stats.latencies).map(([op, values]) => [op, { count: values.length, p50Ms: round(percentile(values, 50)), p99Ms: round(percentile(values, 99)) }]),
  );
  return {
    virtualUsers: VUS,
    seconds: SOAK_SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    warmupOps: warmup.ops,
    warmupErrors: warmup.errors,
    ops: stats.ops,
    opsPerSecond: round(stats.ops / SOAK_SECONDS),
    errors: stats.errors,
    errorSamples: stats.errorSamples,
    p50Ms: round(percentile(all, 50)),
    p99Ms: round(percentile(all, 99)),
    byOperation: byOp,
    rssAfterWarmupMb: round(rssAfterWarmupKb / 1024),
    rssEndMb: round(rssEndKb / 1024),
    rssGrowthPercent: round(((rssEndKb - rssAfterWarmupKb) / rssAfterWarmupKb) * 100),
    rssSamplesMb: rssSamplesKb.map((kb) => round(kb / 1024)),
  };
}

// ---- main ---------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageAtStart: loadavg().map((value) => round(value, 2)),
  };
  log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);
  const work = mkdtempSync(join(tmpdir(), 'tvm-bench-'));
  try {
    log('cdk synth (in-process, bundling every function with esbuild)...');
    process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
    process.env.CDK_DISABLE_VERSION_CHECK = '1';
    const bundles: MeasuredBundle[] = [];
    const bundleReport: Record<string, unknown> = {};
    for (const bundle of synthesiseBundles(join(work, 'cdk.out'))) {
      const externalPath = join(work, `external-${bundle.route.name}`, 'index.js');
      const externalBytes = await esbuildLikeCdk({ path: join(ROOT, bundle.route.entry) }, externalPath, false);
      const measured = { ...bundle, externalPath, externalBytes, sdkModules: requiredSdkModules(externalPath) };
      bundles.push(measured);
      bundleReport[bundle.route.name] = {
        // As the stack ships it: the AWS SDK inside.
        bundleBytes: bundle.bundleBytes,
        assetBytes: bundle.assetBytes,
        sdkExternalBytes: externalBytes,
        sdkModulesOfExternalBuild: measured.sdkModules,
        under300KB: bundle.bundleBytes < 300 * 1024,
      };
    }
    log(`bundles: ${bundles.map((bundle) => `${bundle.route.name} ${bundle.bundleBytes} B`).join(', ')}`);

    log(`cold starts: ${COLD_RUNS} rounds, each variant in a fresh node process...`);
    const { results: cold, baselineFor, roundTrips } = await measureColdStarts(work, bundles);
    const coldReport: Record<string, unknown> = {};
    for (const bundle of bundles) {
      const own = cold[bundle.route.name] as ColdResult;
      const againstSandbox = cold[`${bundle.route.name}@sandbox`] as ColdResult;
      const withSdk = cold[`${bundle.route.name}+sdk`] as ColdResult;
      const baseline = cold[`baseline:${bundle.sdkModules.join(',')}`] as ColdResult;
      const baselineWithCalls = cold['baseline-with-sdk-calls'] as ColdResult;
      const bundledBaseline = cold[`baseline-bundled:${bundle.sdkModules.join(',')}`] as ColdResult;
      coldReport[bundle.route.name] = {
        // As shipped (the SDK inside), against the sandbox: loading against the same imports, bundled the same way.
        production: {
          initMs: withSdk.initMs,
          coldStartMs: withSdk.coldStartMs,
          baselineInitMs: bundledBaseline.initMs,
          loadRatio: round(withSdk.initMs / bundledBaseline.initMs, 2),
        },
        // The rest: the SDK external (the fake backends hook its require), fake backends.
        coldStartMs: own.coldStartMs,
        initMs: own.initMs,
        firstEventMs: own.firstEventMs,
        firstEventStatuses: own.statuses,
        baselineColdStartMs: baseline.coldStartMs,
        coldStartRatio: round(own.coldStartMs / baseline.coldStartMs, 2),
        // Loading alone: the bundle's init against the imports-only baseline's.
        loadRatio: round(own.initMs / baseline.initMs, 2),
        loadRatioAsShipped: round(withSdk.initMs / bundledBaseline.initMs, 2),
        ...withoutBcrypt(cold[`${bundle.route.name}~bcrypt-timed`], baseline),
        withSandboxBackends: {
          coldStartMs: againstSandbox.coldStartMs,
          initMs: againstSandbox.initMs,
          firstEventMs: againstSandbox.firstEventMs,
          ratioToBaseline: round(againstSandbox.coldStartMs / baseline.coldStartMs, 2),
          ratioToBaselineWithSdkCalls: round(againstSandbox.coldStartMs / baselineWithCalls.coldStartMs, 2),
        },
        sinceProcessStartMs: own.sinceProcessStartMs,
      };
    }
    const sdkBundling = Object.fromEntries(
      bundles.map((bundle) => {
        const own = cold[bundle.route.name] as ColdResult;
        const withSdk = cold[`${bundle.route.name}+sdk`] as ColdResult;
        return [bundle.route.name, { externalSdk: { bundleBytes: bundle.externalBytes, initMs: own.initMs }, bundledSdk: { bundleBytes: bundle.bundleBytes, initMs: withSdk.initMs } }];
      }),
    );
    const baselines = {
      ...Object.fromEntries([...baselineFor.keys()].map((modules) => [modules, cold[`baseline:${modules}`]])),
      ...Object.fromEntries([...baselineFor.keys()].map((modules) => [`${modules} (SDK bundled)`, cold[`baseline-bundled:${modules}`]])),
      withSdkCalls: cold['baseline-with-sdk-calls'],
    };

    log('starting the sandbox as a child process (node --import tsx local/main.ts)...');
    const sandbox = await startSandboxProcess({ bcryptCost: BCRYPT_COST });
    let throughput: Record<string, unknown>;
    let soakReport: Awaited<ReturnType<typeof soak>>;
    try {
      log(`autocannon POST /token against the floor (GetItem + AssumeRole on function threads, same backends): ${TOKEN_FLOOR_TIMING.warmupSeconds} s warm-up each, then ${TOKEN_FLOOR_TIMING.rounds} interleaved rounds of ${TOKEN_FLOOR_TIMING.seconds} s each...`);
      const tokenAndFloor = await tokenAgainstFloor(sandbox, TOKEN_FLOOR_TIMING);
      log(`autocannon POST /login, ${LOAD_WARMUP_SECONDS} s warm-up then ${LOAD_SECONDS} s...`);
      const loginLoad = await cannon(`${sandbox.apiUrl}/login`, JSON.stringify({ username: 'bench-load', password: PASSWORD }), {}, 4, LOAD_TIMING);
      throughput = { tokenAgainstFloor: tokenAndFloor, login: loginLoad };
      log(`soak: ${WARMUP_SECONDS} s warm-up, then ${SOAK_SECONDS} s with ${VUS} virtual users...`);
      soakReport = await soak(sandbox.apiUrl, sandbox.pid);
    } finally {
      await sandbox.stop();
    }

    const { token, floor, floorWithWrite, tokenHandler, ratio: tokenToFloorRps, ratioToFloorWithWrite, handlerToFloorWithWrite, roundRatios } =
      throughput.tokenAgainstFloor as Awaited<ReturnType<typeof tokenAgainstFloor>>;
    const tokenStages = roundTrips.routes.token?.stages ?? Number.NaN;
    const login = throughput.login as { rps: number; p99Ms: number };
    const ratios = Object.values(coldReport).map((entry) => (entry as { coldStartRatio: number }).coldStartRatio);
    const results = {
      measuredAt: new Date().toISOString(),
      machine: {
        ...machine,
        loadAverageAtEnd: loadavg().map((value) => round(value, 2)),
        // Another job used at least half the cores when the run began: label the figures so.
        busyAtStart: (machine.loadAverageAtStart[0] ?? 0) >= machine.nproc / 2,
      },
      settings: { bcryptCost: BCRYPT_COST, coldRuns: COLD_RUNS, loadSeconds: LOAD_SECONDS, loadWarmupSeconds: LOAD_WARMUP_SECONDS, soakSeconds: SOAK_SECONDS, warmupSeconds: WARMUP_SECONDS, virtualUsers: VUS },
      bundles: bundleReport,
      coldStart: coldReport,
      baselines,
      sdkBundling,
      roundTrips,
      tokenRps: token.rps,
      tokenP99Ms: token.p99Ms,
      floorRps: floor.rps,
      floorP99Ms: floor.p99Ms,
      tokenToFloorRps,
      tokenToFloorRoundRatios: roundRatios,
      floorWithWriteRps: floorWithWrite.rps,
      floorWithWriteP99Ms: floorWithWrite.p99Ms,
      tokenToFloorWithWriteRps: ratioToFloorWithWrite,
      tokenHandlerRps: tokenHandler.rps,
      tokenHandlerToFloorWithWriteRps: handlerToFloorWithWrite,
      loginRps: login.rps,
      loginP99Ms: login.p99Ms,
      throughput,
      soak: soakReport,
      goals: {
        coldStartRatioAtMost1_3: ratios.every((ratio) => ratio <= 1.3),
        bundlesUnder300KB: bundles.every((bundle) => bundle.bundleBytes < 300 * 1024),
        zeroSoakErrors: soakReport.errors === 0,
        rssGrowthUnder10Percent: soakReport.rssGrowthPercent < 10,
        tokenAtMost3SequentialStages: tokenStages <= 3,
        tokenRpsAtLeast80PercentOfFloor: tokenToFloorRps >= 0.8,
      },
      durationSeconds: round((Date.now() - started) / 1000),
    };
    writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    printTable(results, bundles);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function printTable(results: Record<string, unknown> & { goals: Record<string, boolean> }, bundles: readonly FunctionBundle[]): void {
  const bundleReport = results.bundles as Record<string, { bundleBytes: number; sdkExternalBytes: number }>;
  const coldReport = results.coldStart as Record<
    string,
    {
      coldStartMs: number;
      baselineColdStartMs: number;
      coldStartRatio: number;
      loadRatio: number;
      firstEventWithoutBcryptMs?: number;
      initMs: number;
      firstEventMs: number;
      firstEventStatuses: number[];
      withSandboxBackends: { coldStartMs: number; ratioToBaselineWithSdkCalls: number };
      production: { initMs: number; coldStartMs: number; loadRatio: number };
    }
  >;
  const trips = (results.roundTrips as { routes: Record<string, { stages: number; calls: number }> }).routes;
  console.log('\n| function | bundle bytes (SDK inside, as shipped) | SDK external | as shipped: init ms, loadRatio, cold start ms (sandbox) | SDK external, fakes: cold start ms (init + first event) | baseline ms | loadRatio | coldStartRatio | first event without bcrypt ms | SDK external, sandbox ms (vs SDK calls) | backend stages (calls) | first answer |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { route } of bundles) {
    const bundle = bundleReport[route.name];
    const cold = coldReport[route.name];
    if (!bundle || !cold) continue;
    console.log(
      `| ${route.name} | ${bundle.bundleBytes} | ${bundle.sdkExternalBytes} | ${cold.production.initMs}, ${cold.production.loadRatio}, ${cold.production.coldStartMs} | ` +
        `${cold.coldStartMs} (${cold.initMs} + ${cold.firstEventMs}) | ${cold.baselineColdStartMs} | ${cold.loadRatio} | ${cold.coldStartRatio} | ` +
        `${cold.firstEventWithoutBcryptMs ?? '-'} | ${cold.withSandboxBackends.coldStartMs} (${cold.withSandboxBackends.ratioToBaselineWithSdkCalls}) | ` +
        `${trips[route.name]?.stages} (${trips[route.name]?.calls}) | ${cold.firstEventStatuses.join(',')} |`,
    );
  }
  const soakReport = results.soak as { errors: number; p99Ms: number; opsPerSecond: number; rssAfterWarmupMb: number; rssEndMb: number; rssGrowthPercent: number; virtualUsers: number; seconds: number };
  console.log(`\n| measure | value |\n|---|---:|`);
  console.log(`| tokenRps | ${results.tokenRps} |\n| tokenP99Ms | ${results.tokenP99Ms} |`);
  console.log(`| floorRps (GetItem + AssumeRole) | ${results.floorRps} |\n| floorP99Ms | ${results.floorP99Ms} |\n| tokenRps / floorRps | ${results.tokenToFloorRps} (rounds ${(results.tokenToFloorRoundRatios as number[]).join(", ")}) |`);
  console.log(`| floorWithWriteRps (GetItem + AssumeRole + PutItem) | ${results.floorWithWriteRps} |\n| floorWithWriteP99Ms | ${results.floorWithWriteP99Ms} |\n| tokenRps / floorWithWriteRps | ${results.tokenToFloorWithWriteRps} |`);
  console.log(`| tokenHandlerRps (the token handler on the floors' front, no API adapter) | ${results.tokenHandlerRps} |\n| tokenHandlerRps / floorWithWriteRps | ${results.tokenHandlerToFloorWithWriteRps} |`);
  console.log(`| loginRps (bcrypt ${BCRYPT_COST}) | ${results.loginRps} |`);
  console.log(`| soak: ${soakReport.virtualUsers} users, ${soakReport.seconds} s, ops/s | ${soakReport.opsPerSecond} |`);
  console.log(`| soak errors | ${soakReport.errors} |\n| soak p99 ms | ${soakReport.p99Ms} |`);
  console.log(`| soak RSS after warm-up -> end (MB) | ${soakReport.rssAfterWarmupMb} -> ${soakReport.rssEndMb} (${soakReport.rssGrowthPercent} %) |`);
  console.log(`\ngoals: ${Object.entries(results.goals).map(([goal, met]) => `${goal} ${met ? 'met' : 'MISSED'}`).join('; ')}`);
  console.log(`written to bench/results.json (${results.durationSeconds} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

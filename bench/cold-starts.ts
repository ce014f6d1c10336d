/**
 * Cold starts of `npm run bench`, each in a fresh node process (cold-start-process.ts), all
 * variants interleaved round by round, against a sandbox started in this process:
 *
 * - `<route>`: the SDK-external build with the timed-backends preload (timed-backends.ts): its
 *   DynamoDB and STS calls go to the sandbox and their time is left out, so what remains is
 *   the TVM's own loading and first-event work; `baseline:<modules>` the same way (it makes no
 *   calls): the figures the goal is about.
 * - `<route>~bcrypt-timed`, for the routes that check a password or reset code: the same with
 *   bcryptjs timed (timed-bcrypt.ts), for the first event without bcrypt.
 * - `<route>@sandbox`: the same build against the same backends, nothing left out (the SDK's
 *   own first-call work included), with `baseline-with-sdk-calls`, which makes one GetItem
 *   and one AssumeRole there.
 * - `<route>+sdk`: the bundle as shipped (the SDK inside), against the sandbox, with
 *   `baseline-bundled:<modules>`.
 *
 * Every first event takes its route's success path (checked); the state it needs is created
 * in the sandbox just before each process. Then each route's backend round trips are counted.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build, type Plugin } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteDefinition } from '../lambda/contract/routes';
import { accountAdmin } from '../admin/operations';
import { SANDBOX_REGION, SANDBOX_TABLE } from '../local/names';
import { readSandboxSecrets } from '../local/secrets';
import { startSandbox } from '../local/sandbox';
import { BASELINE_WITH_CALLS, ROOT, baselineSource, esbuildLikeCdk, type MeasuredBundle } from './bundles';
import { HARNESS, runCold, summarise, withoutBcrypt, type ColdResult, type ColdSample } from './cold-start-process';
import { COLD_USERS, EXPECTED_FIRST_STATUS, PASSWORD, coldEvent, postJson } from './first-events';
import { log, round } from './numbers';
import { countRoundTrips } from './round-trips';

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

/** Measures every variant `coldRuns` times; returns the medians by variant and the round trips. */
export async function measureColdStarts(
  work: string,
  bundles: readonly MeasuredBundle[],
  options: { coldRuns: number; bcryptCost: number },
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tvm-bench-cold-'));
  const sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: options.bcryptCost });
  const dynamo = new DynamoDBClient({
    region: SANDBOX_REGION,
    endpoint: sandbox.functionEnvironment.AWS_ENDPOINT_URL_DYNAMODB,
    credentials: readSandboxSecrets(dataDir).operatorKey,
  });
  const admin = accountAdmin(
    { dynamo, tableName: SANDBOX_TABLE },
    { info: () => undefined, warn: () => undefined, error: () => undefined },
  );
  try {
    const harness = join(work, 'harness.cjs');
    writeFileSync(harness, HARNESS);
    const timedBackends = join(work, 'timed-backends.cjs');
    await build({
      entryPoints: [join(ROOT, 'bench', 'timed-backends.ts')],
      outfile: timedBackends,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'error',
    });
    // A clean environment, as Lambda's: the sandbox's function settings, and nothing of ours.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      ...Object.fromEntries(FUNCTION_SETTINGS.map((name) => [name, sandbox.functionEnvironment[name] ?? ''])),
      POWERTOOLS_SERVICE_NAME: 'tvm',
      POWERTOOLS_LOG_LEVEL: 'INFO',
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
      await esbuildLikeCdk(
        { contents: baselineSource(bundle.sdkModules) },
        join(work, `baseline-bundled-${baselineFor.size}`, 'index.js'),
        true,
      );
      baselineFor.set(modulesKey, baseline);
    }
    const withCalls = join(work, 'baseline-with-calls', 'index.js');
    await esbuildLikeCdk({ contents: BASELINE_WITH_CALLS }, withCalls, false);

    // The routes that check a password or reset code, once more with bcryptjs timed (timed-bcrypt.ts).
    const timedBcrypt = join(ROOT, 'bench', 'timed-bcrypt.ts');
    const timedBcryptPlugin: Plugin = {
      name: 'timed-bcrypt',
      setup: (esbuild) =>
        esbuild.onResolve({ filter: /^bcryptjs$/ }, (args) =>
          args.importer === timedBcrypt ? undefined : { path: timedBcrypt },
        ),
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
        throw new Error(
          `${key}: the first event answered ${sample.status} ${sample.body ?? ''}, not ${EXPECTED_FIRST_STATUS[route.name]}; the cold start would time a refusal`,
        );
      }
      (samples.get(key) ?? samples.set(key, []).get(key))?.push(sample);
    };
    let serial = 0;
    // Each run changes the sandbox's state, so each process gets a fresh event.
    const freshEvent = (route: RouteDefinition) => coldEvent(route, sandbox.apiUrl, admin, ++serial);
    for (let run = 0; run < options.coldRuns; run++) {
      for (const { route, externalPath } of bundles)
        record(route.name, await runCold(harness, externalPath, env, await freshEvent(route), timedBackends), route);
      for (const [modulesKey, baseline] of baselineFor) {
        record(`baseline:${modulesKey}`, await runCold(harness, baseline, env, {}, timedBackends));
        record(
          `baseline-bundled:${modulesKey}`,
          await runCold(harness, baseline.replace(/baseline-(\d+)/, 'baseline-bundled-$1'), env, {}),
        );
      }
      for (const { route } of bundles) {
        const timed = bcryptTimed.get(route.name);
        if (timed)
          record(
            `${route.name}~bcrypt-timed`,
            await runCold(harness, timed, env, await freshEvent(route), timedBackends),
            route,
          );
      }
      for (const bundle of bundles) {
        record(
          `${bundle.route.name}@sandbox`,
          await runCold(harness, bundle.externalPath, env, await freshEvent(bundle.route)),
          bundle.route,
        );
        record(
          `${bundle.route.name}+sdk`,
          await runCold(harness, bundle.bundlePath, env, await freshEvent(bundle.route)),
          bundle.route,
        );
      }
      record('baseline-with-sdk-calls', await runCold(harness, withCalls, env, {}));
      if ((run + 1) % 5 === 0) log(`cold starts: ${run + 1}/${options.coldRuns} rounds`);
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

/** The cold starts as bench/results.json reports them: `coldStart` per route, `sdkBundling` and `baselines`. */
export function coldStartReport(
  bundles: readonly MeasuredBundle[],
  cold: Record<string, ColdResult>,
  baselineFor: ReadonlyMap<string, string>,
) {
  const coldStart: Record<string, unknown> = {};
  for (const bundle of bundles) {
    const own = cold[bundle.route.name] as ColdResult;
    const againstSandbox = cold[`${bundle.route.name}@sandbox`] as ColdResult;
    const withSdk = cold[`${bundle.route.name}+sdk`] as ColdResult;
    const baseline = cold[`baseline:${bundle.sdkModules.join(',')}`] as ColdResult;
    const baselineWithCalls = cold['baseline-with-sdk-calls'] as ColdResult;
    const bundledBaseline = cold[`baseline-bundled:${bundle.sdkModules.join(',')}`] as ColdResult;
    coldStart[bundle.route.name] = {
      // As shipped (the SDK inside), against the sandbox: loading against the same imports, bundled the same way.
      production: {
        initMs: withSdk.initMs,
        coldStartMs: withSdk.coldStartMs,
        baselineInitMs: bundledBaseline.initMs,
        loadRatio: round(withSdk.initMs / bundledBaseline.initMs, 2),
      },
      // The rest: the SDK external (the preload hooks its require), the backend calls' time left out.
      coldStartMs: own.coldStartMs,
      initMs: own.initMs,
      firstEventMs: own.firstEventMs,
      backendMs: own.backendMs,
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
      return [
        bundle.route.name,
        {
          externalSdk: { bundleBytes: bundle.externalBytes, initMs: own.initMs },
          bundledSdk: { bundleBytes: bundle.bundleBytes, initMs: withSdk.initMs },
        },
      ];
    }),
  );
  const baselines = {
    ...Object.fromEntries([...baselineFor.keys()].map((modules) => [modules, cold[`baseline:${modules}`]])),
    ...Object.fromEntries(
      [...baselineFor.keys()].map((modules) => [`${modules} (SDK bundled)`, cold[`baseline-bundled:${modules}`]]),
    ),
    withSdkCalls: cold['baseline-with-sdk-calls'],
  };
  return { coldStart, sdkBundling, baselines };
}

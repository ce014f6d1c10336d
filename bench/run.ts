/**
 * `npm run bench`: bundles, cold starts, backend round trips, /token against its floor, and a
 * soak. A benchmark, never part of `npm test`; writes bench/results.json (git-ignored) and
 * prints a table. Loopback only; bounded in time. docs/benchmarks.md explains each figure.
 * Each part is a module of its own; this runner measures them in order and checks the goals.
 *
 * 1. bundleBytes (bundles.ts): each function's bundle as `cdk synth` builds it, and the same
 *    entry built with the AWS SDK left external.
 * 2. coldStartMs (cold-starts.ts): a fresh `node` process requires the bundle and answers one
 *    first event on its success path (median of BENCH_COLD_RUNS, default 20, variants
 *    interleaved), against a sandbox's dynalite and STS with the backend calls' time left out;
 *    coldStartRatio divides by an imports-only baseline measured the same way. Round trips:
 *    every route's first event with the SDK clients instrumented (round-trips.ts).
 * 3. tokenRps / floorRps and the other floors (token-floor.ts), against a sandbox child process
 *    (`node --import tsx local/main.ts`): BENCH_LOAD_WARMUP_SECONDS (10) of warm-up each, then
 *    BENCH_ROUNDS (4) interleaved rounds of BENCH_ROUND_SECONDS (5). loginRps: /login after
 *    the same warm-up, for BENCH_SECONDS (10).
 * 4. soak (soak.ts): BENCH_SOAK_SECONDS (60) of mixed traffic from BENCH_VUS (50) virtual users
 *    against the same child sandbox, after BENCH_WARMUP_SECONDS (15).
 * The sandbox of 3 and 4 runs with the vend limits at their maxima (BENCH_VEND_LIMITS): those
 * loads call /token far more often per session than an app does.
 * 5. usageReport (usage-report.ts): a month of access logs for 1,000 users counted by the
 *    access-log processor into dynalite, then `tvm-admin usage report` over them.
 * 6. fairness (fairness.ts): another sandbox child with the default vend limits and an
 *    account-wide STS rate of BENCH_FAIRNESS_STS_RATE (30) AssumeRole calls a second; 50
 *    ordinary sessions refresh on a compressed schedule, first alone, then beside one abusive
 *    session calling /token as fast as it can.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, measureBundles } from './bundles';
import { coldStartReport, measureColdStarts } from './cold-starts';
import { PASSWORD } from './first-events';
import { LOAD_WARMUP_SECONDS } from './load-phase';
import { integerEnv, log, round } from './numbers';
import { printTable } from './print-results';
import { BENCH_FAIRNESS_SHAPE, type FairnessResult, measureFairness } from './fairness';
import { BENCH_LOAD_SANDBOX_ENVIRONMENT, startSandboxProcess } from './sandbox-process';
import { soak } from './soak';
import { TOKEN_FLOOR_TIMING, cannon, tokenAgainstFloor } from './token-floor';
import { measureUsageReport } from './usage-report';

const COLD_RUNS = integerEnv('BENCH_COLD_RUNS', 20);
const LOAD_SECONDS = integerEnv('BENCH_SECONDS', 10);
const SOAK_SECONDS = integerEnv('BENCH_SOAK_SECONDS', 60);
const WARMUP_SECONDS = integerEnv('BENCH_WARMUP_SECONDS', 15);
const VUS = integerEnv('BENCH_VUS', 50);
const BCRYPT_COST = 10;
const FAIRNESS_STS_RATE = integerEnv('BENCH_FAIRNESS_STS_RATE', 30);
/** The fairness goal: the ordinary p99 beside the abuser at most this many times the baseline's, plus the slack. */
const FAIRNESS_P99_FACTOR = 3;
const FAIRNESS_P99_SLACK_MS = 250;

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageAtStart: loadavg().map((value) => round(value, 2)),
  };
  log(
    `machine: ${machine.nproc} cores, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'tvm-bench-'));
  try {
    log('cdk synth (in-process, bundling every function with esbuild)...');
    process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
    process.env.CDK_DISABLE_VERSION_CHECK = '1';
    const { bundles, report: bundleReport } = await measureBundles(work);
    log(`bundles: ${bundles.map((bundle) => `${bundle.route.name} ${bundle.bundleBytes} B`).join(', ')}`);

    log(`cold starts: ${COLD_RUNS} rounds, each variant in a fresh node process...`);
    const {
      results: cold,
      baselineFor,
      roundTrips,
    } = await measureColdStarts(work, bundles, { coldRuns: COLD_RUNS, bcryptCost: BCRYPT_COST });
    const { coldStart: coldReport, sdkBundling, baselines } = coldStartReport(bundles, cold, baselineFor);

    log('starting the sandbox as a child process (node --import tsx local/main.ts)...');
    const sandbox = await startSandboxProcess({ bcryptCost: BCRYPT_COST, environment: BENCH_LOAD_SANDBOX_ENVIRONMENT });
    let throughput: {
      tokenAgainstFloor: Awaited<ReturnType<typeof tokenAgainstFloor>>;
      login: Awaited<ReturnType<typeof cannon>>;
    };
    let soakReport: Awaited<ReturnType<typeof soak>>;
    try {
      log(
        `autocannon POST /token against the floor (GetItem + AssumeRole on function threads, same backends): ${TOKEN_FLOOR_TIMING.warmupSeconds} s warm-up each, then ${TOKEN_FLOOR_TIMING.rounds} interleaved rounds of ${TOKEN_FLOOR_TIMING.seconds} s each...`,
      );
      const tokenAndFloor = await tokenAgainstFloor(sandbox, TOKEN_FLOOR_TIMING);
      log(`autocannon POST /login, ${LOAD_WARMUP_SECONDS} s warm-up then ${LOAD_SECONDS} s...`);
      const loginLoad = await cannon(
        `${sandbox.apiUrl}/login`,
        JSON.stringify({ username: 'bench-load', password: PASSWORD }),
        {},
        4,
        { seconds: LOAD_SECONDS, warmupSeconds: LOAD_WARMUP_SECONDS },
      );
      throughput = { tokenAgainstFloor: tokenAndFloor, login: loginLoad };
      log(`soak: ${WARMUP_SECONDS} s warm-up, then ${SOAK_SECONDS} s with ${VUS} virtual users...`);
      soakReport = await soak(sandbox.apiUrl, sandbox.pid, {
        seconds: SOAK_SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        virtualUsers: VUS,
      });
    } finally {
      await sandbox.stop();
    }

    const usageReport = await measureUsageReport();
    log(
      `usage report: ${usageReport.lines} lines counted in ${usageReport.ingestMs} ms; report for ${usageReport.users} users over ${usageReport.days} days in ${usageReport.reportMs} ms`,
    );
    log(
      `fairness: a sandbox with the default vend limits and STS at ${FAIRNESS_STS_RATE} AssumeRole/s; ${BENCH_FAIRNESS_SHAPE.ordinarySessions} ordinary sessions alone, then beside one abuser...`,
    );
    const fairSandbox = await startSandboxProcess({
      bcryptCost: BCRYPT_COST,
      environment: { STS_ASSUME_ROLE_RATE: String(FAIRNESS_STS_RATE) },
    });
    let fairness: FairnessResult;
    try {
      fairness = await measureFairness(fairSandbox.apiUrl, BENCH_FAIRNESS_SHAPE);
    } finally {
      await fairSandbox.stop();
    }
    const ordinaryRefreshes = BENCH_FAIRNESS_SHAPE.ordinarySessions * BENCH_FAIRNESS_SHAPE.refreshesPerSession;

    const {
      token,
      floor,
      floorWithWrite,
      tokenHandler,
      ratio: tokenToFloorRps,
      ratioToFloorWithWrite,
      handlerToFloorWithWrite,
      roundRatios,
    } = throughput.tokenAgainstFloor;
    const tokenStages = roundTrips.routes.token?.stages ?? Number.NaN;
    const ratios = Object.values(coldReport).map((entry) => (entry as { coldStartRatio: number }).coldStartRatio);
    const results = {
      measuredAt: new Date().toISOString(),
      machine: {
        ...machine,
        loadAverageAtEnd: loadavg().map((value) => round(value, 2)),
        // Another job used at least half the cores when the run began: label the figures so.
        busyAtStart: (machine.loadAverageAtStart[0] ?? 0) >= machine.nproc / 2,
      },
      settings: {
        bcryptCost: BCRYPT_COST,
        coldRuns: COLD_RUNS,
        loadSeconds: LOAD_SECONDS,
        loadWarmupSeconds: LOAD_WARMUP_SECONDS,
        soakSeconds: SOAK_SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        virtualUsers: VUS,
      },
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
      tokenHandlerToFloor: handlerToFloorWithWrite,
      fairness: {
        stsAssumeRoleRate: FAIRNESS_STS_RATE,
        p99Bound: `at most ${FAIRNESS_P99_FACTOR} x the baseline p99 + ${FAIRNESS_P99_SLACK_MS} ms`,
        ...fairness,
      },
      loginRps: throughput.login.rps,
      loginP99Ms: throughput.login.p99Ms,
      throughput,
      soak: soakReport,
      usageReport,
      goals: {
        coldStartRatioAtMost1_3: ratios.every((ratio) => ratio <= 1.3),
        bundlesUnder300KB: bundles.every((bundle) => bundle.bundleBytes < 300 * 1024),
        zeroSoakErrors: soakReport.errors === 0,
        rssGrowthUnder10Percent: soakReport.rssGrowthPercent < 10,
        tokenAtMost2SequentialStages: tokenStages <= 2,
        // The floor is one read, one AssumeRole and one write (issue 27); the handler on the floors' front.
        tokenHandlerAtLeast80PercentOfFloor: handlerToFloorWithWrite >= 0.8,
        fairnessEveryOrdinaryRefreshDelivered:
          fairness.baseline.ordinary.delivered === ordinaryRefreshes &&
          fairness.withAbuser.ordinary.delivered === ordinaryRefreshes,
        fairnessAbuserRateLimited: (fairness.withAbuser.abuser?.byStatus['429'] ?? 0) > 0,
        fairnessOrdinaryP99WithinBound:
          fairness.withAbuser.ordinary.p99Ms <=
          fairness.baseline.ordinary.p99Ms * FAIRNESS_P99_FACTOR + FAIRNESS_P99_SLACK_MS,
        usageReportUnder10Seconds: usageReport.reportMs < 10_000,
      },
      durationSeconds: round((Date.now() - started) / 1000),
    };
    writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    printTable(results, bundles, BCRYPT_COST);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

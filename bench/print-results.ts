/** The tables `npm run bench` prints at the end. */
import type { FunctionBundle } from './bundles';

/** Prints `npm run bench`'s results (as written to bench/results.json) as Markdown tables. */
export function printTable(
  results: Record<string, unknown> & { goals: Record<string, boolean> },
  bundles: readonly FunctionBundle[],
  bcryptCost: number,
): void {
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
  console.log(
    '\n| function | bundle bytes (SDK inside, as shipped) | SDK external | as shipped: init ms, loadRatio, cold start ms (sandbox) | SDK external, backend calls left out: cold start ms (init + first event) | baseline ms | loadRatio | coldStartRatio | first event without bcrypt ms | SDK external, sandbox ms (vs SDK calls) | backend stages (calls) | first answer |',
  );
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
  const soakReport = results.soak as {
    errors: number;
    p99Ms: number;
    opsPerSecond: number;
    rssAfterWarmupMb: number;
    rssEndMb: number;
    rssGrowthPercent: number;
    virtualUsers: number;
    seconds: number;
  };
  console.log(`\n| measure | value |\n|---|---:|`);
  console.log(`| tokenRps | ${results.tokenRps} |\n| tokenP99Ms | ${results.tokenP99Ms} |`);
  console.log(
    `| floorRps (GetItem + AssumeRole) | ${results.floorRps} |\n| floorP99Ms | ${results.floorP99Ms} |\n| tokenRps / floorRps | ${results.tokenToFloorRps} (rounds ${(results.tokenToFloorRoundRatios as number[]).join(', ')}) |`,
  );
  console.log(
    `| floorWithWriteRps (GetItem + AssumeRole + PutItem) | ${results.floorWithWriteRps} |\n| floorWithWriteP99Ms | ${results.floorWithWriteP99Ms} |\n| tokenRps / floorWithWriteRps | ${results.tokenToFloorWithWriteRps} |`,
  );
  console.log(
    `| tokenHandlerRps (the token handler on the floors' front, no API adapter) | ${results.tokenHandlerRps} |\n| tokenHandlerRps / floorWithWriteRps | ${results.tokenHandlerToFloorWithWriteRps} |`,
  );
  const fairness = results.fairness as {
    stsAssumeRoleRate: number;
    p99Bound: string;
    baseline: { ordinary: { attempts: number; delivered: number; p50Ms: number; p99Ms: number } };
    withAbuser: {
      ordinary: { attempts: number; delivered: number; p50Ms: number; p99Ms: number };
      abuser?: { attempts: number; delivered: number; byStatus: Record<string, number> };
    };
    p99Ratio: number;
  };
  console.log(`| token handler / floor (one read, one AssumeRole, one write) | ${results.tokenHandlerToFloor} |`);
  console.log(
    `| fairness (STS ${fairness.stsAssumeRoleRate} AssumeRole/s): ordinary refreshes delivered, alone / beside the abuser | ${fairness.baseline.ordinary.delivered}/${fairness.baseline.ordinary.attempts} / ${fairness.withAbuser.ordinary.delivered}/${fairness.withAbuser.ordinary.attempts} |`,
  );
  console.log(
    `| fairness: ordinary p50 / p99 ms, alone -> beside the abuser (bound: ${fairness.p99Bound}) | ${fairness.baseline.ordinary.p50Ms} / ${fairness.baseline.ordinary.p99Ms} -> ${fairness.withAbuser.ordinary.p50Ms} / ${fairness.withAbuser.ordinary.p99Ms} (x${fairness.p99Ratio}) |`,
  );
  console.log(
    `| fairness: the abuser's calls, delivered, 429 | ${fairness.withAbuser.abuser?.attempts}, ${fairness.withAbuser.abuser?.delivered}, ${fairness.withAbuser.abuser?.byStatus['429'] ?? 0} |`,
  );
  console.log(`| loginRps (bcrypt ${bcryptCost}) | ${results.loginRps} |`);
  console.log(
    `| soak: ${soakReport.virtualUsers} users, ${soakReport.seconds} s, ops/s | ${soakReport.opsPerSecond} |`,
  );
  console.log(`| soak errors | ${soakReport.errors} |\n| soak p99 ms | ${soakReport.p99Ms} |`);
  console.log(
    `| soak RSS after warm-up -> end (MB) | ${soakReport.rssAfterWarmupMb} -> ${soakReport.rssEndMb} (${soakReport.rssGrowthPercent} %) |`,
  );
  console.log(
    `\ngoals: ${Object.entries(results.goals)
      .map(([goal, met]) => `${goal} ${met ? 'met' : 'MISSED'}`)
      .join('; ')}`,
  );
  console.log(`written to bench/results.json (${results.durationSeconds} s)`);
}

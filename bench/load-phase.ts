/** One autocannon phase of a benchmark: a warm-up that is not counted, then the measured run. */
import autocannon from 'autocannon';
import { integerEnv } from './numbers';

/** The warm-up of every load phase, in seconds: BENCH_LOAD_WARMUP_SECONDS, default 10. */
export const LOAD_WARMUP_SECONDS = integerEnv('BENCH_LOAD_WARMUP_SECONDS', 10);

/** What a phase measured. Latencies are autocannon's, in whole milliseconds. */
export interface LoadPhaseResult {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** How long and how wide a phase runs. */
export interface LoadPhaseShape {
  readonly connections: number;
  readonly seconds: number;
  /**
   * Load before the measured run, so that V8 has optimised the hot paths of every thread
   * involved: a sandbox's /token throughput keeps rising for about ten seconds from a cold start.
   */
  readonly warmupSeconds: number;
}

/** Runs `options` for the warm-up, then again for the measured seconds. */
export async function loadPhase(
  name: string,
  options: autocannon.Options,
  shape: LoadPhaseShape,
): Promise<LoadPhaseResult> {
  if (shape.warmupSeconds > 0)
    await autocannon({ ...options, connections: shape.connections, duration: shape.warmupSeconds });
  const result = await autocannon({ ...options, connections: shape.connections, duration: shape.seconds });
  return {
    name,
    requests: result.requests.total,
    rps: Math.round(result.requests.average * 10) / 10,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    connections: shape.connections,
    seconds: shape.seconds,
    warmupSeconds: shape.warmupSeconds,
  };
}

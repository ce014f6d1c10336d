/**
 * One cold start of `npm run bench`: a fresh `node --enable-source-maps` process (as the
 * stack's NODE_OPTIONS) requires a bundle and answers one first event; the harness reports the
 * time to require it (init), the first event's time, and the time the first event left out
 * (excluded-time.ts: backend calls, when the timed-backends preload is loaded, and bcrypt, in
 * the bcrypt-timed builds). Samples of one variant are summarised by their medians.
 */
import { spawn } from 'node:child_process';
import { median, round } from './numbers';

/** The harness each cold-start process runs (written to a .cjs file): `node harness.cjs <bundle>`. */
export const HARNESS = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const mod = require(process.argv[2]);
const t1 = performance.now();
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 10000, callbackWaitsForEmptyEventLoop: false };
Promise.resolve(mod.handler(JSON.parse(process.env.BENCH_EVENT), context)).then((result) => {
  const t2 = performance.now();
  // The stopwatch of excluded-time.ts, when the preload or a timed bcrypt used it.
  const left = globalThis.__tvmBenchExcluded || { all: { ms: 0 }, kinds: {} };
  const kindMs = (kind) => (left.kinds[kind] ? left.kinds[kind].ms : 0);
  process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ initMs: t1 - t0, firstEventMs: t2 - t1, sinceProcessStartMs: t2, excludedMs: left.all.ms, bcryptMs: kindMs('bcrypt'), backendMs: kindMs('backend'), status: result && result.statusCode, ...(result && result.statusCode >= 400 ? { body: String(result.body).slice(0, 300) } : {}) }) + '\\n');
  process.exit(0);
}, (error) => {
  process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ error: String(error) }) + '\\n');
  process.exit(1);
});
`;

/** What one cold-start process reported. */
export interface ColdSample {
  readonly initMs: number;
  readonly firstEventMs: number;
  readonly sinceProcessStartMs: number;
  /** Wall time in backend calls or bcrypt (overlaps counted once); 0 when nothing was timed. */
  readonly excludedMs: number;
  /** Time in bcrypt's hash and compare, in the bcrypt-timed variants (else 0). */
  readonly bcryptMs: number;
  /** Time in DynamoDB and STS calls, with the timed-backends preload (else 0). */
  readonly backendMs: number;
  readonly status?: number;
  /** The answer's body, when it was a refusal (for the error message). */
  readonly body?: string;
  readonly error?: string;
}

/** Runs `bundlePath`'s handler once on `event` in a fresh node process, optionally with a preload. */
export function runCold(
  harness: string,
  bundlePath: string,
  env: Record<string, string>,
  event: unknown,
  preload?: string,
): Promise<ColdSample> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', ...(preload ? ['--require', preload] : []), harness, bundlePath],
      {
        env: { ...env, BENCH_EVENT: JSON.stringify(event) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
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

/** One variant's samples, by their medians. Where backend calls were timed, they are left out. */
export interface ColdResult {
  /** init + first event, without the backend calls' time. */
  readonly coldStartMs: number;
  readonly initMs: number;
  /** The first event without the backend calls' time. */
  readonly firstEventMs: number;
  readonly sinceProcessStartMs: number;
  /** The first event's time minus the time it spent in bcrypt or backend calls (median of the differences). */
  readonly firstEventWithoutBcryptMs: number;
  readonly bcryptMs: number;
  readonly backendMs: number;
  readonly statuses: readonly number[];
}

/** The medians of one variant's samples; throws if any process failed. */
export function summarise(samples: readonly ColdSample[]): ColdResult {
  const failed = samples.find((sample) => sample.error !== undefined);
  if (failed) throw new Error(`a cold start failed: ${failed.error}`);
  const ownFirstEvent = (sample: ColdSample) => sample.firstEventMs - sample.backendMs;
  return {
    coldStartMs: round(median(samples.map((sample) => sample.initMs + ownFirstEvent(sample)))),
    initMs: round(median(samples.map((sample) => sample.initMs))),
    firstEventMs: round(median(samples.map(ownFirstEvent))),
    sinceProcessStartMs: round(median(samples.map((sample) => sample.sinceProcessStartMs))),
    firstEventWithoutBcryptMs: round(median(samples.map((sample) => sample.firstEventMs - sample.excludedMs))),
    bcryptMs: round(median(samples.map((sample) => sample.bcryptMs))),
    backendMs: round(median(samples.map((sample) => sample.backendMs))),
    statuses: [...new Set(samples.map((sample) => sample.status ?? 0))],
  };
}

/** For a route that checks a password: its first event without the time bcrypt took, from the bcrypt-timed variant of the same run. */
export function withoutBcrypt(timed: ColdResult | undefined, baseline: ColdResult): Record<string, number> {
  if (!timed) return {};
  return {
    bcryptMs: timed.bcryptMs,
    firstEventWithoutBcryptMs: timed.firstEventWithoutBcryptMs,
    coldStartWithoutBcryptRatio: round((timed.initMs + timed.firstEventWithoutBcryptMs) / baseline.coldStartMs, 2),
  };
}

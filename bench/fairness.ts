/**
 * A fair share of STS, measured: ordinary sessions refresh their credentials on a (compressed)
 * schedule while one abusive session calls `POST /token` as fast as it can, against a sandbox
 * whose STS allows only a small account-wide AssumeRole rate (STS_ASSUME_ROLE_RATE). The same
 * ordinary schedule runs first without the abuser, so its latencies are the baseline.
 * Used by `npm run bench` (bench/run.ts) and by test/credentials/fairness.e2e.test.ts.
 */
import { percentile } from './numbers';

/** The scenario's shape. */
export interface FairnessShape {
  /** Ordinary sessions, each of its own user. */
  readonly ordinarySessions: number;
  /** Refreshes each ordinary session makes per phase. */
  readonly refreshesPerSession: number;
  /** The time between two refreshes of one session (the compressed schedule); starts are spread over one interval. */
  readonly refreshIntervalMs: number;
  /** The abuser's requests in flight at once, each sent as soon as the last one answered. */
  readonly abuserConcurrency: number;
}

/** What one population did in a phase. */
export interface PopulationResult {
  readonly attempts: number;
  /** 200s: credentials delivered. */
  readonly delivered: number;
  /** Answers by status, 200 included. */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** One phase: the ordinary sessions, and the abuser if there was one. */
export interface FairnessPhase {
  readonly ordinary: PopulationResult;
  readonly abuser?: PopulationResult;
  readonly seconds: number;
  /** Epoch ms at its start and end: the vend limits count per UTC minute, and a phase may span two. */
  readonly startedAt: number;
  readonly endedAt: number;
}

/** The run: the baseline phase, the phase with the abuser, and the figures compared. */
export interface FairnessResult {
  readonly shape: FairnessShape;
  readonly baseline: FairnessPhase;
  readonly withAbuser: FairnessPhase;
  /** Ordinary p99 with the abuser over the baseline's. */
  readonly p99Ratio: number;
}

/** The scenario of `npm run bench`: 50 ordinary sessions refreshing every 4 s, three times, and one abuser. */
export const BENCH_FAIRNESS_SHAPE: FairnessShape = {
  ordinarySessions: 50,
  refreshesPerSession: 3,
  refreshIntervalMs: 4_000,
  abuserConcurrency: 4,
};

const PASSWORD = 'correct horse battery staple';

async function postToken(apiUrl: string, token: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${apiUrl}/token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

async function registered(apiUrl: string, username: string): Promise<string> {
  const response = await fetch(`${apiUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const body = (await response.json()) as { session?: { token: string } };
  if (response.status !== 201 || !body.session) throw new Error(`register ${username}: ${response.status}`);
  return body.session.token;
}

/** Registers the ordinary users and the abuser (`prefix` keeps runs apart), a few at a time. */
export async function prepareFairness(
  apiUrl: string,
  shape: FairnessShape,
  prefix = 'fair',
): Promise<{ ordinary: string[]; abuser: string }> {
  const ordinary: string[] = [];
  const names = Array.from({ length: shape.ordinarySessions }, (_, index) => `${prefix}-o${index}`);
  for (let index = 0; index < names.length; index += 5)
    ordinary.push(...(await Promise.all(names.slice(index, index + 5).map((name) => registered(apiUrl, name)))));
  return { ordinary, abuser: await registered(apiUrl, `${prefix}-abuser`) };
}

function summarise(samples: readonly { status: number; ms: number }[]): PopulationResult {
  const byStatus: Record<string, number> = {};
  for (const sample of samples) byStatus[sample.status] = (byStatus[sample.status] ?? 0) + 1;
  const latencies = samples.map((sample) => sample.ms);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    attempts: samples.length,
    delivered: byStatus['200'] ?? 0,
    byStatus,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(0, ...latencies)),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One phase: every ordinary session refreshes `refreshesPerSession` times, `refreshIntervalMs`
 * apart (each starting at a random point of the first interval); with `abuser`, that session
 * calls /token as fast as it can until the ordinary sessions are done.
 */
export async function fairnessPhase(
  apiUrl: string,
  shape: FairnessShape,
  ordinary: readonly string[],
  abuser?: string,
): Promise<FairnessPhase> {
  const started = performance.now();
  const startedAt = Date.now();
  const ordinarySamples: { status: number; ms: number }[] = [];
  const abuserSamples: { status: number; ms: number }[] = [];
  let done = false;
  const abusing = abuser
    ? Promise.all(
        Array.from({ length: shape.abuserConcurrency }, async () => {
          while (!done) abuserSamples.push(await postToken(apiUrl, abuser));
        }),
      )
    : Promise.resolve([]);
  await Promise.all(
    ordinary.map(async (token) => {
      await sleep(Math.random() * shape.refreshIntervalMs);
      for (let refresh = 0; refresh < shape.refreshesPerSession; refresh++) {
        if (refresh > 0) await sleep(shape.refreshIntervalMs);
        ordinarySamples.push(await postToken(apiUrl, token));
      }
    }),
  );
  done = true;
  await abusing;
  return {
    ordinary: summarise(ordinarySamples),
    ...(abuser ? { abuser: summarise(abuserSamples) } : {}),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    startedAt,
    endedAt: Date.now(),
  };
}

/** Registers the users, runs the baseline phase, then the same schedule with the abuser. */
export async function measureFairness(apiUrl: string, shape: FairnessShape, prefix?: string): Promise<FairnessResult> {
  const { ordinary, abuser } = await prepareFairness(apiUrl, shape, prefix);
  const baseline = await fairnessPhase(apiUrl, shape, ordinary);
  // The same sessions again: the two phases together stay within vendsPerSessionPerMinute.
  const withAbuser = await fairnessPhase(apiUrl, shape, ordinary, abuser);
  return {
    shape,
    baseline,
    withAbuser,
    p99Ratio: Math.round((withAbuser.ordinary.p99Ms / Math.max(1, baseline.ordinary.p99Ms)) * 100) / 100,
  };
}

/** `npm run bench:fairness`: this part alone, against a sandbox child with a small STS rate. */
async function main(): Promise<void> {
  const { startSandboxProcess } = await import('./sandbox-process');
  const { integerEnv } = await import('./numbers');
  const rate = integerEnv('BENCH_FAIRNESS_STS_RATE', 30);
  const sandbox = await startSandboxProcess({ bcryptCost: 10, environment: { STS_ASSUME_ROLE_RATE: String(rate) } });
  try {
    console.log(
      JSON.stringify(
        { stsAssumeRoleRate: rate, ...(await measureFairness(sandbox.apiUrl, BENCH_FAIRNESS_SHAPE)) },
        null,
        2,
      ),
    );
  } finally {
    await sandbox.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/**
 * /token against its floor: the same autocannon load on a sandbox's POST /token and on the
 * floor (floor-handler.ts: one GetItem and one AssumeRole) served on function threads by a
 * child process against the same sandbox's DynamoDB and STS; and on the floor with the one
 * write /token must make (floor-write: the same and one PutItem); and on the token handler
 * itself served the floors' way, without the sandbox's API adapter. Used by `npm run bench`; on
 * its own, `npm run bench:token` runs only this part (about two minutes) and prints the ratios.
 */
import type autocannon from 'autocannon';
import { loadavg } from 'node:os';
import type { SandboxManifest } from '../local/manifest';
import { readSandboxSecrets, type LongTermKey } from '../local/secrets';
import { freePort } from '../scripts/dev/free-port';
import { PASSWORD, postJson, sessionToken } from './first-events';
import { LOAD_WARMUP_SECONDS, loadPhase, type LoadPhaseResult } from './load-phase';
import { integerEnv, median } from './numbers';
import {
  BENCH_LOAD_SANDBOX_ENVIRONMENT,
  BENCH_VEND_LIMITS,
  startNodeScript,
  startSandboxProcess,
  type SandboxProcess,
} from './sandbox-process';

/** How long each measured load runs, and its uncounted warm-up. */
export interface LoadTiming {
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** autocannon POSTs to `url` with `connections` connections. */
export function cannon(
  url: string,
  body: string | undefined,
  headers: Record<string, string>,
  connections: number,
  timing: LoadTiming,
) {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body ? { body } : {}),
  };
  return loadPhase(`POST ${new URL(url).pathname}`, options, { connections, ...timing });
}

/**
 * autocannon POSTs to `url`, each request with the next bearer token of `tokens` in turn, so
 * the load is spread over many sessions and users as real traffic is (and within each one's
 * vends per minute).
 */
export function cannonWithTokens(url: string, tokens: readonly string[], connections: number, timing: LoadTiming) {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    requests: rotatingBearer(tokens),
  };
  return loadPhase(`POST ${new URL(url).pathname}`, options, { connections, ...timing });
}

/** autocannon `requests` that give each request the next bearer token of `tokens` in turn. */
export function rotatingBearer(tokens: readonly string[]): autocannon.Request[] {
  let next = 0;
  return [
    {
      setupRequest: (request: autocannon.Request) => ({
        ...request,
        headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
      }),
    },
  ];
}

/** Users and sessions of the /token loads: 6 users of 20 sessions each. */
const LOAD_USERS = 6;
const LOAD_SESSIONS_PER_USER = 20;

/**
 * The sessions the /token loads rotate over: LOAD_USERS users (`bench-load-<n>`) with
 * LOAD_SESSIONS_PER_USER sessions each, so even several hundred requests a second stay within
 * each session's and user's vends per minute (BENCH_VEND_LIMITS).
 */
export async function loadSessions(apiUrl: string): Promise<string[]> {
  const perUser = await Promise.all(
    Array.from({ length: LOAD_USERS }, async (_, index) => {
      const username = `bench-load-${index}`;
      await postJson(`${apiUrl}/register`, { username, password: PASSWORD });
      const tokens: string[] = [];
      // One login at a time per user: parallel logins of one user would race its lockout counter.
      for (let session = 0; session < LOAD_SESSIONS_PER_USER; session++)
        tokens.push(await sessionToken(apiUrl, username));
      return tokens;
    }),
  );
  return perUser.flat();
}

/** The floor's environment: the functions' settings and key, the sandbox's backends. */
function floorEnvironment(manifest: SandboxManifest, functionKey: LongTermKey): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    TABLE_NAME: manifest.tableName,
    // The token handler's settings are the defaults, as the sandbox's; its logs are off, as there.
    BUCKET_NAME: manifest.bucketName,
    S3_ENDPOINT: manifest.s3Endpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    VENDING_ROLE_ARN: manifest.vendingRoleArn,
    AWS_REGION: manifest.region,
    AWS_ACCESS_KEY_ID: functionKey.accessKeyId,
    AWS_SECRET_ACCESS_KEY: functionKey.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: manifest.dynamoEndpoint,
    AWS_ENDPOINT_URL_STS: manifest.stsEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    // The token handler counts vends as the sandbox's does, under the same limits.
    ...BENCH_VEND_LIMITS,
  };
}

/** The floor served on function threads by a child process, against `sandbox`'s backends. */
async function startFloor(
  sandbox: SandboxProcess,
): Promise<{ url: string; writeUrl: string; tokenUrl: string; stop(): Promise<void> }> {
  const port = await freePort();
  const environment = floorEnvironment(sandbox.manifest, readSandboxSecrets(sandbox.dataDir).functionKey);
  const server = await startNodeScript(
    'bench/floor-server.ts',
    { ...process.env, FLOOR_PORT: String(port), FLOOR_ENVIRONMENT: JSON.stringify(environment) },
    'floor ready',
  );
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/floor`,
    writeUrl: `${base}/floor-write`,
    tokenUrl: `${base}/token`,
    stop: () => server.stop(),
  };
}

/** One target's phases combined: requests per second over every round, the median round's p99. */
export interface CombinedLoad {
  readonly rps: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** What {@link tokenAgainstFloor} measured. */
export interface TokenAgainstFloor {
  readonly token: CombinedLoad;
  /** GetItem + AssumeRole. */
  readonly floor: CombinedLoad;
  /** GetItem + AssumeRole + PutItem: the floor with /token's one write. */
  readonly floorWithWrite: CombinedLoad;
  /** The token handler on the floors' front (no sandbox API adapter): the handler's own cost. */
  readonly tokenHandler: CombinedLoad;
  /** token rps / floor rps over all rounds. */
  readonly ratio: number;
  /** token rps / floorWithWrite rps over all rounds. */
  readonly ratioToFloorWithWrite: number;
  /** tokenHandler rps / floorWithWrite rps over all rounds. */
  readonly handlerToFloorWithWrite: number;
  /** Each round's own token / floor ratio, to show the spread. */
  readonly roundRatios: readonly number[];
  readonly rounds: number;
  readonly secondsPerPhase: number;
  readonly warmupSeconds: number;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

function combine(phases: readonly LoadPhaseResult[]): CombinedLoad {
  const requests = phases.reduce((sum, phase) => sum + phase.requests, 0);
  const seconds = phases.reduce((sum, phase) => sum + phase.seconds, 0);
  return {
    rps: Math.round((requests / seconds) * 10) / 10,
    p99Ms: median(phases.map((phase) => phase.p99Ms)),
    non2xx: phases.reduce((sum, phase) => sum + phase.non2xx, 0),
    errors: phases.reduce((sum, phase) => sum + phase.errors, 0),
  };
}

type Target = 'token' | 'floor' | 'floorWithWrite' | 'tokenHandler';
const TARGETS: readonly Target[] = ['token', 'floor', 'floorWithWrite', 'tokenHandler'];

/**
 * /token (a fresh session of `bench-load`, registered here) against both floors, with the same
 * load, in `rounds` rounds of one phase each, the order rotating every round, after one
 * warm-up phase of each. A shared machine's load drifts over a minute; interleaving gives
 * each target the same share of it, which one long phase after another does not.
 */
export async function tokenAgainstFloor(
  sandbox: SandboxProcess,
  timing: LoadTiming & { readonly rounds: number },
): Promise<TokenAgainstFloor> {
  // The floors read bench-load's record; the token loads rotate over many sessions.
  await postJson(`${sandbox.apiUrl}/register`, { username: 'bench-load', password: PASSWORD });
  const sessions = await loadSessions(sandbox.apiUrl);
  const floor = await startFloor(sandbox);
  try {
    const urls: Record<Target, string> = {
      token: `${sandbox.apiUrl}/token`,
      floor: floor.url,
      floorWithWrite: floor.writeUrl,
      tokenHandler: floor.tokenUrl,
    };
    // Every target gets the session tokens: the floors ignore them.
    const phase = (which: Target, seconds: number) =>
      cannonWithTokens(urls[which], sessions, CONNECTIONS, { seconds, warmupSeconds: 0 });
    for (const which of TARGETS) await phase(which, timing.warmupSeconds);
    const measured: Record<Target, LoadPhaseResult[]> = { token: [], floor: [], floorWithWrite: [], tokenHandler: [] };
    for (let index = 0; index < timing.rounds; index++) {
      const order = [...TARGETS.slice(index % TARGETS.length), ...TARGETS.slice(0, index % TARGETS.length)];
      if (Math.floor(index / TARGETS.length) % 2 === 1) order.reverse();
      for (const which of order) measured[which].push(await phase(which, timing.seconds));
    }
    const [token, floorOnly, floorWithWrite, tokenHandler] = TARGETS.map((which) => combine(measured[which])) as [
      CombinedLoad,
      CombinedLoad,
      CombinedLoad,
      CombinedLoad,
    ];
    return {
      token,
      floor: floorOnly,
      floorWithWrite,
      tokenHandler,
      ratio: round2(token.rps / floorOnly.rps),
      ratioToFloorWithWrite: round2(token.rps / floorWithWrite.rps),
      handlerToFloorWithWrite: round2(tokenHandler.rps / floorWithWrite.rps),
      roundRatios: measured.token.map((phase, index) =>
        round2(phase.rps / (measured.floor[index] as LoadPhaseResult).rps),
      ),
      rounds: timing.rounds,
      secondsPerPhase: timing.seconds,
      warmupSeconds: timing.warmupSeconds,
    };
  } finally {
    await floor.stop();
  }
}

/** Connections per phase: enough to keep both function threads busy. */
const CONNECTIONS = 10;

/** The rounds' shape: BENCH_ROUNDS (4) rounds of BENCH_ROUND_SECONDS (5) per target, after the load warm-up. */
export const TOKEN_FLOOR_TIMING = {
  seconds: integerEnv('BENCH_ROUND_SECONDS', 5),
  warmupSeconds: LOAD_WARMUP_SECONDS,
  rounds: integerEnv('BENCH_ROUNDS', 4),
} as const;

async function main(): Promise<void> {
  console.log(
    `load average at start: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  const sandbox = await startSandboxProcess({ bcryptCost: 10, environment: BENCH_LOAD_SANDBOX_ENVIRONMENT });
  try {
    const result = await tokenAgainstFloor(sandbox, TOKEN_FLOOR_TIMING);
    console.log(
      `/token ${result.token.rps} req/s (p99 ${result.token.p99Ms} ms, non-2xx ${result.token.non2xx}, errors ${result.token.errors})`,
    );
    console.log(
      `floor  ${result.floor.rps} req/s (p99 ${result.floor.p99Ms} ms, non-2xx ${result.floor.non2xx}, errors ${result.floor.errors})`,
    );
    console.log(
      `floor with the write ${result.floorWithWrite.rps} req/s (p99 ${result.floorWithWrite.p99Ms} ms, non-2xx ${result.floorWithWrite.non2xx}, errors ${result.floorWithWrite.errors})`,
    );
    console.log(
      `token handler without the API adapter ${result.tokenHandler.rps} req/s (p99 ${result.tokenHandler.p99Ms} ms, non-2xx ${result.tokenHandler.non2xx}, errors ${result.tokenHandler.errors})`,
    );
    console.log(
      `tokenRps / floorWithWriteRps = ${result.ratioToFloorWithWrite}; token handler / floorWithWrite = ${result.handlerToFloorWithWrite}`,
    );
    console.log(
      `tokenRps / floorRps = ${result.ratio} over ${result.rounds} rounds of ${result.secondsPerPhase} s (each round: ${result.roundRatios.join(', ')}; goal at least 0.8)`,
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

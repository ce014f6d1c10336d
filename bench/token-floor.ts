/**
 * /token against its floor: the same autocannon load on a sandbox's POST /token and on the
 * floor (floor-handler.ts: one GetItem and one AssumeRole) served on function threads by a
 * child process against the same sandbox's DynamoDB and STS. Used by `npm run bench`; on its
 * own, `npm run bench:token` runs only this part (about a minute) and prints the ratio.
 */
import { loadavg } from 'node:os';
import type { SandboxManifest } from '../local/manifest';
import { readSandboxSecrets, type LongTermKey } from '../local/secrets';
import { freePort } from '../test/e2e/helpers';
import { PASSWORD, postJson, sessionToken } from './first-events';
import { loadPhase, type LoadPhaseResult } from './load-phase';
import { startNodeScript, startSandboxProcess, type SandboxProcess } from './sandbox-process';

/** How long each measured load runs, and its uncounted warm-up. */
export interface LoadTiming {
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** autocannon POSTs to `url` with `connections` connections. */
export function cannon(url: string, body: string | undefined, headers: Record<string, string>, connections: number, timing: LoadTiming) {
  const options = { url, method: 'POST' as const, headers: { 'content-type': 'application/json', ...headers }, ...(body ? { body } : {}) };
  return loadPhase(`POST ${new URL(url).pathname}`, options, { connections, ...timing });
}

/** The floor's environment: the functions' settings and key, the sandbox's backends. */
function floorEnvironment(manifest: SandboxManifest, functionKey: LongTermKey): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    TABLE_NAME: manifest.tableName,
    VENDING_ROLE_ARN: manifest.vendingRoleArn,
    AWS_REGION: manifest.region,
    AWS_ACCESS_KEY_ID: functionKey.accessKeyId,
    AWS_SECRET_ACCESS_KEY: functionKey.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: manifest.dynamoEndpoint,
    AWS_ENDPOINT_URL_STS: manifest.stsEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The floor's throughput against `sandbox`'s backends, with /token's load shape. */
export async function floorLoad(sandbox: SandboxProcess, timing: LoadTiming): Promise<LoadPhaseResult> {
  const port = await freePort();
  const environment = floorEnvironment(sandbox.manifest, readSandboxSecrets(sandbox.dataDir).functionKey);
  const server = await startNodeScript('bench/floor-server.ts', { ...process.env, FLOOR_PORT: String(port), FLOOR_ENVIRONMENT: JSON.stringify(environment) }, 'floor ready');
  try {
    return await cannon(`http://127.0.0.1:${port}/floor`, undefined, {}, 10, timing);
  } finally {
    await server.stop();
  }
}

/** /token's throughput for a fresh session of the user `bench-load` (registered here). */
export async function tokenLoad(sandbox: SandboxProcess, timing: LoadTiming): Promise<LoadPhaseResult> {
  await postJson(`${sandbox.apiUrl}/register`, { username: 'bench-load', password: PASSWORD });
  const token = await sessionToken(sandbox.apiUrl, 'bench-load');
  return cannon(`${sandbox.apiUrl}/token`, undefined, { authorization: `Bearer ${token}` }, 10, timing);
}

async function main(): Promise<void> {
  const timing = { seconds: Number(process.env.BENCH_SECONDS ?? 10), warmupSeconds: Number(process.env.BENCH_LOAD_WARMUP_SECONDS ?? 10) };
  console.log(`load average at start: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  const sandbox = await startSandboxProcess({ bcryptCost: 10 });
  try {
    const token = await tokenLoad(sandbox, timing);
    const floor = await floorLoad(sandbox, timing);
    console.log(`/token ${token.rps} req/s (p99 ${token.p99Ms} ms, non-2xx ${token.non2xx}, errors ${token.errors})`);
    console.log(`floor  ${floor.rps} req/s (p99 ${floor.p99Ms} ms, non-2xx ${floor.non2xx}, errors ${floor.errors})`);
    console.log(`tokenRps / floorRps = ${(token.rps / floor.rps).toFixed(2)} (goal at least 0.8)`);
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

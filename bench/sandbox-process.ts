/**
 * The sandbox as users run it (`npm start`, i.e. local/main.ts in its own node process), for
 * the benchmarks: the load generator then never shares an event loop or a thread with what
 * it measures, and the process's RSS is the sandbox's alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SANDBOX_MANIFEST, type SandboxManifest } from '../local/manifest';
import { SETTINGS } from '../lambda/platform/settings';
import { MAX_ASSUME_ROLE_RATE } from '../local/sts/rate';
import { freePort } from '../scripts/dev/free-port';

const ROOT = resolve(__dirname, '..');

/** A sandbox running in a child process, in a temporary data folder. */
export interface SandboxProcess {
  readonly apiUrl: string;
  readonly s3Url: string;
  /** The node process running local/main.ts. */
  readonly pid: number;
  /** What it wrote to its data folder for tvm-admin: names and internal endpoints. */
  readonly manifest: SandboxManifest;
  /** Its data folder (secrets.json holds the functions' key). */
  readonly dataDir: string;
  /** Stops it with SIGTERM (as Ctrl-C would) and deletes its data folder. */
  stop(): Promise<void>;
}

/** Options of {@link startSandboxProcess}. */
export interface SandboxProcessOptions {
  /** BCRYPT_COST for new passwords. */
  readonly bcryptCost: number;
  /**
   * Whether each route's throttle (API Gateway's, docs/deploying.md#throttles) applies. Default
   * false: the benchmarks measure the handlers, and a load past a route's limit would time 429s.
   */
  readonly routeThrottles?: boolean;
  /** More environment for the sandbox (its functions' settings, STS_ASSUME_ROLE_RATE). */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * The vend limits of the throughput sandboxes: each setting's maximum, so the loads that
 * measure /token's cost (many calls per session and user each minute) are not refused by the
 * limits they measure the cost of. The fairness part keeps the defaults.
 */
export const BENCH_VEND_LIMITS: Readonly<Record<string, string>> = {
  [SETTINGS.vendsPerSessionPerMinute.variable]: String(settingMaximum('vendsPerSessionPerMinute')),
  [SETTINGS.vendsPerUserPerMinute.variable]: String(settingMaximum('vendsPerUserPerMinute')),
};

/**
 * The environment of the sandboxes that measure throughput (the /token loads, the soak): the
 * vend limits at their maxima, and the local STS's account-wide AssumeRole rate at its
 * highest, since a quiet machine's floor vends more than AWS's default 600 a second and these
 * loads measure CPU cost, not the quota (the fairness part measures that).
 */
export const BENCH_LOAD_SANDBOX_ENVIRONMENT: Readonly<Record<string, string>> = {
  ...BENCH_VEND_LIMITS,
  STS_ASSUME_ROLE_RATE: String(MAX_ASSUME_ROLE_RATE),
};

/** The largest value a whole-number setting accepts, read from its rule. */
function settingMaximum(key: 'vendsPerSessionPerMinute' | 'vendsPerUserPerMinute'): number {
  const match = /to (\d+)$/.exec(SETTINGS[key].rule);
  if (!match) throw new Error(`no maximum in the rule of ${key}`);
  return Number(match[1]);
}

/** Resident set size of a process, in KiB (Linux). */
export function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** A node child process of the benchmark that runs until stopped. */
interface ChildProcess {
  readonly pid: number;
  /** SIGTERM, as Ctrl-C would; resolves once it exited (or after 15 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <script>` from the repository root with `env`; resolves once it
 * prints `readyText`, rejects (and stops it) if it exits or does not within 60 s.
 */
export async function startNodeScript(
  script: string,
  env: NodeJS.ProcessEnv,
  readyText: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((wait) => setTimeout(wait, 15_000))]);
    }
  };
  let output = '';
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${script} did not start in 60 s: ${output.slice(-500)}`)), 60_000);
      // Only the start-up output is kept, for the error message.
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes(readyText)) return;
        clearTimeout(timer);
        child.stdout?.off('data', collect);
        child.stderr?.off('data', collect);
        ready();
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`${script} exited (${code}): ${output.slice(-500)}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  // Keep draining its output so a full pipe never stalls it.
  child.stdout?.resume();
  child.stderr?.resume();
  return { pid: child.pid as number, stop };
}

/** Starts `node --import tsx local/main.ts` on free loopback ports; resolves once it prints that it runs. */
export async function startSandboxProcess(options: SandboxProcessOptions): Promise<SandboxProcess> {
  const [port, s3Port] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'tvm-bench-sandbox-'));
  const env = {
    ...process.env,
    PORT: String(port),
    S3_PORT: String(s3Port),
    // The dev identity provider on any free port (its default, 3002, may be taken by a running `npm start`).
    OIDC_PORT: '0',
    TVM_DATA_DIR: dataDir,
    BCRYPT_COST: String(options.bcryptCost),
    TVM_LOG: '0',
    TVM_THROTTLES: options.routeThrottles === true ? 'on' : 'off',
    ...options.environment,
  };
  let child: ChildProcess;
  try {
    child = await startNodeScript('local/main.ts', env, 'TVM sandbox running');
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const manifest = JSON.parse(readFileSync(join(dataDir, SANDBOX_MANIFEST), 'utf8')) as SandboxManifest;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    s3Url: `http://127.0.0.1:${s3Port}`,
    pid: child.pid,
    manifest,
    dataDir,
    stop,
  };
}

/**
 * `npm run bench:local`: load through the local sandbox with autocannon, on loopback only.
 * Not a test; never part of `npm test`.
 *
 * 1. `POST /token` through the whole sandbox (API adapter, handler, dynalite, local STS), run
 *    as `npm start` runs it, in its own process, so the load generator does not share its
 *    threads. Goal on a 2-core machine: at least 300 requests/s with p99 under 100 ms.
 * 2. S3 GET of a 1 KiB object, against s3rver directly (unsigned) and through the S3 gate
 *    (SigV4 verification, session lookup, two-policy IAM evaluation, forwarding), in the
 *    same run against the same s3rver. Goal: the gate adds under 2 ms at p50.
 * 3. S3 PUT of 1 KiB to one key through the gate (each one a whole atomic commit in the
 *    emulator's store), the write throughput docs/sandbox.md records.
 *
 * The S3 comparison uses its own s3rver, gate and STS (the sandbox keeps s3rver internal),
 * built from the same modules, with credentials vended by the local STS for the real
 * session policy. Each phase is bounded in time (BENCH_SECONDS, default 10, after
 * BENCH_WARMUP_SECONDS of the same load, default 10, not counted) and connections
 * (BENCH_CONNECTIONS, default 10). Nothing is written into the repository.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type autocannon from 'autocannon';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bucketArn,
  renderSessionPolicy,
  renderVendingRolePolicy,
  serialiseSessionPolicy,
} from '../lambda/credentials/policy';
import type { Username } from '../lambda/accounts/username';
import { SANDBOX_BUCKET, SANDBOX_REGION, SANDBOX_VENDING_ROLE_ARN } from '../local/names';
import { loadOrCreateSandboxSecrets } from '../local/secrets';
import { startS3Gate } from '../local/s3/gate';
import { startS3Emulator } from '../local/s3/emulator/supervisor';
import { SessionStore } from '../local/sts/session-store';
import { startSts } from '../local/sts/server';
import { loadPhase, type LoadPhaseResult } from './load-phase';
import { BENCH_LOAD_SANDBOX_ENVIRONMENT, startSandboxProcess } from './sandbox-process';
import { loadSessions, rotatingBearer } from './token-floor';

const SECONDS = positiveInteger(process.env.BENCH_SECONDS, 10);
const CONNECTIONS = positiveInteger(process.env.BENCH_CONNECTIONS, 10);
const WARMUP_SECONDS = positiveInteger(process.env.BENCH_WARMUP_SECONDS, 10);

function positiveInteger(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 && value <= 600 ? value : fallback;
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** node:crypto as the Hash the Smithy signer wants. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  reset(): void {
    // The signer makes a fresh instance per digest; nothing to reset.
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** One request at a time over a kept-alive connection, timed to the microsecond. */
async function sequentialLatency(
  url: string,
  headers: Record<string, string>,
  count: number,
  socketPath?: string,
): Promise<{ p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const timings: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  try {
    for (let i = 0; i < count && Date.now() < deadline; i++) {
      const started = performance.now();
      await new Promise<void>((done, fail) => {
        const req = request(url, { headers, agent, ...(socketPath ? { socketPath } : {}) }, (res) => {
          if (res.statusCode !== 200) fail(new Error(`${url} answered ${res.statusCode}`));
          res.resume();
          res.on('end', () => done());
        });
        req.on('error', fail);
        req.end();
      });
      timings.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
  }
  timings.sort((a, b) => a - b);
  const at = (q: number) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

function load(name: string, options: autocannon.Options, connections = CONNECTIONS): Promise<LoadPhaseResult> {
  return loadPhase(name, options, { connections, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS });
}

function printTable(rows: readonly LoadPhaseResult[]): void {
  const header = ['phase', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx'];
  const lines = rows.map((r) => [
    r.name,
    String(r.requests),
    r.rps.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.errors),
    String(r.non2xx),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

async function benchToken(): Promise<LoadPhaseResult> {
  // The vend limits at their maxima and many sessions: this measures /token's cost, not its limits.
  const sandbox = await startSandboxProcess({ bcryptCost: 10, environment: BENCH_LOAD_SANDBOX_ENVIRONMENT });
  try {
    const sessions = await loadSessions(sandbox.apiUrl);
    return await load('POST /token (sandbox)', {
      url: `${sandbox.apiUrl}/token`,
      method: 'POST',
      requests: rotatingBearer(sessions),
    });
  } finally {
    await sandbox.stop();
  }
}

interface S3Result {
  readonly rows: LoadPhaseResult[];
  /** Sequential p50/p99 in ms, the emulator alone and through the gate. */
  readonly direct: { p50: number; p99: number };
  readonly gated: { p50: number; p99: number };
}

async function benchS3(dataDir: string): Promise<S3Result> {
  const emulator = await startS3Emulator(join(dataDir, 's3'));
  const { functionKey } = loadOrCreateSandboxSecrets(dataDir);
  const sessions = new SessionStore(undefined);
  const sts = await startSts({ sessions, functionKey });
  const gate = await startS3Gate({
    sessions,
    vendingRolePolicy: renderVendingRolePolicy(bucketArn(SANDBOX_BUCKET)),
    upstreamSocket: emulator.socketPath,
  });
  const stsClient = new STSClient({ region: SANDBOX_REGION, endpoint: sts.url, credentials: functionKey });
  try {
    const path = `/${SANDBOX_BUCKET}/bench/object.bin`;
    // The emulator serves a Unix socket only: the direct phases talk to it there.
    await new Promise<void>((done, fail) => {
      const put = request(
        {
          socketPath: emulator.socketPath,
          path,
          method: 'PUT',
          headers: { host: 'localhost', 'content-length': '1024' },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? done()
              : fail(new Error(`the emulator answered ${res.statusCode} to the seed PUT`)),
          );
        },
      );
      put.on('error', fail);
      put.end(Buffer.alloc(1024, 7));
    });

    const { Credentials } = await stsClient.send(
      new AssumeRoleCommand({
        RoleArn: SANDBOX_VENDING_ROLE_ARN,
        RoleSessionName: 'bench',
        SourceIdentity: 'bench',
        Policy: serialiseSessionPolicy(renderSessionPolicy(bucketArn(SANDBOX_BUCKET), 'bench' as Username)),
        DurationSeconds: 3600,
        Tags: [{ Key: 'username', Value: 'bench' }],
      }),
    );
    const gatePort = Number(new URL(gate.url).port);
    const signer = new SignatureV4({
      service: 's3',
      region: SANDBOX_REGION,
      sha256: NodeSha256,
      uriEscapePath: false,
      credentials: {
        accessKeyId: Credentials!.AccessKeyId!,
        secretAccessKey: Credentials!.SecretAccessKey!,
        sessionToken: Credentials!.SessionToken!,
      },
    });
    // One signature serves the whole phase: S3 accepts a signed request for 15 minutes.
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: gatePort,
      path,
      query: {},
      headers: { host: `127.0.0.1:${gatePort}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const check = await fetch(`${gate.url}${path}`, { headers: signed.headers });
    if (check.status !== 200)
      throw new Error(`the signed GET through the gate answered ${check.status}: ${await check.text()}`);

    // A PUT of 1 KiB to one key, signed once (UNSIGNED-PAYLOAD), overwriting it each time.
    const putPath = `/${SANDBOX_BUCKET}/bench/put.bin`;
    const putBody = Buffer.alloc(1024, 9);
    const signedPut = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: gatePort,
      path: putPath,
      query: {},
      headers: { host: `127.0.0.1:${gatePort}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const putCheck = await fetch(`${gate.url}${putPath}`, { method: 'PUT', headers: signedPut.headers, body: putBody });
    if (putCheck.status !== 200)
      throw new Error(`the signed PUT through the gate answered ${putCheck.status}: ${await putCheck.text()}`);

    const directUrl = `http://localhost${path}`;
    const direct = { url: directUrl, socketPath: emulator.socketPath };
    const rows = [
      await load('S3 GET, emulator alone', direct),
      await load('S3 GET, through the gate', { url: `${gate.url}${path}`, headers: signed.headers }),
      // One connection: the latency the gate adds per request, without queueing.
      await load('S3 GET, emulator alone, 1 connection', direct, 1),
      await load('S3 GET, through the gate, 1 connection', { url: `${gate.url}${path}`, headers: signed.headers }, 1),
      await load('S3 PUT 1 KiB, through the gate', {
        url: `${gate.url}${putPath}`,
        method: 'PUT',
        headers: signedPut.headers,
        body: putBody,
      }),
    ];
    // autocannon reports whole milliseconds; time the same requests finer, alternating rounds so drift hits both.
    const directRuns: { p50: number; p99: number }[] = [];
    const gatedRuns: { p50: number; p99: number }[] = [];
    for (let round = 0; round < 3; round++) {
      directRuns.push(await sequentialLatency(directUrl, {}, 1000, emulator.socketPath));
      gatedRuns.push(await sequentialLatency(`${gate.url}${path}`, signed.headers, 1000));
    }
    const median = (runs: { p50: number; p99: number }[], key: 'p50' | 'p99') =>
      [...runs].sort((a, b) => a[key] - b[key])[1]?.[key] ?? Number.NaN;
    return {
      rows,
      direct: { p50: median(directRuns, 'p50'), p99: median(directRuns, 'p99') },
      gated: { p50: median(gatedRuns, 'p50'), p99: median(gatedRuns, 'p99') },
    };
  } finally {
    stsClient.destroy();
    // Let the last in-flight requests of the load generator finish before closing.
    await new Promise((wait) => setTimeout(wait, 300));
    await gate.close();
    sts.server.closeAllConnections();
    await new Promise<void>((done) => sts.server.close(() => done()));
    await emulator.close();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tvm-bench-'));
  console.log(
    `bench:local on ${cpus().length} CPU(s), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ` + `${WARMUP_SECONDS} s warm-up and ${SECONDS} s measured per phase, ${CONNECTIONS} connections`,
  );
  try {
    const token = await benchToken();
    const s3 = await benchS3(dataDir);
    console.log('');
    printTable([token, ...s3.rows]);
    console.log('');
    console.log(
      `S3 GET one at a time (median of 3 x 1000): emulator alone p50 ${s3.direct.p50.toFixed(3)} ms p99 ${s3.direct.p99.toFixed(3)} ms; ` +
        `through the gate p50 ${s3.gated.p50.toFixed(3)} ms p99 ${s3.gated.p99.toFixed(3)} ms`,
    );
    const added = s3.gated.p50 - s3.direct.p50;
    console.log(
      `/token: ${token.rps.toFixed(0)} req/s (goal >= 300), p99 ${token.p99Ms.toFixed(1)} ms (goal < 100): ${token.rps >= 300 && token.p99Ms < 100 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `the gate adds ${added.toFixed(3)} ms at p50 over the emulator alone (goal < 2 ms): ${added < 2 ? 'met' : 'NOT met'}`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

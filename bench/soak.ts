/**
 * The soak of `npm run bench`: virtual users against a sandbox child process, each registering
 * and then looping over weighted operations (40 % token, 20 % S3 put, 20 % get, 14 % list,
 * 2 % delete, 2.5 % login, 1.5 % register) with a think time of 0.2-0.6 s; errors, latencies,
 * and the sandbox process's RSS after the warm-up and at the end.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import { PASSWORD, postJson } from './first-events';
import { percentile, round } from './numbers';
import { rssKb } from './sandbox-process';

interface SoakStats {
  ops: number;
  errors: number;
  errorSamples: string[];
  latencies: Record<string, number[]>;
}

/** One virtual user: registers, then loops over weighted operations with a think time. */
async function virtualUser(apiUrl: string, index: number, until: () => boolean, stats: () => SoakStats): Promise<void> {
  const username = `soak-${index}-${Date.now().toString(36)}`;
  type Vended = {
    session: { token: string };
    credentials: Record<string, string>;
    storage: { bucket: string; prefix: string; region: string; endpoint?: string };
  };
  let vended = {} as Vended;
  let s3: S3Client | undefined;
  const record = async (op: string, action: () => Promise<boolean>) => {
    const started = performance.now();
    const current = stats();
    try {
      const ok = await action();
      if (!ok) throw new Error(`${op} answered unexpectedly`);
    } catch (error) {
      current.errors++;
      if (current.errorSamples.length < 10)
        current.errorSamples.push(`${op}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      current.ops++;
      (current.latencies[op] ??= []).push(performance.now() - started);
    }
  };
  const useCredentials = () => {
    s3?.destroy();
    s3 = new S3Client({
      region: vended.storage.region,
      endpoint: vended.storage.endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      credentials: {
        accessKeyId: vended.credentials.accessKeyId as string,
        secretAccessKey: vended.credentials.secretAccessKey as string,
        sessionToken: vended.credentials.sessionToken as string,
      },
    });
  };
  await record('register', async () => {
    const { status, json } = await postJson(`${apiUrl}/register`, { username, password: PASSWORD });
    vended = json as Vended;
    return status === 201;
  });
  if (!vended.session) return;
  useCredentials();
  let object = 0;
  while (!until()) {
    const dice = Math.random() * 100;
    const bucket = vended.storage.bucket;
    const key = `${vended.storage.prefix}file-${object % 5}.txt`;
    if (dice < 40) {
      await record('token', async () => {
        const { status, json } = await postJson(`${apiUrl}/token`, undefined, vended.session.token);
        if (status === 200) {
          vended = { ...vended, credentials: json.credentials as Record<string, string> };
          useCredentials();
        }
        return status === 200;
      });
    } else if (dice < 60) {
      object++;
      await record(
        's3-put',
        async () =>
          (await s3!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `hello ${object}` }))).$metadata
            .httpStatusCode === 200,
      );
    } else if (dice < 80) {
      await record('s3-get', async () => {
        try {
          const answer = await s3!.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          await answer.Body?.transformToString();
          return true;
        } catch (error) {
          return (error as { name?: string }).name === 'NoSuchKey';
        }
      });
    } else if (dice < 94) {
      await record(
        's3-list',
        async () =>
          (await s3!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: vended.storage.prefix }))).$metadata
            .httpStatusCode === 200,
      );
    } else if (dice < 96) {
      await record(
        's3-delete',
        async () =>
          (await s3!.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))).$metadata.httpStatusCode === 204,
      );
    } else if (dice < 98.5) {
      await record(
        'login',
        async () => (await postJson(`${apiUrl}/login`, { username, password: PASSWORD })).status === 200,
      );
    } else {
      await record(
        'register',
        async () =>
          (await postJson(`${apiUrl}/register`, { username: `${username}-${++object}`, password: PASSWORD })).status ===
          201,
      );
    }
    await new Promise((wait) => setTimeout(wait, 200 + Math.random() * 400));
  }
  s3?.destroy();
}

/** How the soak runs: BENCH_SOAK_SECONDS, BENCH_WARMUP_SECONDS and BENCH_VUS in `npm run bench`. */
export interface SoakShape {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly virtualUsers: number;
}

/**
 * `shape.virtualUsers` users against the sandbox at `apiUrl` for a warm-up, then for the
 * measured seconds: operations, errors, latencies, and the sandbox process's (`pid`) RSS.
 */
export async function soak(apiUrl: string, pid: number, shape: SoakShape) {
  const { seconds, warmupSeconds, virtualUsers } = shape;
  const fresh = (): SoakStats => ({ ops: 0, errors: 0, errorSamples: [], latencies: {} });
  let stats = fresh();
  const warmupEnds = Date.now() + warmupSeconds * 1000;
  const soakEnds = warmupEnds + seconds * 1000;
  const users = Array.from({ length: virtualUsers }, (_, index) =>
    virtualUser(
      apiUrl,
      index,
      () => Date.now() >= soakEnds,
      () => stats,
    ),
  );
  await new Promise((wait) => setTimeout(wait, Math.max(0, warmupEnds - Date.now())));
  const warmup = stats;
  stats = fresh();
  const rssAfterWarmupKb = rssKb(pid);
  const rssSamplesKb: number[] = [rssAfterWarmupKb];
  const sampler = setInterval(() => rssSamplesKb.push(rssKb(pid)), 5000);
  await Promise.all(users);
  clearInterval(sampler);
  const rssEndKb = rssKb(pid);
  rssSamplesKb.push(rssEndKb);
  const all = Object.values(stats.latencies).flat();
  const byOp = Object.fromEntries(
    Object.entries(stats.latencies).map(([op, values]) => [
      op,
      { count: values.length, p50Ms: round(percentile(values, 50)), p99Ms: round(percentile(values, 99)) },
    ]),
  );
  return {
    virtualUsers,
    seconds,
    warmupSeconds,
    warmupOps: warmup.ops,
    warmupErrors: warmup.errors,
    ops: stats.ops,
    opsPerSecond: round(stats.ops / seconds),
    errors: stats.errors,
    errorSamples: stats.errorSamples,
    p50Ms: round(percentile(all, 50)),
    p99Ms: round(percentile(all, 99)),
    byOperation: byOp,
    rssAfterWarmupMb: round(rssAfterWarmupKb / 1024),
    rssEndMb: round(rssEndKb / 1024),
    rssGrowthPercent: round(((rssEndKb - rssAfterWarmupKb) / rssAfterWarmupKb) * 100),
    rssSamplesMb: rssSamplesKb.map((kb) => round(kb / 1024)),
  };
}

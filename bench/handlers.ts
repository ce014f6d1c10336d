/**
 * `npm run bench:handlers`: warm, in-process latency of the real handler modules
 * (lambda/handlers/*.ts, full middy chain, core service, DynamoDB and STS adapters) against
 * dynalite in this process (scripts/dev/dynalite.ts, the integration tests' DynamoDB) and a
 * fake STS AssumeRole (aws-sdk-client-mock, fake-sts.ts). Not a test; never part of `npm test`.
 *
 * What is measured, per request: from calling `handler(event, context)` to its resolved
 * result, once in full and once as the handler's own time: the full time minus the wall time
 * a DynamoDB or STS call was in flight (excluded-time.ts), so the SDK's own work (marshalling,
 * signing, HTTP) and dynalite's are left out of it. API Gateway and bcrypt are not included.
 * bcrypt is measured on its own at the configured cost (BCRYPT_COST, default
 * 12): register and login are timed with bcryptjs's hash/compare swapped for instant stubs,
 * and a few full runs with real bcrypt check that full ≈ overhead + bcrypt.
 *
 * Environment: BCRYPT_COST (default 12), BENCH_ITERATIONS (token/logout, default 2000),
 * BENCH_BCRYPT_RUNS (default 5). Logs are produced at INFO (the deployed level) and discarded.
 */
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
// Static, so it is the same module instance lambda/accounts/password.ts requires (a dynamic import
// would load bcryptjs's separate ESM build, and stubbing it would not reach the handlers).
import bcryptModule from 'bcryptjs';
import { startDynalite } from '../scripts/dev/dynalite';
import { excludedTime, timeBackendCalls } from './excluded-time';
import { fakeAssumeRole } from './fake-sts';
import { BENCH_VEND_LIMITS } from './sandbox-process';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

// Configuration must be in place before the handler modules load (they read it at import).
process.env.BCRYPT_COST ??= '12';
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
const TABLE = 'tvm-bench-users';

const TOKEN_ITERATIONS = positiveInteger(process.env.BENCH_ITERATIONS, 2000);
/** Sessions the token loop takes in turn: 20 x 600 vends a minute is more than it makes. */
const TOKEN_SESSIONS = 20;
const BCRYPT_RUNS = positiveInteger(process.env.BENCH_BCRYPT_RUNS, 5);
const PHASE_BUDGET_MS = 20_000;

function positiveInteger(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

// ---------------------------------------------------------------------------------------------
// Events, context, statistics.

const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'tvm-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:tvm-bench',
  memoryLimitInMB: '1024',
  awsRequestId: 'bench-request',
  logGroupName: '/aws/lambda/tvm-bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as unknown as Context;

function event(path: string, options: { body?: unknown; token?: string }): APIGatewayProxyEvent {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Origin: 'https://app.example.com' };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  return {
    httpMethod: 'POST',
    path,
    resource: path,
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', stage: 'bench' } as APIGatewayProxyEvent['requestContext'],
  };
}

/** Each invocation's full time, and its own time: the full time minus the backend waits. */
interface Samples {
  readonly full: number[];
  readonly own: number[];
}

interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

/** Discards stdout while `run` is going (the logger writes JSON lines there), restoring it after. */
async function withoutStdout<T>(run: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await run();
  } finally {
    process.stdout.write = write;
  }
}

/** Invokes `handler` `count` times (within the phase's time budget); `make` prepares each event, untimed. */
async function timed(
  handler: Handler,
  make: (i: number) => APIGatewayProxyEvent | Promise<APIGatewayProxyEvent>,
  count: number,
  expect: number,
): Promise<Samples> {
  const samples: Samples = { full: [], own: [] };
  const deadline = performance.now() + PHASE_BUDGET_MS;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const request = await make(i);
    const waitedBefore = excludedTime().totalMs;
    const start = performance.now();
    const response = await handler(request, context);
    const elapsed = performance.now() - start;
    samples.full.push(elapsed);
    samples.own.push(elapsed - (excludedTime().totalMs - waitedBefore));
    if (response.statusCode !== expect)
      throw new Error(`${request.path}: expected ${expect}, got ${response.statusCode}: ${response.body}`);
  }
  return samples;
}

const ms = (value: number) => value.toFixed(value < 10 ? 3 : 1);

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dynamo = await startDynalite(TABLE);
  // The functions' settings, as the stack sets them, before the handlers load (they read them
  // at import); DynamoDB is the dynalite above, with throwaway keys (it checks none).
  Object.assign(process.env, {
    TABLE_NAME: TABLE,
    BUCKET_NAME: 'tvm-bench-files',
    VENDING_ROLE_ARN: 'arn:aws:iam::123456789012:role/tvm-vending',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIABENCHBENCHBENCH0',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...BENCH_VEND_LIMITS,
  });
  const { mockClient } = await import('aws-sdk-client-mock');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const bcrypt = bcryptModule as unknown as Record<'hash' | 'compare', unknown>;

  let issued = 0;
  const sts = mockClient(STSClient);
  sts
    .on(AssumeRoleCommand)
    .callsFake((input: { DurationSeconds?: number; Policy?: string }) => fakeAssumeRole(input, ++issued));
  // After the mock, so its answers count as backend time too.
  timeBackendCalls([DynamoDBDocumentClient, DynamoDBClient, STSClient]);

  const register = (await import('../lambda/handlers/register')).handler as Handler;
  const login = (await import('../lambda/handlers/login')).handler as Handler;
  const token = (await import('../lambda/handlers/token')).handler as Handler;
  const logout = (await import('../lambda/handlers/logout')).handler as Handler;
  const { getRuntime } = await import('../lambda/handlers/runtime');
  const cost = getRuntime().config.bcryptCost;

  const password = 'correct horse battery staple';
  const realHash = bcrypt.hash as (p: string, c: number) => Promise<string>;
  const realCompare = bcrypt.compare as (p: string, h: string) => Promise<boolean>;
  // Instant, but shaped like a bcrypt hash at the configured cost: the hasher refuses any other
  // stored shape (as the unknown-user path) before it ever compares.
  const stubHash = (p: string) =>
    `$2b$${String(cost).padStart(2, '0')}$${createHash('sha512').update(p).digest('base64').replace(/[+=]/g, '.').slice(0, 53)}`;
  const stubBcrypt = () => {
    bcrypt.hash = async (p: string) => stubHash(p);
    bcrypt.compare = async (p: string, h: string) => h === stubHash(p);
  };
  const restoreBcrypt = () => {
    bcrypt.hash = realHash;
    bcrypt.compare = realCompare;
  };

  const rows: Array<[string, Stats, string]> = [];
  const waitedAtStart = excludedTime().totalMs;
  const loadBefore = loadavg();
  const results = await withoutStdout(async () => {
    // --- bcrypt alone, at the configured cost.
    const hashTimes: number[] = [];
    const compareTimes: number[] = [];
    let hash = await realHash(password, cost); // warm-up
    await realCompare(password, hash);
    for (let i = 0; i < BCRYPT_RUNS; i++) {
      let start = performance.now();
      hash = await realHash(password, cost);
      hashTimes.push(performance.now() - start);
      start = performance.now();
      await realCompare(password, hash);
      compareTimes.push(performance.now() - start);
    }

    // --- Handler overhead with bcrypt stubbed.
    stubBcrypt();
    const warmups = Math.min(200, TOKEN_ITERATIONS);
    const registerCount = Math.max(1, Math.floor(TOKEN_ITERATIONS / 2));
    const registerEvent = (prefix: string) => (i: number) =>
      event('/register', { body: { username: `${prefix}${i}`, password } });
    await timed(register, registerEvent('warm'), warmups, 201);
    const registerOverhead = await timed(register, registerEvent('user'), registerCount, 201);

    const loginEvent = () => event('/login', { body: { username: 'user0', password, device: 'bench' } });
    await timed(login, loginEvent, warmups, 200);
    const loginOverhead = await timed(login, loginEvent, registerCount, 200);

    const first = await register(event('/register', { body: { username: 'tokenuser', password } }), context);
    // Many sessions, taken in turn (the vend limits are at their maxima, BENCH_VEND_LIMITS): a
    // vend per session stays within its share of the minute however fast the loop runs.
    const sessions = [(JSON.parse(first.body) as { session: { token: string } }).session.token];
    while (sessions.length < TOKEN_SESSIONS) {
      const answer = await login(event('/login', { body: { username: 'tokenuser', password } }), context);
      sessions.push((JSON.parse(answer.body) as { session: { token: string } }).session.token);
    }
    const vend = (i: number) => event('/token', { token: sessions[i % sessions.length] as string });
    await timed(token, vend, warmups, 200);
    const tokenTimes = await timed(token, vend, TOKEN_ITERATIONS, 200);

    // Each logout ends a session a login (untimed, bcrypt stubbed) opened just before it.
    const loggedIn = async () => {
      const answer = await login(event('/login', { body: { username: 'tokenuser', password } }), context);
      if (answer.statusCode !== 200) throw new Error(`login before logout: ${answer.statusCode} ${answer.body}`);
      return event('/logout', { token: (JSON.parse(answer.body) as { session: { token: string } }).session.token });
    };
    await timed(logout, loggedIn, warmups, 204);
    const logoutTimes = await timed(logout, loggedIn, TOKEN_ITERATIONS, 204);
    restoreBcrypt();

    // --- A few full runs with real bcrypt, to check full ≈ overhead + bcrypt.
    const registerFull = await timed(register, registerEvent('full'), BCRYPT_RUNS, 201);
    const loginFull = await timed(
      login,
      () => event('/login', { body: { username: 'full0', password } }),
      BCRYPT_RUNS,
      200,
    );

    return {
      hashTimes,
      compareTimes,
      registerOverhead,
      loginOverhead,
      tokenTimes,
      logoutTimes,
      registerFull,
      loginFull,
    };
  });

  const waitedMs = excludedTime().totalMs - waitedAtStart;
  const tokenStats = stats(results.tokenTimes.own);
  rows.push(['token (handler, no bcrypt in path)', tokenStats, 'own time']);
  rows.push(['token, with the backend calls', stats(results.tokenTimes.full), 'full']);
  rows.push(['logout (handler, no bcrypt in path)', stats(results.logoutTimes.own), 'own time']);
  rows.push(['logout, with the backend calls', stats(results.logoutTimes.full), 'full']);
  rows.push(['register (handler excl. bcrypt)', stats(results.registerOverhead.own), 'own time, bcrypt.hash stubbed']);
  rows.push([
    'register excl. bcrypt, with the backend calls',
    stats(results.registerOverhead.full),
    'full, bcrypt.hash stubbed',
  ]);
  rows.push(['login (handler excl. bcrypt)', stats(results.loginOverhead.own), 'own time, bcrypt.compare stubbed']);
  rows.push([
    'login excl. bcrypt, with the backend calls',
    stats(results.loginOverhead.full),
    'full, bcrypt.compare stubbed',
  ]);
  rows.push([`bcrypt hash, cost ${cost}`, stats(results.hashTimes), 'bcryptjs alone']);
  rows.push([`bcrypt compare, cost ${cost}`, stats(results.compareTimes), 'bcryptjs alone']);
  rows.push([
    `register full (real bcrypt ${cost})`,
    stats(results.registerFull.full),
    '≈ register excl. (full) + hash',
  ]);
  rows.push([`login full (real bcrypt ${cost})`, stats(results.loginFull.full), '≈ login excl. (full) + compare']);

  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  console.log(`Handler latency, warm, in process (${new Date().toISOString()})`);
  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpu}), BCRYPT_COST ${cost}, log level ${process.env.POWERTOOLS_LOG_LEVEL} (discarded)`,
  );
  console.log(
    `load average before/after: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} / ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    'DynamoDB: dynalite in this process, over loopback HTTP; STS: AssumeRole faked at STSClient.send (aws-sdk-client-mock).',
  );
  console.log(
    '"own time" is each call minus the wall time a DynamoDB or STS call was in flight (SDK work and dynalite left out);',
  );
  console.log(
    '"full" includes them. register/login are timed with bcryptjs hash/compare stubbed; bcrypt is timed alone at the',
  );
  console.log('configured cost; the last two rows are a few real end-to-end runs.\n');
  const header = ['operation', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'method'];
  const lines = rows.map(([name, s, method]) => [name, String(s.n), ms(s.p50), ms(s.p99), ms(s.mean), method]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]?.length ?? 0)));
  const format = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 || i === 5 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(format(header));
  console.log(
    `|${widths.map((w, i) => (i === 0 || i === 5 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const line of lines) console.log(format(line));
  const goal = tokenStats.p50 < 1;
  console.log(
    `\nGoal: token handler overhead (own time) p50 < 1 ms: ${goal ? 'met' : 'NOT met'} (${ms(tokenStats.p50)} ms).`,
  );
  console.log(`Backend waits over the whole run: ${(waitedMs / 1000).toFixed(1)} s; AssumeRole calls: ${issued}.`);
  sts.restore();
  await dynamo.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

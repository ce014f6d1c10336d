/**
 * `npm run bench:handlers`: warm, in-process latency of the real handler modules
 * (lambda/handlers/*.ts, full middy chain, core service, DynamoDB and STS adapters) with the
 * AWS SDK replaced at the client level by in-memory fakes (aws-sdk-client-mock on
 * DynamoDBDocumentClient and STSClient; the DynamoDB fake keeps items in a Map and evaluates the
 * adapter's condition and update expressions). Not a test; never part of `npm test`.
 *
 * What is measured, per request: from calling `handler(event, context)` to its resolved
 * result. Excluded: the network, API Gateway, the SDK's own middleware (marshalling, signing,
 * HTTP) and bcrypt. bcrypt is measured on its own at the configured cost (BCRYPT_COST, default
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
// Static, so it is the same module instance lambda/core/password.ts requires (a dynamic import
// would load bcryptjs's separate ESM build, and stubbing it would not reach the handlers).
import bcryptModule from 'bcryptjs';
import type { Username } from '../lambda/accounts/username';
import { FakeTable, fakeAssumeRole } from './fake-backends';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

// Configuration must be in place before the handler modules load (they read it at import).
process.env.BCRYPT_COST ??= '12';
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';

const TOKEN_ITERATIONS = positiveInteger(process.env.BENCH_ITERATIONS, 2000);
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

interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
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

async function timed(handler: Handler, make: (i: number) => APIGatewayProxyEvent, count: number, expect: number): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + PHASE_BUDGET_MS;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const request = make(i);
    const start = performance.now();
    const response = await handler(request, context);
    samples.push(performance.now() - start);
    if (response.statusCode !== expect) throw new Error(`${request.path}: expected ${expect}, got ${response.statusCode}: ${response.body}`);
  }
  return samples;
}

const ms = (value: number) => value.toFixed(value < 10 ? 3 : 1);

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // Loaded here, after the environment above, as the handlers read it at import.
  // handler-env.ts is a script (no exports): require it for its side effect on process.env.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../test/support/handler-env');
  const { mockClient } = await import('aws-sdk-client-mock');
  const { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const bcrypt = bcryptModule as unknown as Record<'hash' | 'compare', unknown>;
  const { hashSessionToken, newSessionToken } = await import('../lambda/sessions/session-token');

  const table = new FakeTable();
  const dynamo = mockClient(DynamoDBDocumentClient);
  dynamo.on(GetCommand).callsFake((input) => table.get(input));
  dynamo.on(BatchGetCommand).callsFake((input) => table.batchGet(input as never));
  dynamo.on(PutCommand).callsFake((input) => table.put(input));
  dynamo.on(UpdateCommand).callsFake((input) => table.update(input));
  dynamo.on(DeleteCommand).callsFake((input) => table.delete(input));
  let issued = 0;
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).callsFake((input: { DurationSeconds?: number; Policy?: string }) => fakeAssumeRole(input, ++issued));

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
  const stubHash = (p: string) => `$2b$${String(cost).padStart(2, '0')}$${createHash('sha512').update(p).digest('base64').replace(/[+=]/g, '.').slice(0, 53)}`;
  const stubBcrypt = () => {
    bcrypt.hash = async (p: string) => stubHash(p);
    bcrypt.compare = async (p: string, h: string) => h === stubHash(p);
  };
  const restoreBcrypt = () => {
    bcrypt.hash = realHash;
    bcrypt.compare = realCompare;
  };

  const rows: Array<[string, Stats, string]> = [];
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
    const registerEvent = (prefix: string) => (i: number) => event('/register', { body: { username: `${prefix}${i}`, password } });
    await timed(register, registerEvent('warm'), warmups, 201);
    const registerOverhead = await timed(register, registerEvent('user'), registerCount, 201);

    const loginEvent = () => event('/login', { body: { username: 'user0', password, device: 'bench' } });
    await timed(login, loginEvent, warmups, 200);
    const loginOverhead = await timed(login, loginEvent, registerCount, 200);

    const first = await register(event('/register', { body: { username: 'tokenuser', password } }), context);
    const session = (JSON.parse(first.body) as { session: { token: string } }).session.token;
    await timed(token, () => event('/token', { token: session }), warmups, 200);
    const tokenTimes = await timed(token, () => event('/token', { token: session }), TOKEN_ITERATIONS, 200);

    // Sessions for logout are written straight into the table: one per iteration.
    const user = table.get({ Key: { pk: 'USER#tokenuser', sk: 'PROFILE' } }).Item ?? {};
    const tokens = Array.from({ length: warmups + TOKEN_ITERATIONS }, () => newSessionToken('tokenuser' as Username));
    for (const t of tokens) {
      const tokenHash = hashSessionToken(t);
      const now = Date.now();
      table.items.set(FakeTable.key({ pk: `SESSION#${tokenHash}`, sk: 'SESSION' }), {
        pk: `SESSION#${tokenHash}`,
        sk: 'SESSION',
        tokenHash,
        username: 'tokenuser',
        userId: user.userId,
        createdAt: now,
        expiresAt: now + 86_400_000,
      });
    }
    await timed(logout, (i) => event('/logout', { token: tokens[i] }), warmups, 204);
    const logoutTimes = await timed(logout, (i) => event('/logout', { token: tokens[warmups + i] }), TOKEN_ITERATIONS, 204);
    restoreBcrypt();

    // --- A few full runs with real bcrypt, to check full ≈ overhead + bcrypt.
    const registerFull = await timed(register, registerEvent('full'), BCRYPT_RUNS, 201);
    const loginFull = await timed(login, () => event('/login', { body: { username: 'full0', password } }), BCRYPT_RUNS, 200);

    return { hashTimes, compareTimes, registerOverhead, loginOverhead, tokenTimes, logoutTimes, registerFull, loginFull };
  });

  const tokenStats = stats(results.tokenTimes);
  rows.push(['token (handler, no bcrypt in path)', tokenStats, 'measured directly']);
  rows.push(['logout (handler, no bcrypt in path)', stats(results.logoutTimes), 'measured directly']);
  rows.push(['register (handler excl. bcrypt)', stats(results.registerOverhead), 'bcrypt.hash stubbed']);
  rows.push(['login (handler excl. bcrypt)', stats(results.loginOverhead), 'bcrypt.compare stubbed']);
  rows.push([`bcrypt hash, cost ${cost}`, stats(results.hashTimes), 'bcryptjs alone']);
  rows.push([`bcrypt compare, cost ${cost}`, stats(results.compareTimes), 'bcryptjs alone']);
  rows.push([`register full (real bcrypt ${cost})`, stats(results.registerFull), '≈ register excl. + hash']);
  rows.push([`login full (real bcrypt ${cost})`, stats(results.loginFull), '≈ login excl. + compare']);

  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  console.log(`Handler latency, warm, in process (${new Date().toISOString()})`);
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpu}), BCRYPT_COST ${cost}, log level ${process.env.POWERTOOLS_LOG_LEVEL} (discarded)`);
  console.log(`load average before/after: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} / ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('AWS SDK faked at DynamoDBDocumentClient/STSClient.send (aws-sdk-client-mock + Map table): no network,');
  console.log('no SDK marshalling/signing/HTTP. register/login overhead is timed with bcryptjs hash/compare stubbed;');
  console.log('bcrypt is timed alone at the configured cost; "full" rows are a few real end-to-end runs.\n');
  const header = ['operation', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'method'];
  const lines = rows.map(([name, s, method]) => [name, String(s.n), ms(s.p50), ms(s.p99), ms(s.mean), method]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]?.length ?? 0)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 || i === 5 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 5 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const line of lines) console.log(format(line));
  const goal = tokenStats.p50 < 1;
  console.log(`\nGoal: token handler overhead p50 < 1 ms: ${goal ? 'met' : 'NOT met'} (${ms(tokenStats.p50)} ms).`);
  console.log(`DynamoDB calls served by the fake: ${JSON.stringify(table.counts)}; AssumeRole calls: ${issued}.`);
  dynamo.restore();
  sts.restore();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

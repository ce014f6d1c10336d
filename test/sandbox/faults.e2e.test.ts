/**
 * Fault injection against the sandbox (rule 9): DynamoDB stopped, slow and throttling; STS
 * stopped and slow. Each gives 503 with Retry-After well inside the Lambda timeout (10 s),
 * writes nothing, and the TVM recovers fully when the backend returns.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultMode, FaultProxy } from '../../local/fault-proxy';
import { readSandboxSecrets } from '../../local/secrets';
import type { SandboxManifest } from '../../local/manifest';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { login, postJson, register } from '../support/e2e';

const PASSWORD = 'correct horse battery';
/** The functions' timeout in the stack; a 503 must come well before it. */
const LAMBDA_TIMEOUT_MS = 10_000;
let sandbox: Sandbox;
let dataDir: string;
let table: DynamoDBClient;
let counter = 0;

/** Every item's key in the real table, read behind the fault proxies. */
async function tableKeys(): Promise<string[]> {
  const { Items } = await table.send(new ScanCommand({ TableName: 'tvm-users', ConsistentRead: true }));
  return (Items ?? []).map((item) => `${item.pk?.S}|${item.sk?.S}`).sort();
}

/**
 * The items a failed /token may leave, each complete in itself: its audit entry, rewritten as
 * `token_failed` (the trail records the attempt and never claims a vend), and the user's vend
 * count of the minute (the attempt asked STS, so it counts).
 */
async function failedVendRecords(keys: readonly string[]): Promise<string[]> {
  const { Items } = await table.send(new ScanCommand({ TableName: 'tvm-users', ConsistentRead: true }));
  return (Items ?? [])
    .filter((item) => keys.includes(`${item.pk?.S}|${item.sk?.S}`))
    .map((item) =>
      item.sk?.S?.startsWith('AUDIT#')
        ? `audit ${item.type?.S} ${item.details?.M?.reason?.S}`
        : item.sk?.S?.startsWith('VENDS#')
          ? 'user vend count'
          : `${item.pk?.S}|${item.sk?.S}`,
    )
    .sort();
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-faults-'));
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10, faultInjection: true });
  const manifest = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxManifest;
  table = new DynamoDBClient({
    endpoint: manifest.dynamoEndpoint,
    region: manifest.region,
    credentials: readSandboxSecrets(dataDir).operatorKey,
  });
  await register(sandbox.apiUrl, 'faults-owner', PASSWORD);
}, 60_000);

afterEach(() => {
  sandbox.faults?.dynamodb.setMode('pass');
  sandbox.faults?.sts.setMode('pass');
});

afterAll(async () => {
  table?.destroy();
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const cases: Array<[backend: 'dynamodb' | 'sts', mode: FaultMode, label: string]> = [
  ['dynamodb', 'down', 'DynamoDB stopped'],
  ['dynamodb', 'slow', 'DynamoDB slow'],
  ['dynamodb', 'throttle', 'DynamoDB throttling'],
  ['sts', 'down', 'STS stopped'],
  ['sts', 'slow', 'STS slow'],
];

describe('rule 9: a failing backend gives 503 and leaves nothing half-written', () => {
  it.each(cases)(
    '%s %s: 503 with Retry-After within the Lambda timeout, nothing written, full recovery (%s)',
    async (backend, mode) => {
      const proxy = sandbox.faults?.[backend] as FaultProxy;
      const username = `faulty-${++counter}`;
      // A session of its own, so the cases together stay within a session's vends per minute.
      const ownerToken = (await login(sandbox.apiUrl, 'faults-owner', PASSWORD)).session.token;
      const before = await tableKeys();
      // Longer than the handlers' 2 s request timeout, so each attempt times out.
      proxy.delayMs = 3_000;
      proxy.setMode(mode);

      const registered = await timed(() => postJson(`${sandbox.apiUrl}/register`, { username, password: PASSWORD }));
      expect(registered.result.status).toBe(503);
      expect(registered.ms).toBeLessThan(LAMBDA_TIMEOUT_MS);
      expect(registered.result.body).toEqual({
        error: {
          code: 'service_unavailable',
          message: 'The service is temporarily unavailable. Please retry shortly.',
        },
      });

      const vended = await timed(() =>
        postJson(`${sandbox.apiUrl}/token`, undefined, { Authorization: `Bearer ${ownerToken}` }),
      );
      expect(vended.result.status).toBe(503);
      expect(vended.ms).toBeLessThan(LAMBDA_TIMEOUT_MS);
      expect(proxy.refused.length).toBeGreaterThan(0);

      // Let any request the proxy was still holding run out before looking.
      await new Promise((resolve) => setTimeout(resolve, mode === 'slow' ? proxy.delayMs : 100));
      const added = (await tableKeys()).filter((key) => !before.includes(key));
      // With DynamoDB failing, nothing is written; with STS failing, /token leaves only its
      // complete records of the failed attempt.
      // (The minute's count item is new only for the minute's first counted attempt.)
      expect((await failedVendRecords(added)).filter((record) => record !== 'user vend count')).toEqual(
        backend === 'sts' ? ['audit token_failed backend_unavailable'] : [],
      );
      expect((await tableKeys()).filter((key) => before.includes(key))).toEqual(before);

      proxy.setMode('pass');
      expect((await postJson(`${sandbox.apiUrl}/register`, { username, password: PASSWORD })).status).toBe(201);
      expect((await postJson(`${sandbox.apiUrl}/login`, { username, password: PASSWORD })).status).toBe(200);
      expect(
        (await postJson(`${sandbox.apiUrl}/token`, undefined, { Authorization: `Bearer ${ownerToken}` })).status,
      ).toBe(200);
    },
    40_000,
  );

  it('sends Retry-After with every 503', async () => {
    sandbox.faults?.dynamodb.setMode('fail');
    const response = await fetch(`${sandbox.apiUrl}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'faults-owner', password: PASSWORD }),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

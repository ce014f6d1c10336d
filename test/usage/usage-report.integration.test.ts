/**
 * `tvm-admin usage report` on dynalite through the CLI's own wiring: per user the meter's
 * totals against the quota in force and the requests of the range (summed over the days'
 * items the access-log processor writes), a name seen only in the logs marked deleted, days
 * outside the range left out, and a bad --since refused.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { runCli } from '../../admin/cli';
import type { AdminTarget } from '../../admin/target';
import { accountStores } from '../../lambda/adapters/account-deletion-wiring';
import { documentClient } from '../../lambda/adapters/dynamo/helpers';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { DynamoUsageDayStore } from '../../lambda/adapters/dynamo/usage-day-store';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import type { TvmConfig } from '../../lambda/platform/config';
import { NO_REQUESTS } from '../../lambda/usage/request-tally';
import { utcDay } from '../../lambda/usage/request-tally';
import type { UsageReport } from '../../lambda/usage/usage-report';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { MemoryLog, testConfig } from '../support/in-memory';

const TABLE = 'tvm-usage-report';
const DAY_MS = 86_400_000;
let dynamo: TestDynamoDb;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
});

afterAll(async () => {
  delete process.env.DEFAULT_QUOTA_BYTES;
  await dynamo.stop();
});

function target(): AdminTarget {
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by this command')) });
  return {
    description: `dynalite table ${TABLE}`,
    apiUrl: 'http://127.0.0.1:1',
    tableName: TABLE,
    bucketName: 'unused',
    region: 'eu-west-1',
    partition: 'aws',
    vendingRoleName: 'tvm-vending',
    maxCredentialSeconds: 3600,
    vendingRolePolicy: { Version: '2012-10-17', Statement: [] } as never,
    cutOffMarginMs: 1000,
    propagationMs: 0,
    clockSkewMs: 0,
    dynamo: dynamo.client,
    s3: unused as never,
    iam: unused as never,
    close: () => undefined,
  };
}

async function admin(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(
    args,
    { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) },
    async () => target(),
  );
  return { code, out, err };
}

async function createUser(name: string): Promise<Username> {
  const username = parseUsername(name);
  await accountStores(dynamo.client, TABLE, new MemoryLog(), testConfig() as TvmConfig).users.createUser({
    username,
    userId: `${name}-id`,
    passwordHash: 'fake$s$x',
    createdAt: Date.now(),
    disabled: false,
    sessionGeneration: 0,
  } as never);
  return username;
}

async function setTotals(username: Username, bytes: number, objects: number): Promise<void> {
  await documentClient(dynamo.client).send(
    new PutCommand({
      TableName: TABLE,
      Item: { ...KEYS.usage(username), userId: `${username}-id`, bytes, objects, updatedAt: Date.now() },
    }),
  );
}

describe('tvm-admin usage report', () => {
  it('prints per user storage against the quota in force and the requests of the range', async () => {
    // The default quota (per-user quotas are the quota command's; the rule is lambda/usage/quota.ts).
    process.env.DEFAULT_QUOTA_BYTES = '1000000';
    const alice = await createUser('alice');
    const bob = await createUser('bob');
    await setTotals(alice, 1_200_000, 3);
    await setTotals(bob, 42, 1);
    const days = new DynamoUsageDayStore(dynamo.client, TABLE);
    const today = utcDay(Date.now());
    const yesterday = utcDay(Date.now() - DAY_MS);
    const longAgo = utcDay(Date.now() - 40 * DAY_MS);
    await days.addLogCounts('log-1', [
      { day: today, username: alice, counts: { ...NO_REQUESTS, get: 2, bytesDownloaded: 500 } },
      { day: yesterday, username: alice, counts: { ...NO_REQUESTS, put: 1, bytesUploaded: 300 } },
      { day: longAgo, username: alice, counts: { ...NO_REQUESTS, get: 1000 } },
      { day: today, username: parseUsername('ghost'), counts: { ...NO_REQUESTS, list: 4 } },
    ]);

    const json = await admin('usage', 'report', '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as UsageReport;
    expect(report.to).toBe(today);
    expect(report.rows).toEqual([
      {
        username: 'alice',
        account: true,
        bytes: 1_200_000,
        objects: 3,
        quotaBytes: 1_000_000,
        overQuota: true,
        requests: { ...NO_REQUESTS, get: 2, put: 1, bytesDownloaded: 500, bytesUploaded: 300 },
      },
      {
        username: 'bob',
        account: true,
        bytes: 42,
        objects: 1,
        quotaBytes: 1_000_000,
        overQuota: false,
        requests: NO_REQUESTS,
      },
      {
        username: 'ghost',
        account: false,
        bytes: 0,
        objects: 0,
        quotaBytes: null,
        overQuota: false,
        requests: { ...NO_REQUESTS, list: 4 },
      },
    ]);

    const longer = JSON.parse((await admin('usage', 'report', '--since', '45d', '--json')).out) as UsageReport;
    expect(longer.rows.find((row) => row.username === 'alice')?.requests.get).toBe(1002);

    const printed = await admin('usage', 'report');
    expect(printed.out).toMatch(/^alice\s+1\.2 MB\s+3\s+1\.0 MB\s+OVER\s+2\s+1\s+0\s+0\s+0\s+500 B\s+300 B\s+0$/m);
    expect(printed.out).toMatch(/^ghost \(deleted\)/m);
  });

  it.each(['0d', '30', 'abc', '401d', '-5d', '1.5d'])('refuses --since %s with a clear message', async (since) => {
    const result = await admin('usage', 'report', `--since=${since}`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/--since must be a number of days from 1d to 400d/);
  });
});

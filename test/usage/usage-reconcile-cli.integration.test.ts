/**
 * `tvm-admin usage reconcile [<user>] [--dry-run]` against dynalite and a listing of the
 * bucket: it fixes the meter's drift for one user or every user, says what it would fix
 * without changing anything on a dry run, and refuses a target that does not say its default
 * quota (so it never decides a cut-off on a guess).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Username } from '../../lambda/accounts/username';
import { DynamoUsageStore } from '../../lambda/adapters/dynamo/usage-store';
import { DynamoUserStore } from '../../lambda/adapters/dynamo/user-store';
import { systemClock } from '../../lambda/platform/clock';
import { runCli } from '../../admin/cli';
import type { AdminTarget } from '../../admin/target';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-usage-reconcile-cli';
const BUCKET = 'tvm-files';
let dynamo: TestDynamoDb;
/** The bucket's current objects, key to size. */
const bucket = new Map<string, number>();

/** Answers ListObjectsV2 from {@link bucket}, as S3 does (prefix, start-after, sorted). */
const s3 = {
  async send(command: { input: { Prefix?: string; StartAfter?: string } }) {
    const { Prefix = '', StartAfter = '' } = command.input;
    const Contents = [...bucket]
      .filter(([key]) => key.startsWith(Prefix) && key > StartAfter)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([Key, Size]) => ({ Key, Size }));
    return { Contents, IsTruncated: false };
  },
} as unknown as S3Client;

function target(defaultQuotaBytes: number | undefined): AdminTarget {
  return {
    description: 'test target',
    apiUrl: 'http://127.0.0.1:1',
    tableName: TABLE,
    bucketName: BUCKET,
    region: 'eu-west-1',
    partition: 'aws',
    vendingRoleName: 'tvm-vending',
    maxCredentialSeconds: 3600,
    vendingRolePolicy: { Version: '2012-10-17', Statement: [] },
    cutOffMarginMs: 0,
    propagationMs: 0,
    clockSkewMs: 0,
    ...(defaultQuotaBytes !== undefined ? { defaultQuotaBytes } : {}),
    dynamo: dynamo.client,
    s3,
    iam: { send: async () => ({}) } as unknown as AdminTarget['iam'],
    close: () => undefined,
  };
}

/** `defaultQuotaBytes` null: a target that does not say it. */
async function cli(argv: string[], defaultQuotaBytes: number | null = 0) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (text) => out.push(text), err: (text) => err.push(text) }, async () =>
    target(defaultQuotaBytes ?? undefined),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const totals = (username: string) =>
  new DynamoUsageStore(dynamo.client, TABLE, systemClock).totals(username as Username, `${username}-id`);

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  const users = new DynamoUserStore(dynamo.client, TABLE);
  for (const username of ['alice', 'bob'])
    await users.createUser({
      username: username as Username,
      userId: `${username}-id`,
      passwordHash: 'x',
      createdAt: Date.now(),
      disabled: false,
      sessionGeneration: 0,
    });
  // Events the meter never received: the folders hold these, the meter counted nothing.
  bucket.set('alice/a.txt', 100).set('alice/b c.txt', 23).set('bob/photo.jpg', 4000).set('loose', 1);
});

afterAll(async () => {
  await dynamo.stop();
});

describe('tvm-admin usage reconcile', () => {
  it('--dry-run says what it would fix and changes nothing', async () => {
    const run = await cli(['--json', '--dry-run', 'usage', 'reconcile', 'alice']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual([
      expect.objectContaining({ username: 'alice', after: { bytes: 123, objects: 2 }, fixed: 2, driftBytes: 123 }),
    ]);
    expect(await totals('alice')).toEqual({ bytes: 0, objects: 0 });
  });

  it("fixes one user's folder, then every user's; a second run finds nothing to fix", async () => {
    const one = await cli(['usage', 'reconcile', 'alice']);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/alice\s+123\s+2\s+123\s+2/);
    expect(await totals('alice')).toEqual({ bytes: 123, objects: 2 });
    bucket.delete('alice/a.txt');
    const all = await cli(['--json', 'usage', 'reconcile']);
    expect(all.code).toBe(0);
    const lines = JSON.parse(all.out) as { username: string; driftBytes: number }[];
    expect(lines.map((line) => [line.username, line.driftBytes]).sort()).toEqual([
      ['alice', -100],
      ['bob', 4000],
    ]);
    expect(await totals('bob')).toEqual({ bytes: 4000, objects: 1 });
    const again = await cli(['--json', 'usage', 'reconcile']);
    expect((JSON.parse(again.out) as { fixed: number }[]).map((line) => line.fixed)).toEqual([0, 0]);
  });

  it('refuses an unknown user and a target that does not say its default quota, changing nothing', async () => {
    const unknown = await cli(['usage', 'reconcile', 'nobody']);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.err).toContain('No user nobody.');
    bucket.set('alice/new.bin', 7);
    const old = await cli(['usage', 'reconcile', 'alice'], null);
    expect(old.code).toBe(1);
    expect(old.err).toContain('does not say its default quota');
    expect(await totals('alice')).toEqual({ bytes: 23, objects: 1 });
    const invalid = await cli(['usage', 'reconcile', 'Not/A/User']);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain('Invalid username');
  });
});

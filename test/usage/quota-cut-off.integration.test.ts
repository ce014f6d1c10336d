/**
 * The over-quota cut-off against dynalite and the sandbox's IAM (in-process), the way the meter
 * and tvm-admin run it (createQuotaSync, RevocationList): a folder crossing its quota gets an
 * entry and, once the worker has applied it, a Deny of writes into that folder alone on the
 * vending role; a duplicate sync changes nothing; back under, the statement and the entry go;
 * totals an earlier account of the same name left count nothing.
 */
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoUserStore } from '../../lambda/adapters/dynamo/user-store';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { createQuotaSync } from '../../lambda/adapters/quota-cut-off';
import { RevocationList } from '../../lambda/adapters/revocation-list';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { bucketArn, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import { startIam } from '../../local/iam/server';
import { RolePolicyStore } from '../../local/iam/role-policies';
import { SANDBOX_BUCKET, SANDBOX_REGION, SANDBOX_VENDING_ROLE_NAME } from '../../local/names';
import { loadOrCreateSandboxSecrets } from '../../local/secrets';
import {
  OVER_QUOTA_WRITE_ACTIONS,
  REVOKED_USERS_POLICY_NAME,
  VENDING_ROLE_POLICY_NAME,
  type PolicyDocument,
} from '../../policies';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-quota-cut-off';
const ARN = bucketArn(SANDBOX_BUCKET);
const VENDING_POLICY = renderVendingRolePolicy(ARN);
const MB = 1_000_000;
let dynamo: TestDynamoDb;
let dataDir: string;
let iamServer: Server;
let iam: IAMClient;
let store: DynamoRevocationStore;
let users: DynamoUserStore;
let list: RevocationList;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-quota-cut-off-'));
  const { operatorKey } = loadOrCreateSandboxSecrets(dataDir);
  const started = await startIam({
    policies: new RolePolicyStore(RolePolicyStore.fileIn(dataDir)),
    operatorKey,
    ownPolicies: [{ name: VENDING_ROLE_POLICY_NAME, policy: VENDING_POLICY }],
  });
  iamServer = started.server;
  iam = new IAMClient({ endpoint: started.url, region: SANDBOX_REGION, credentials: operatorKey, maxAttempts: 1 });
  store = new DynamoRevocationStore(dynamo.client, TABLE);
  users = new DynamoUserStore(dynamo.client, TABLE);
  list = new RevocationList({
    store,
    iam,
    vendingRoleName: SANDBOX_VENDING_ROLE_NAME,
    vendingRolePolicy: VENDING_POLICY,
    maxCredentialSeconds: 3600,
    cutOffMarginMs: 11_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    progress: () => undefined,
  });
});

afterAll(async () => {
  iam.destroy();
  await new Promise((resolve) => iamServer.close(resolve));
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const triggers: string[] = [];
const sync = () =>
  createQuotaSync({
    config: { tableName: TABLE, region: SANDBOX_REGION, defaultQuotaBytes: MB },
    dynamo: dynamo.client,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    worker: {
      trigger: async (reason) => {
        triggers.push(reason);
        await list.applyPending();
      },
    },
    cutOffMarginMs: 11_000,
  });

async function createUser(name: string): Promise<Username> {
  const username = parseUsername(name);
  await users.createUser({
    username,
    userId: `id-${name}`,
    passwordHash: 'tvm2$not-a-real-hash',
    createdAt: Date.now(),
    disabled: false,
    sessionGeneration: 0,
  });
  return username;
}

async function holds(username: Username, bytes: number, userId = `id-${username}`): Promise<void> {
  await dynamo.client.send(
    new PutCommand({ TableName: TABLE, Item: { ...KEYS.usage(username), bytes, objects: 1, userId } }),
  );
}

async function policyOnRole(): Promise<PolicyDocument | undefined> {
  try {
    const { PolicyDocument: text } = await iam.send(
      new GetRolePolicyCommand({ RoleName: SANDBOX_VENDING_ROLE_NAME, PolicyName: REVOKED_USERS_POLICY_NAME }),
    );
    return JSON.parse(decodeURIComponent(text!)) as PolicyDocument;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException' || (error as Error).name === 'NoSuchEntity') return undefined;
    throw error;
  }
}

describe('the over-quota cut-off on the vending role', () => {
  it('crossing puts a Deny of writes into that folder alone on the role; a duplicate sync changes nothing; back under, both go', async () => {
    const alice = await createUser('alice');
    await createUser('bob');
    await holds(alice, 900_000);
    expect(await sync().sync(alice)).toEqual({ overQuota: false });
    expect(await policyOnRole()).toBeUndefined();

    await holds(alice, 1_200_000);
    const over = await sync().sync(alice);
    expect(over).toMatchObject({ overQuota: true, changed: 'over' });
    const policy = await policyOnRole();
    expect(policy?.Statement).toEqual([
      {
        Sid: expect.stringMatching(/^OverQuota\d{14}$/),
        Effect: 'Deny',
        Action: [...OVER_QUOTA_WRITE_ACTIONS],
        Resource: [`${ARN}/alice/*`],
        Condition: {
          DateLessThan: { 'aws:TokenIssueTime': new Date(over.since!).toISOString().replace('.000Z', 'Z') },
        },
      },
    ]);
    expect(await store.getQuotaEntry(alice)).toEqual({
      username: alice,
      since: over.since,
      under: false,
      pending: false,
    });

    triggers.length = 0;
    expect(await sync().sync(alice)).toEqual({ overQuota: true, since: over.since });
    expect(triggers).toEqual([]);

    await holds(alice, 10);
    expect(await sync().sync(alice)).toEqual({ overQuota: false, changed: 'under' });
    expect(await policyOnRole()).toBeUndefined();
    expect(await store.getQuotaEntry(alice)).toBeUndefined();
  });

  it('counts nothing an earlier account of the same name left, and nothing for a user who does not exist', async () => {
    const carol = await createUser('carol');
    await holds(carol, 50 * MB, 'id-of-an-earlier-carol');
    expect(await sync().sync(carol)).toEqual({ overQuota: false });
    const ghost = parseUsername('ghost');
    await holds(ghost, 50 * MB, 'id-ghost');
    expect(await sync().sync(ghost)).toEqual({ overQuota: false });
    expect(await store.getQuotaEntry(ghost)).toBeUndefined();
  });
});

/**
 * Share cut-offs on the vending role, as tvm-admin and the cut-off worker apply them, against
 * dynalite and the sandbox's IAM (in-process): shares and users rendered together into the one
 * `tvm-revoked-users` policy, a user revocation that keeps the share statements, the worker's
 * step that applies only when an entry is pending and then marks it applied, and pruning of
 * share entries whose credentials have all expired.
 */
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RevocationList } from '../../lambda/adapters/revocation-list';
import { recordShareCutOffs } from '../../lambda/adapters/share-cut-off';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import { bucketArn, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import { parseUsername } from '../../lambda/accounts/username';
import { startIam } from '../../local/iam/server';
import { RolePolicyStore } from '../../local/iam/role-policies';
import { SANDBOX_BUCKET, SANDBOX_REGION, SANDBOX_VENDING_ROLE_NAME } from '../../local/names';
import { loadOrCreateSandboxSecrets } from '../../local/secrets';
import { REVOKED_USERS_POLICY_NAME, VENDING_ROLE_POLICY_NAME, type PolicyDocument } from '../../policies';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-share-revocations';
const VENDING_POLICY = renderVendingRolePolicy(bucketArn(SANDBOX_BUCKET));
const MAX_SECONDS = 3600;
let dynamo: TestDynamoDb;
let dataDir: string;
let iamServer: Server;
let iam: IAMClient;
let store: DynamoRevocationStore;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-share-revocations-'));
  const { operatorKey } = loadOrCreateSandboxSecrets(dataDir);
  const started = await startIam({
    policies: new RolePolicyStore(RolePolicyStore.fileIn(dataDir)),
    operatorKey,
    ownPolicies: [{ name: VENDING_ROLE_POLICY_NAME, policy: VENDING_POLICY }],
  });
  iamServer = started.server;
  iam = new IAMClient({ endpoint: started.url, region: SANDBOX_REGION, credentials: operatorKey, maxAttempts: 1 });
  store = new DynamoRevocationStore(dynamo.client, TABLE);
});

afterAll(async () => {
  iam.destroy();
  await new Promise((resolve) => iamServer.close(resolve));
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const entry of await store.list()) await store.remove(entry);
  for (const entry of await store.listShares()) await store.removeShare(entry);
  await list().apply();
});

function list(overrides: Partial<ConstructorParameters<typeof RevocationList>[0]> = {}): RevocationList {
  return new RevocationList({
    store,
    iam,
    vendingRoleName: SANDBOX_VENDING_ROLE_NAME,
    vendingRolePolicy: VENDING_POLICY,
    maxCredentialSeconds: MAX_SECONDS,
    cutOffMarginMs: 11_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    progress: () => undefined,
    ...overrides,
  });
}

const shareId = () => randomBytes(24).toString('base64url');

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

function valuesOnRole(policy: PolicyDocument | undefined, tag: string): string[] {
  return (policy?.Statement ?? []).flatMap(
    (statement) => (statement.Condition!.StringEquals![`aws:PrincipalTag/${tag}`] as string[] | undefined) ?? [],
  );
}

describe('share cut-offs on the role', () => {
  it('tvm-admin puts revoked shares on the role by id; a later user revocation keeps them', async () => {
    const [first, second] = [shareId(), shareId()];
    const { cutOffAt, applied } = await list().cutOffShares([first, second]);
    expect(applied).toMatchObject({ sharesMatchedBy: 'shares' });
    let policy = await policyOnRole();
    expect(valuesOnRole(policy, 'share').sort()).toEqual([first, second].sort());
    expect(policy!.Statement[0]!.Condition!.DateLessThan!['aws:TokenIssueTime']).toBe(
      new Date(cutOffAt!).toISOString().replace('.000Z', 'Z'),
    );
    expect((await store.listShares()).every((entry) => !entry.pending)).toBe(true);

    const carol = parseUsername('carol');
    await list().cutOff(carol);
    policy = await policyOnRole();
    expect(valuesOnRole(policy, 'share').sort()).toEqual([first, second].sort());
    expect(valuesOnRole(policy, 'username')).toEqual([carol]);
  });

  it("the worker's step applies only when an entry is pending (an API function's), then marks it applied", async () => {
    expect(await list().applyPending()).toBeUndefined();
    expect(await policyOnRole()).toBeUndefined();

    const id = shareId();
    await recordShareCutOffs(store, [id], { cutOffMarginMs: 11_000, maxCredentialSeconds: MAX_SECONDS });
    expect((await store.listShares())[0]).toMatchObject({ shareId: id, pending: true });
    const applied = await list().applyPending();
    expect(applied?.shares).toEqual([{ shareId: id, cutOffAt: expect.any(Number) }]);
    expect(valuesOnRole(await policyOnRole(), 'share')).toEqual([id]);
    expect((await store.listShares())[0]).toMatchObject({ shareId: id, pending: false });
    expect(await list().applyPending()).toBeUndefined();
  });

  it('keeps an entry pending when IAM fails, so the next run applies it', async () => {
    const id = shareId();
    await recordShareCutOffs(store, [id], { cutOffMarginMs: 11_000, maxCredentialSeconds: MAX_SECONDS });
    const failing = { send: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })) };
    await expect(list({ iam: failing }).applyPending()).rejects.toThrow('Rate exceeded');
    expect((await store.listShares())[0]).toMatchObject({ shareId: id, pending: true });
    expect(await policyOnRole()).toBeUndefined();
    expect((await list().applyPending())?.shares).toHaveLength(1);
    expect(valuesOnRole(await policyOnRole(), 'share')).toEqual([id]);
  });

  it('prunes share entries whose credentials have all expired, and deletes the policy when nothing is left', async () => {
    const now = await store.serverDate();
    const old = { shareId: shareId(), cutOffAt: now - (MAX_SECONDS + 60) * 1000 };
    await store.recordShare(old, now - 1000);
    const applied = await list().apply();
    expect(applied.pruned).toBe(1);
    expect(await store.listShares()).toEqual([]);
    expect(await policyOnRole()).toBeUndefined();
  });

  it('lists share entries beside users for tvm-admin revocations list', async () => {
    const id = shareId();
    await list().cutOffShares([id]);
    const { shares, entries } = await list().list();
    expect(entries).toEqual([]);
    expect(shares).toEqual([{ shareId: id, cutOffAt: expect.any(Number) }]);
  });
});

/**
 * The credential cut-off list as tvm-admin writes it, against dynalite and the sandbox's IAM
 * (in-process): DynamoDB's clock read from its Date header, the lock that serialises writers
 * (concurrent revocations never lose an entry), a failed IAM write completed by a rerun,
 * pruning, and IAM's aggregate inline-policy quota enforced with IAM's own error while the
 * list is filled to its real ceiling.
 */
import { DeleteRolePolicyCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteUser, revokeCredentials } from '../../admin/lifecycle';
import { accountAdmin } from '../../admin/operations';
import { LOCK_LEASE_MS, RevocationList } from '../../admin/revocations';
import { AdminError } from '../../admin/target';
import { DynamoUserStore } from '../../lambda/adapters/dynamo/user-store';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import { bucketArn, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import {
  policyCharacters,
  renderRevocationPolicy,
  revocationBudget,
  ROLE_INLINE_POLICY_MAX_CHARACTERS,
  type RevokedUser,
} from '../../lambda/credentials/revocation';
import { startIam } from '../../local/iam/server';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { SANDBOX_BUCKET, SANDBOX_REGION, SANDBOX_VENDING_ROLE_NAME } from '../../local/names';
import { loadOrCreateSandboxSecrets } from '../../local/secrets';
import { RolePolicyStore } from '../../local/iam/role-policies';
import { REVOKED_USERS_POLICY_NAME, VENDING_ROLE_POLICY_NAME, type PolicyDocument } from '../../policies';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { sharingLifecycle } from '../../admin/sharing';

const TABLE = 'tvm-revocations';
const VENDING_POLICY = renderVendingRolePolicy(bucketArn(SANDBOX_BUCKET));
let dynamo: TestDynamoDb;
let dataDir: string;
let iamServer: Server;
let iam: IAMClient;
let store: DynamoRevocationStore;
let counter = 0;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-revocations-'));
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
  // Each test starts from an empty list.
  for (const entry of await store.list()) await store.remove(entry);
  await list().apply();
});

function list(overrides: Partial<ConstructorParameters<typeof RevocationList>[0]> = {}): RevocationList {
  return new RevocationList({
    store,
    iam,
    vendingRoleName: SANDBOX_VENDING_ROLE_NAME,
    vendingRolePolicy: VENDING_POLICY,
    maxCredentialSeconds: 3600,
    cutOffMarginMs: 11_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    progress: () => undefined,
    ...overrides,
  });
}

const user = () => parseUsername(`revoked-${++counter}`);

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

function namedOnRole(policy: PolicyDocument | undefined): string[] {
  return (policy?.Statement ?? []).flatMap(
    (statement) => statement.Condition!.StringEquals!['aws:PrincipalTag/username'] as string[],
  );
}

describe("DynamoDB's clock and the lock", () => {
  it("reads DynamoDB's clock from the Date header of a read: whole seconds, never ahead of the real time", async () => {
    const before = Date.now();
    const serverDate = await store.serverDate();
    expect(serverDate % 1000).toBe(0);
    expect(serverDate).toBeLessThanOrEqual(Date.now());
    expect(serverDate).toBeGreaterThan(before - 60_000);
  });

  it('lets one holder take the lock; another gets it only when the lease has run out, and the first then cannot release it', async () => {
    const now = await store.serverDate();
    expect(await store.acquireLock('first', now, now + LOCK_LEASE_MS)).toBe(true);
    expect(await store.acquireLock('second', now + 1000, now + 1000 + LOCK_LEASE_MS)).toBe(false);
    expect(await store.acquireLock('second', now + LOCK_LEASE_MS + 1, now + 2 * LOCK_LEASE_MS)).toBe(true);
    expect(await store.releaseLock('first')).toBe(false);
    expect(await store.releaseLock('second')).toBe(true);
  });
});

describe('cutting off', () => {
  it("puts a cut-off from DynamoDB's clock plus the margin on the role", async () => {
    const alice = user();
    const before = await store.serverDate();
    const { cutOffAt } = await list().cutOff(alice);
    expect(cutOffAt).toBeGreaterThanOrEqual(before + 11_000 + 1000);
    expect(cutOffAt % 1000).toBe(0);
    const policy = await policyOnRole();
    expect(namedOnRole(policy)).toEqual([alice]);
    expect(policy!.Statement[0]!.Condition!.DateLessThan!['aws:TokenIssueTime']).toBe(
      new Date(cutOffAt).toISOString().replace('.000Z', 'Z'),
    );
  });

  it('never loses an entry to concurrent revocations: all six end up on the role', async () => {
    const users = Array.from({ length: 6 }, user);
    await Promise.all(
      users.map((name) =>
        list({ sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))) }).cutOff(name),
      ),
    );
    expect(namedOnRole(await policyOnRole()).sort()).toEqual([...users].sort());
  });

  it('keeps the entry when IAM fails; running again puts it on the role', async () => {
    const bob = user();
    const failing = {
      send: () => Promise.reject(Object.assign(new Error('IAM is unavailable'), { name: 'ServiceFailureException' })),
    };
    await expect(list({ iam: failing }).cutOff(bob)).rejects.toThrow('IAM is unavailable');
    expect((await store.list()).map((entry) => entry.username)).toContain(bob);
    expect(namedOnRole(await policyOnRole())).not.toContain(bob);
    await list().apply();
    expect(namedOnRole(await policyOnRole())).toContain(bob);
  });

  it('adopts the entries of a policy written before the list moved into the table, so none is dropped', async () => {
    const legacy = user();
    const before = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const statement = {
      Sid: 'RevokedLegacy',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalTag/username': legacy },
        DateLessThan: { 'aws:TokenIssueTime': before },
      },
    };
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: SANDBOX_VENDING_ROLE_NAME,
        PolicyName: REVOKED_USERS_POLICY_NAME,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
      }),
    );
    await list().cutOff(user());
    expect((await store.get(legacy))?.cutOffAt).toBe(Date.parse(before));
    expect(namedOnRole(await policyOnRole())).toContain(legacy);
  });

  it('prunes entries whose credentials have all expired, and deletes the policy when none is left', async () => {
    const old = user();
    await store.record({ username: old, cutOffAt: Date.now() - 2 * 3_600_000 }, Date.now() - 3_600_000);
    const kept = user();
    await list().cutOff(kept);
    expect((await store.list()).map((entry) => entry.username)).toEqual([kept]);
    expect(namedOnRole(await policyOnRole())).toEqual([kept]);
    const applied = await list({ maxCredentialSeconds: -100 }).apply();
    expect(applied.pruned).toBe(1);
    expect(await policyOnRole()).toBeUndefined();
  });
});

/** A stored user and the operator's AccountAdmin on the same table, as tvm-admin builds it. */
async function newAccount() {
  const users = new DynamoUserStore(dynamo.client, TABLE);
  const username = user();
  await users.createUser({
    username,
    userId: `${username}-1`,
    passwordHash: 'x',
    createdAt: Date.now(),
    disabled: false,
    sessionGeneration: 0,
  });
  const admin = accountAdmin(
    { dynamo: dynamo.client, tableName: TABLE },
    { info: () => undefined, warn: () => undefined, error: () => undefined },
  );
  return { users, admin, username };
}

describe('revoke-credentials when IAM fails', () => {
  it('leaves the sessions revoked, says that credentials are not cut off yet and to rerun, and a rerun completes it', async () => {
    const { users, admin, username: carol } = await newAccount();
    const target = {
      s3: undefined as never,
      bucketName: SANDBOX_BUCKET,
      maxCredentialSeconds: 3600,
      propagationMs: 0,
      clockSkewMs: 0,
    };
    const failing = { send: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })) };
    const failed = revokeCredentials(
      { admin, revocations: list({ iam: failing }), target, progress: () => undefined },
      carol,
    );
    await expect(failed).rejects.toThrow(AdminError);
    await expect(failed).rejects.toThrow(
      `${carol}: every session is revoked, but the AWS credentials already issued are NOT cut off yet (Rate exceeded). Run the same command again: every step is safe to repeat.`,
    );
    expect((await users.getUser(carol))?.sessionGeneration).toBe(1);
    await revokeCredentials({ admin, revocations: list(), target, progress: () => undefined }, carol);
    expect(namedOnRole(await policyOnRole())).toContain(carol);
    expect((await admin.audit(carol, 5)).map((event) => event.type)).toContain('credentials_revoked');
  });
});

describe('the cut-off instant on the user record', () => {
  it('revoke-credentials stores on the user record, in the write that revokes the sessions, the instant it puts on the role', async () => {
    const { users, admin, username: erin } = await newAccount();
    const target = {
      s3: undefined as never,
      bucketName: SANDBOX_BUCKET,
      maxCredentialSeconds: 3600,
      propagationMs: 0,
      clockSkewMs: 0,
    };
    // IAM fails, so only the commit has happened: the record must already carry the instant.
    const failing = { send: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })) };
    const before = await store.serverDate();
    await expect(
      revokeCredentials({ admin, revocations: list({ iam: failing }), target, progress: () => undefined }, erin),
    ).rejects.toThrow(AdminError);
    const committed = await users.getUser(erin);
    expect(committed?.sessionGeneration).toBe(1);
    expect(committed?.cutOffAt).toBeGreaterThanOrEqual(before + 11_000 + 1000);
    const { cutOffAt } = await revokeCredentials(
      { admin, revocations: list(), target, progress: () => undefined },
      erin,
    );
    expect((await users.getUser(erin))?.cutOffAt).toBe(cutOffAt);
    const statement = (await policyOnRole())!.Statement.find((candidate) =>
      namedOnRole({ Version: '2012-10-17', Statement: [candidate] }).includes(erin),
    );
    expect(statement!.Condition!.DateLessThan!['aws:TokenIssueTime']).toBe(
      new Date(cutOffAt).toISOString().replace('.000Z', 'Z'),
    );
  });
});

describe('users delete that fails half-way', () => {
  it('is completed by running it again: files gone, records gone, the name held', async () => {
    const { users, admin, username: dave } = await newAccount();
    // A versioned folder of three versions; S3 drops the connection on the first delete.
    let versions = [1, 2, 3].map((n) => ({ Key: `${dave}/photo.jpg`, VersionId: `v${n}` }));
    let failDelete = true;
    const s3 = {
      send: async (command: {
        constructor: { name: string };
        input: { Delete?: { Objects: Array<{ Key: string; VersionId?: string }> } };
      }) => {
        const kind = command.constructor.name;
        if (kind === 'ListObjectVersionsCommand') return { Versions: versions };
        if (kind === 'ListMultipartUploadsCommand') return { Uploads: [] };
        if (kind === 'DeleteObjectsCommand') {
          if (failDelete) throw new Error('socket hang up');
          versions = versions.filter(
            (version) => !command.input.Delete!.Objects.some((object) => object.VersionId === version.VersionId),
          );
          return {};
        }
        throw new Error(`unexpected ${kind}`);
      },
    };
    const context = {
      admin,
      revocations: list(),
      sharing: sharingLifecycle({
        dynamo: dynamo.client,
        tableName: TABLE,
        cutOffMarginMs: 11_000,
        maxCredentialSeconds: 3600,
      }),
      target: {
        s3: s3 as never,
        bucketName: SANDBOX_BUCKET,
        maxCredentialSeconds: 3600,
        propagationMs: 0,
        clockSkewMs: 0,
      },
      progress: () => undefined,
    };
    await expect(deleteUser(context, dave, true)).rejects.toThrow('socket hang up');
    expect(await users.getUser(dave)).toMatchObject({ disabled: true });
    expect(namedOnRole(await policyOnRole())).toContain(dave);
    failDelete = false;
    const done = await deleteUser(context, dave, true);
    expect(versions).toEqual([]);
    expect(await users.getUser(dave)).toBeUndefined();
    expect(await users.nameHeldUntil(dave)).toBe(done.heldUntil);
    expect(done.heldUntil).toBeGreaterThan(Date.now() + 3_600_000);
    // And once more: it reports the hold and changes nothing.
    expect((await deleteUser(context, dave, false)).heldUntil).toBe(done.heldUntil);
  });
});

describe("IAM's aggregate inline-policy quota", () => {
  it('the sandbox IAM refuses one character over 10,240 (FileBucketAccess included) with LimitExceeded, and accepts exactly the limit', async () => {
    const room = ROLE_INLINE_POLICY_MAX_CHARACTERS - policyCharacters(VENDING_POLICY);
    const shell = {
      Version: '2012-10-17' as const,
      Statement: [{ Sid: 'Pad', Effect: 'Deny' as const, Action: 'none:None', Resource: '' }],
    };
    const padded = (size: number) =>
      JSON.stringify({
        ...shell,
        Statement: [{ ...shell.Statement[0], Resource: 'x'.repeat(size - policyCharacters(shell)) }],
      });
    const put = (text: string) =>
      iam.send(
        new PutRolePolicyCommand({ RoleName: SANDBOX_VENDING_ROLE_NAME, PolicyName: 'padding', PolicyDocument: text }),
      );
    await expect(put(padded(room + 1))).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: expect.stringContaining('Maximum policy size of 10240 bytes exceeded'),
    });
    // Whitespace does not count.
    await expect(put(padded(room).replace('{', '{ \n\t '))).resolves.toBeDefined();
    await iam.send(new DeleteRolePolicyCommand({ RoleName: SANDBOX_VENDING_ROLE_NAME, PolicyName: 'padding' }));
  });

  it('fills the list to its real ceiling by name, then matches by group, always accepted by IAM', async () => {
    const budget = revocationBudget(VENDING_POLICY);
    const cutOffAt = Math.ceil((Date.now() + 60_000) / 1000) * 1000;
    const longName = (index: number): Username => parseUsername(`${String(index).padStart(6, '0')}-${'y'.repeat(57)}`);
    const entries: RevokedUser[] = [];
    // The ceiling by name: one statement with one name, then 67 characters per further 64-character name.
    const one = policyCharacters(renderRevocationPolicy([{ username: longName(0), cutOffAt }], budget).policy!);
    const ceiling = Math.floor((budget - one) / 67) + 1;
    for (let index = 0; index < ceiling + 1; index++) entries.push({ username: longName(index), cutOffAt });
    for (const entry of entries.slice(0, ceiling)) await store.record(entry, cutOffAt + 7_200_000);
    const full = await list().apply();
    expect(full).toMatchObject({ matchedBy: 'users' });
    expect(full.entries).toHaveLength(ceiling);
    expect(full.characters).toBeLessThanOrEqual(budget);
    expect(full.characters).toBeGreaterThan(budget - 67);
    expect(namedOnRole(await policyOnRole())).toHaveLength(ceiling);
    await store.record(entries[ceiling]!, cutOffAt + 7_200_000);
    const grouped = await list().apply();
    expect(grouped.matchedBy).toBe('groups');
    expect(policyCharacters((await policyOnRole())!)).toBe(grouped.characters);
  });
});

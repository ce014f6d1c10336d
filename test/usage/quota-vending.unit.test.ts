/**
 * Vending against the quota, on in-memory ports: every answer that carries `storage` carries
 * `storage.usage`, and a folder at or over its quota gets credentials whose session policy has
 * no write (read, list, delete and aborting an upload stay) — the user's own, and share
 * credentials into that owner's folder. The quota never adds an action anywhere.
 */
import fc from 'fast-check';
import { OVER_QUOTA_WRITE_ACTIONS, type PolicyDocument } from '../../policies';
import { parseUsername } from '../../lambda/accounts/username';
import { bucketArn, renderSessionPolicy, withoutWrites } from '../../lambda/credentials/policy';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { renderSharePolicy } from '../../lambda/sharing/share-policy';
import { parseSharePath } from '../../lambda/sharing/share-path';
import { inMemorySharing } from '../support/in-memory-sharing';
import { loginSession } from '../support/in-memory';

const alice = parseUsername('alice');
const bob = parseUsername('bob');
const MB = 1_000_000;

/** Every action any Allow statement of the policy grants. */
function allowed(policy: PolicyDocument): string[] {
  return policy.Statement.filter((statement) => statement.Effect === 'Allow').flatMap((statement) =>
    [statement.Action].flat(),
  );
}

/** The session policy of the last credentials the fake STS issued. */
function lastPolicy(world: ReturnType<typeof inMemorySharing>): PolicyDocument {
  const request = world.backend.issuer.requests.at(-1);
  if (!request) throw new Error('nothing was vended');
  return JSON.parse(request.sessionPolicy) as PolicyDocument;
}

describe('storage.usage on every answer that carries storage', () => {
  it('register: the new folder is empty, under the default quota', async () => {
    const world = inMemorySharing({ config: { defaultQuotaBytes: MB } });
    const result = await world.services.accounts.register(
      parseRegisterRequest({ username: 'alice', password: 'correct horse battery' }),
    );
    expect(result.storage.usage).toEqual({ bytes: 0, objects: 0, quotaBytes: MB, overQuota: false });
    expect(allowed(lastPolicy(world))).toEqual(expect.arrayContaining(['s3:PutObject']));
  });

  it('without any quota (the default setting 0), quotaBytes is null and nothing is ever over', async () => {
    const world = inMemorySharing();
    const token = await world.register('alice');
    world.backend.usage.set(alice, 10 ** 15, 9);
    const vended = await world.services.sessions.token(token);
    expect(vended.storage.usage).toEqual({ bytes: 10 ** 15, objects: 9, quotaBytes: null, overQuota: false });
    expect(allowed(lastPolicy(world))).toContain('s3:PutObject');
  });

  it("login and token report the meter's totals against the user's own quota, which wins over the default", async () => {
    const world = inMemorySharing({ config: { defaultQuotaBytes: MB } });
    const token = await world.register('alice');
    world.backend.users.setQuotaBytes(alice, 2 * MB);
    world.backend.usage.set(alice, 1_500_000, 3);
    const login = await loginSession(
      world.services,
      parseLoginRequest({ username: 'alice', password: 'correct horse battery' }),
    );
    expect(login.storage.usage).toEqual({ bytes: 1_500_000, objects: 3, quotaBytes: 2 * MB, overQuota: false });
    world.backend.users.setQuotaBytes(alice, null);
    expect((await world.services.sessions.token(token)).storage.usage.quotaBytes).toBeNull();
  });
});

describe('a folder over its quota', () => {
  it('a user at 90% who then holds 1.2 MB of a 1 MB quota gets credentials without any write, and overQuota', async () => {
    const world = inMemorySharing({ config: { defaultQuotaBytes: MB } });
    const token = await world.register('alice');
    world.backend.usage.set(alice, 900_000, 9);
    const under = await world.services.sessions.token(token);
    expect(under.storage.usage.overQuota).toBe(false);
    expect(allowed(lastPolicy(world))).toEqual(expect.arrayContaining([...OVER_QUOTA_WRITE_ACTIONS]));

    world.backend.usage.set(alice, 1_200_000, 10);
    const over = await world.services.sessions.token(token);
    expect(over.storage.usage).toEqual({ bytes: 1_200_000, objects: 10, quotaBytes: MB, overQuota: true });
    const actions = allowed(lastPolicy(world));
    for (const write of OVER_QUOTA_WRITE_ACTIONS) expect(actions).not.toContain(write);
    expect(actions).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListBucket']),
    );
  });

  it('login over quota vends without writes too, and a folder back under writes again at the next vend', async () => {
    const world = inMemorySharing({ config: { defaultQuotaBytes: MB } });
    await world.register('alice');
    world.backend.usage.set(alice, MB, 1);
    const login = await loginSession(
      world.services,
      parseLoginRequest({ username: 'alice', password: 'correct horse battery' }),
    );
    expect(login.storage.usage.overQuota).toBe(true);
    expect(allowed(lastPolicy(world))).not.toContain('s3:PutObject');
    world.backend.usage.set(alice, MB - 1, 1);
    await world.services.sessions.token(login.session.token);
    expect(allowed(lastPolicy(world))).toContain('s3:PutObject');
  });

  it("a readwrite share of an owner over quota vends without writes; the grantee sees the owner's folder usage", async () => {
    const world = inMemorySharing({ config: { defaultQuotaBytes: MB } });
    const aliceToken = await world.register('alice');
    const bobToken = await world.register('bob');
    const share = await world.sharing.shares.create(aliceToken, {
      path: 'photos/',
      grantee: 'bob',
      access: 'readwrite',
    });
    // Bob's own folder is empty and his own quota is not the point: alice's folder is full.
    world.backend.usage.set(alice, 3 * MB, 30);
    const vended = await world.sharing.shares.credentials(bobToken, share.id);
    expect(vended.storage.usage).toEqual({ bytes: 3 * MB, objects: 30, quotaBytes: MB, overQuota: true });
    const actions = allowed(lastPolicy(world));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:DeleteObject']));
    for (const write of OVER_QUOTA_WRITE_ACTIONS) expect(actions).not.toContain(write);
    // Bob over his own quota does not touch what alice's share lets him write.
    world.backend.usage.set(alice, 0, 0);
    world.backend.usage.set(bob, 5 * MB, 1);
    await world.sharing.shares.credentials(bobToken, share.id);
    expect(allowed(lastPolicy(world))).toContain('s3:PutObject');
  });
});

describe('the policy without writes', () => {
  const arn = bucketArn('files');

  it('only ever removes actions: every statement of it is in the full policy with a subset of its actions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('alice', 'bob', 'a.b-c_d'),
        fc.constantFrom('photos/', 'doc.txt', 'a/b/'),
        fc.constantFrom('read' as const, 'readwrite' as const),
        (name, path, access) => {
          const username = parseUsername(name);
          const pairs = [
            [renderSessionPolicy(arn, username), renderSessionPolicy(arn, username, { overQuota: true })],
            [
              renderSharePolicy({ bucketArn: arn, owner: username, path: parseSharePath(path), access }),
              renderSharePolicy({
                bucketArn: arn,
                owner: username,
                path: parseSharePath(path),
                access,
                overQuota: true,
              }),
            ],
          ] as const;
          for (const [full, narrowed] of pairs) {
            for (const statement of narrowed.Statement) {
              const original = full.Statement.find((candidate) => candidate.Sid === statement.Sid);
              expect(original).toBeDefined();
              expect({ ...statement, Action: undefined }).toEqual({ ...original, Action: undefined });
              expect([original!.Action].flat()).toEqual(expect.arrayContaining([statement.Action].flat()));
            }
            expect(allowed(narrowed).some((action) => OVER_QUOTA_WRITE_ACTIONS.includes(action))).toBe(false);
          }
        },
      ),
    );
  });

  it('refuses an Allow that names actions by pattern, which could hide a write', () => {
    expect(() =>
      withoutWrites({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Put*', Resource: '*' }] }),
    ).toThrow(TypeError);
  });
});

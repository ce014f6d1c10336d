/**
 * Revoked shares on the vending role's one cut-off policy (lambda/credentials/revocation.ts),
 * beside revoked users: what the share statements deny, judged by a real IAM engine with the
 * role's policy and a share's session policy; that users and shares together stay within IAM's
 * aggregate inline-policy quota (per id while few, by group for 10,000 revoked shares and
 * 1,000 revoked users); and that no merge ever cuts anything off earlier than its entry says.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { PolicyDocument, PolicyStatement } from '../../policies';
import { bucketArn, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import {
  REVOCATION_GROUP_SESSION_TAG,
  SHARE_GROUP_SESSION_TAG,
  SHARE_SESSION_TAG,
  liveShareRevocations,
  policyCharacters,
  renderRevocationPolicy,
  revocationBudget,
  revocationGroup,
  shareRevocationGroup,
  type RevokedUser,
} from '../../lambda/credentials/revocation';
import type { RevokedShare } from '../../lambda/sharing/ports';
import { renderSharePolicy } from '../../lambda/sharing/share-policy';
import { parseSharePath } from '../../lambda/sharing/share-path';
import { parseUsername, type Username } from '../../lambda/accounts/username';

const ACCOUNT = '123456789012';
// The longest bucket name S3 allows, so FileBucketAccess takes the most of the budget it can.
const BUCKET_ARN = bucketArn('b'.repeat(63));
const VENDING_POLICY = renderVendingRolePolicy(BUCKET_ARN);
const BUDGET = revocationBudget(VENDING_POLICY);
const NOW = Date.UTC(2026, 11, 7, 21, 0, 0);
const alice = parseUsername('alice');
const bob = parseUsername('bob');

const newShareId = () => randomBytes(24).toString('base64url');

/** Bob's credentials for alice's share `shareId` (photos/, read) issued at `issuedAt`, reading alice/photos/a.jpg. */
async function bobCanReadShared(shareId: string, issuedAt: number, revocations: PolicyDocument | undefined) {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/tvm-vending/${bob}`,
        action: 's3:GetObject',
        resource: { resource: `${BUCKET_ARN}/alice/photos/a.jpg`, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalTag/username': bob,
          [`aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`]: revocationGroup(bob),
          [`aws:PrincipalTag/${SHARE_SESSION_TAG}`]: shareId,
          [`aws:PrincipalTag/${SHARE_GROUP_SESSION_TAG}`]: shareRevocationGroup(shareId),
          'aws:TokenIssueTime': new Date(issuedAt).toISOString(),
          'aws:CurrentTime': new Date(NOW).toISOString(),
        },
      },
      identityPolicies: [
        { name: 'FileBucketAccess', policy: VENDING_POLICY },
        ...(revocations ? [{ name: 'tvm-revoked-users', policy: revocations }] : []),
      ],
      sessionPolicy: renderSharePolicy({
        bucketArn: BUCKET_ARN,
        owner: alice,
        path: parseSharePath('photos/'),
        access: 'read',
      }),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(JSON.stringify(result));
  return result.overallResult === 'Allowed';
}

/** A distinct valid username of the longest length (64), the worst case for size. */
function longName(index: number): Username {
  return parseUsername(`${String(index).padStart(6, '0')}-${'x'.repeat(57)}`);
}

/** The statements of `policy` that match `value` under condition key `key`. */
function matching(policy: PolicyDocument, key: string, value: string): PolicyStatement[] {
  return policy.Statement.filter((statement) =>
    ((statement.Condition?.StringEquals?.[key] ?? []) as readonly string[]).includes(value),
  );
}

/** The latest instant before which a statement matching `value` denies (0 when none does). */
function deniedBefore(policy: PolicyDocument, key: string, value: string): number {
  return Math.max(
    0,
    ...matching(policy, key, value).map((statement) =>
      Date.parse(statement.Condition!.DateLessThan!['aws:TokenIssueTime'] as string),
    ),
  );
}

/** Every entry is denied at least until its cut-off, whichever way it is matched. */
function expectCovered(
  rendered: ReturnType<typeof renderRevocationPolicy>,
  users: readonly RevokedUser[],
  shares: readonly RevokedShare[],
): void {
  const policy = rendered.policy!;
  for (const { username, cutOffAt } of users) {
    const [key, value] =
      rendered.matchedBy === 'users'
        ? ['aws:PrincipalTag/username', username]
        : [`aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`, revocationGroup(username)];
    expect(deniedBefore(policy, key, value)).toBeGreaterThanOrEqual(cutOffAt);
  }
  for (const { shareId, cutOffAt } of shares) {
    const [key, value] =
      rendered.sharesMatchedBy === 'shares'
        ? [`aws:PrincipalTag/${SHARE_SESSION_TAG}`, shareId]
        : [`aws:PrincipalTag/${SHARE_GROUP_SESSION_TAG}`, shareRevocationGroup(shareId)];
    expect(deniedBefore(policy, key, value)).toBeGreaterThanOrEqual(cutOffAt);
  }
}

describe('a revoked share, judged by IAM', () => {
  const revoked = newShareId();
  const cutOffAt = NOW - 60_000;

  it("denies the share's credentials issued before the cut-off, and only those", async () => {
    const policy = renderRevocationPolicy([], BUDGET, [{ shareId: revoked, cutOffAt }]).policy;
    expect(await bobCanReadShared(revoked, cutOffAt - 1000, undefined)).toBe(true);
    expect(await bobCanReadShared(revoked, cutOffAt - 1000, policy)).toBe(false);
    // Another share of bob's, issued at the same time, still works.
    expect(await bobCanReadShared(newShareId(), cutOffAt - 1000, policy)).toBe(true);
  });

  it("a grantee's own cut-off (revoke-credentials on bob) denies his share credentials too, through the username tag", async () => {
    const policy = renderRevocationPolicy([{ username: bob, cutOffAt }], BUDGET).policy;
    expect(await bobCanReadShared(newShareId(), cutOffAt - 1000, policy)).toBe(false);
    expect(await bobCanReadShared(newShareId(), cutOffAt, policy)).toBe(true);
  });

  it('matched by share group once the ids do not fit: every revoked share is denied, later credentials work', async () => {
    const shares = Array.from({ length: 10_000 }, (_, index) => ({
      shareId: newShareId(),
      cutOffAt: cutOffAt - (index % 50) * 1000,
    }));
    const rendered = renderRevocationPolicy([], BUDGET, shares);
    expect(rendered.sharesMatchedBy).toBe('groups');
    for (const entry of [shares[0]!, shares[5_000]!, shares[9_999]!]) {
      expect(await bobCanReadShared(entry.shareId, entry.cutOffAt - 1000, rendered.policy)).toBe(false);
      expect(await bobCanReadShared(entry.shareId, cutOffAt + 1000, rendered.policy)).toBe(true);
    }
  });
});

describe("users and shares share IAM's budget beside FileBucketAccess", () => {
  it('names each share by id while few, with users by name, in statements with unique ids', () => {
    const users = [alice, bob].map((username) => ({ username, cutOffAt: NOW }));
    const shares = Array.from({ length: 20 }, () => ({ shareId: newShareId(), cutOffAt: NOW }));
    const rendered = renderRevocationPolicy(users, BUDGET, shares);
    expect(rendered).toMatchObject({ matchedBy: 'users', sharesMatchedBy: 'shares' });
    expect(rendered.characters).toBeLessThanOrEqual(BUDGET);
    const sids = rendered.policy!.Statement.map((statement) => statement.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    expect(sids.every((sid) => /^[A-Za-z0-9]+$/.test(sid ?? ''))).toBe(true);
    expectCovered(rendered, users, shares);
  });

  it('switches shares to groups before users, at the real ceiling of ids', () => {
    const users = [alice, bob].map((username) => ({ username, cutOffAt: NOW }));
    const shares: RevokedShare[] = [];
    for (;;) {
      shares.push({ shareId: newShareId(), cutOffAt: NOW });
      const rendered = renderRevocationPolicy(users, BUDGET, shares);
      expect(rendered.characters).toBeLessThanOrEqual(BUDGET);
      expect(rendered.matchedBy).toBe('users');
      if (rendered.sharesMatchedBy === 'groups') break;
    }
    // 32-character ids: 35 characters each with quotes and comma, in one statement.
    expect(shares.length - 1).toBeGreaterThan(200);
  });

  it('fits 10,000 revoked shares and 1,000 revoked users, each with its own cut-off, and denies every one', () => {
    const users = Array.from({ length: 1_000 }, (_, index) => ({
      username: longName(index),
      cutOffAt: NOW - index * 1000,
    }));
    const shares = Array.from({ length: 10_000 }, (_, index) => ({
      shareId: newShareId(),
      cutOffAt: NOW - index * 1000 - 500_000,
    }));
    const rendered = renderRevocationPolicy(users, BUDGET, shares);
    expect(rendered).toMatchObject({ matchedBy: 'groups', sharesMatchedBy: 'groups' });
    expect(rendered.characters).toBeLessThanOrEqual(BUDGET);
    expect(policyCharacters(rendered.policy!)).toBe(rendered.characters);
    expectCovered(rendered, users, shares);
  });

  it('never cuts anything off earlier than its entry says, however users and shares are merged to fit (property)', () => {
    const user = fc.record({
      username: fc.stringMatching(/^[a-z0-9]{2,64}$/).map(parseUsername),
      cutOffAt: fc.integer({ min: 0, max: 7200 }).map((seconds) => NOW - seconds * 1000),
    });
    const share = fc.record({
      shareId: fc.uint8Array({ minLength: 24, maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
      cutOffAt: fc.integer({ min: 0, max: 7200 }).map((seconds) => NOW - seconds * 1000),
    });
    fc.assert(
      fc.property(
        fc.array(user, { maxLength: 200 }),
        fc.array(share, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 3000, max: BUDGET }),
        (users, shares, budget) => {
          const rendered = renderRevocationPolicy(users, budget, shares);
          expect(rendered.characters).toBeLessThanOrEqual(budget);
          expectCovered(rendered, users, shares);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a value that is not a share id, rather than put it in a policy', () => {
    expect(() => renderRevocationPolicy([], BUDGET, [{ shareId: 'abc*', cutOffAt: NOW }])).toThrow(TypeError);
  });

  it('prunes a share entry once every credential it covers has expired, keeping the latest cut-off per share', () => {
    const id = newShareId();
    const other = newShareId();
    const entries = [
      { shareId: id, cutOffAt: NOW - 60_000 },
      { shareId: id, cutOffAt: NOW - 30_000 },
      { shareId: other, cutOffAt: NOW - 3_600_000 - 11_000 },
    ];
    expect(liveShareRevocations(entries, NOW, 3600)).toEqual([{ shareId: id, cutOffAt: NOW - 30_000 }]);
  });
});

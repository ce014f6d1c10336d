/**
 * The over-quota part of the vending role's cut-off policy (lambda/credentials/over-quota-policy.ts),
 * judged by a real IAM engine with the role's and the session's policies: a listed folder's
 * earlier credentials lose every write into it and nothing else; nothing is ever widened; beyond
 * the budget, the one whole-bucket fallback denies writes to credentials issued before the newest
 * unlisted entry (the documented way a quota touches others) and never after it; and the
 * rendering always fits IAM's budget beside FileBucketAccess and the other cut-offs.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { bucketArn, renderSessionPolicy, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import { liveOverQuota, renderCutOffPolicy, type OverQuotaFolder } from '../../lambda/credentials/over-quota-policy';
import {
  REVOCATION_GROUP_SESSION_TAG,
  policyCharacters,
  revocationBudget,
  revocationGroup,
} from '../../lambda/credentials/revocation';
import { OVER_QUOTA_WRITE_ACTIONS, type PolicyDocument } from '../../policies';

const ACCOUNT = '123456789012';
const BUCKET_ARN = bucketArn('b'.repeat(63));
const VENDING_POLICY = renderVendingRolePolicy(BUCKET_ARN);
const BUDGET = revocationBudget(VENDING_POLICY);
const NOW = Date.UTC(2026, 11, 8, 1, 0, 0);
const alice = parseUsername('alice');
const bob = parseUsername('bob');
const READS_AND_DELETE = ['s3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'];

/** Whether IAM allows `action` on `<owner>/file.bin` to `username`'s credentials issued at `issuedAt`. */
async function allowed(
  username: Username,
  action: string,
  owner: Username,
  issuedAt: number,
  cutOffs: PolicyDocument | undefined,
): Promise<boolean> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/tvm-vending/${username}`,
        action,
        resource: { resource: `${BUCKET_ARN}/${owner}/file.bin`, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalTag/username': username,
          [`aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`]: revocationGroup(username),
          'aws:TokenIssueTime': new Date(issuedAt).toISOString(),
          'aws:CurrentTime': new Date(NOW).toISOString(),
        },
      },
      identityPolicies: [
        { name: 'FileBucketAccess', policy: VENDING_POLICY },
        ...(cutOffs ? [{ name: 'tvm-revoked-users', policy: cutOffs }] : []),
      ],
      sessionPolicy: renderSessionPolicy(BUCKET_ARN, username),
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
  return parseUsername(`${String(index).padStart(6, '0')}-${'q'.repeat(57)}`);
}

describe('a folder over quota on the role, judged by IAM', () => {
  const since = NOW - 10_000;
  const policy = renderCutOffPolicy([], [], [{ username: alice, since }], BUDGET, BUCKET_ARN).policy;

  it.each(OVER_QUOTA_WRITE_ACTIONS)("alice's credentials issued before the instant are refused %s", async (action) => {
    expect(await allowed(alice, action, alice, since - 1000, policy)).toBe(false);
  });

  it.each(READS_AND_DELETE)("they keep %s in alice's folder", async (action) => {
    expect(await allowed(alice, action, alice, since - 1000, policy)).toBe(true);
  });

  it('credentials issued at or after the instant (vended seeing the folder over: no writes in their own policy) are not touched by it', async () => {
    expect(await allowed(alice, 's3:PutObject', alice, since, policy)).toBe(true);
  });

  it("bob's writes into his own folder are untouched, before and after the instant, and he still reaches nothing of alice's", async () => {
    for (const issuedAt of [since - 60_000, since + 1000]) {
      expect(await allowed(bob, 's3:PutObject', bob, issuedAt, policy)).toBe(true);
      expect(await allowed(bob, 's3:GetObject', alice, issuedAt, policy)).toBe(false);
    }
  });

  it('never widens: no action on any folder is allowed with the quota statements that is refused without them', async () => {
    const actions = [...OVER_QUOTA_WRITE_ACTIONS, ...READS_AND_DELETE, 's3:GetObjectTagging', 's3:GetObjectAcl'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(alice, bob),
        fc.constantFrom(...actions),
        fc.constantFrom(alice, bob),
        fc.integer({ min: -120, max: 120 }),
        async (who, action, owner, offsetSeconds) => {
          const issuedAt = since + offsetSeconds * 1000;
          const widened =
            (await allowed(who, action, owner, issuedAt, policy)) &&
            !(await allowed(who, action, owner, issuedAt, undefined));
          expect(widened).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the budget and the whole-bucket fallback', () => {
  it('lists folders by name while they fit, newest first, and covers the rest with one statement', () => {
    const folders: OverQuotaFolder[] = Array.from({ length: 400 }, (_, index) => ({
      username: longName(index),
      since: NOW - index * 1000,
    }));
    const rendered = renderCutOffPolicy([], [], folders, BUDGET, BUCKET_ARN);
    expect(policyCharacters(rendered.policy!)).toBeLessThanOrEqual(BUDGET);
    expect(rendered.quotaListed.length).toBeGreaterThan(10);
    expect(rendered.quotaListed[0]!.since).toBe(NOW);
    expect(rendered.quotaFallback?.folders.length).toBe(400 - rendered.quotaListed.length);
    // The newest unlisted entry's instant: every unlisted folder's earlier credentials are covered.
    expect(rendered.quotaFallback?.before).toBe(Math.max(...rendered.quotaFallback!.folders.map((f) => f.since)));
    const fallback = rendered.policy!.Statement.filter((statement) => statement.Sid?.startsWith('OverQuotaAll'));
    expect(fallback).toHaveLength(1);
    expect(fallback[0]!.Resource).toEqual([`${BUCKET_ARN}/*`]);
  });

  it("the fallback refuses writes to others' credentials issued before its instant only, and never their reads", async () => {
    const folders = Array.from({ length: 400 }, (_, index) => ({
      username: longName(index),
      since: NOW - index * 1000,
    }));
    const rendered = renderCutOffPolicy([], [], folders, BUDGET, BUCKET_ARN);
    const before = rendered.quotaFallback!.before;
    expect(await allowed(bob, 's3:PutObject', bob, before - 1000, rendered.policy)).toBe(false);
    expect(await allowed(bob, 's3:GetObject', bob, before - 1000, rendered.policy)).toBe(true);
    expect(await allowed(bob, 's3:PutObject', bob, before, rendered.policy)).toBe(true);
  });

  it('always fits beside the user and share cut-offs, and keeps them whole', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        (quota, users, shares) => {
          const rendered = renderCutOffPolicy(
            Array.from({ length: users }, (_, index) => ({
              username: longName(10_000 + index),
              cutOffAt: NOW - index * 1000,
            })),
            Array.from({ length: shares }, (_, index) => ({
              shareId: `${'s'.repeat(28)}${String(index).padStart(4, '0')}`,
              cutOffAt: NOW,
            })),
            Array.from({ length: quota }, (_, index) => ({ username: longName(index), since: NOW - index * 1000 })),
            BUDGET,
            BUCKET_ARN,
          );
          const size = rendered.policy === undefined ? 0 : policyCharacters(rendered.policy);
          expect(size).toBeLessThanOrEqual(BUDGET);
          expect(size === 0).toBe(users + shares + quota === 0);
          expect(rendered.quotaListed.length + (rendered.quotaFallback?.folders.length ?? 0)).toBe(quota);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('drops an entry from the role once every credential issued before it has expired', () => {
    const hour = 3600;
    expect(liveOverQuota([{ username: alice, since: NOW - 2 * hour * 1000 }], NOW, hour)).toEqual([]);
    expect(liveOverQuota([{ username: alice, since: NOW - 60_000 }], NOW, hour)).toEqual([
      { username: alice, since: NOW - 60_000 },
    ]);
  });
});

/**
 * The credential cut-off policy (lambda/credentials/revocation.ts): what it denies, evaluated with a
 * real IAM engine together with the role's and the session's policies; that it always fits
 * IAM's aggregate inline-policy quota beside FileBucketAccess, by name while names fit and by
 * revocation group up to and beyond 10,000 revoked users; and that merging never cuts off less.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import {
  REVOKED_GROUPS_STATEMENT_TEMPLATE,
  REVOKED_USERS_STATEMENT_TEMPLATE,
  type PolicyDocument,
} from '../../policies';
import { bucketArn, renderSessionPolicy, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import {
  REVOCATION_GROUP_SESSION_TAG,
  ROLE_INLINE_POLICY_MAX_CHARACTERS,
  RevocationPolicyFullError,
  cutOffInstant,
  liveRevocations,
  nameHeldUntil,
  policyCharacters,
  renderRevocationPolicy,
  revocationBudget,
  revocationExpiresAt,
  revocationGroup,
  type RevokedUser,
} from '../../lambda/credentials/revocation';
import { parseUsername, type Username } from '../../lambda/accounts/username';

const ACCOUNT = '123456789012';
// The longest bucket name S3 allows, so FileBucketAccess takes the most of the budget it can.
const BUCKET_ARN = bucketArn('b'.repeat(63));
const VENDING_POLICY = renderVendingRolePolicy(BUCKET_ARN);
const BUDGET = revocationBudget(VENDING_POLICY);
const NOW = Date.UTC(2026, 11, 2, 8, 0, 0);
const alice = parseUsername('alice');
const bob = parseUsername('bob');

/** A credential of `username` issued at `issuedAt` reading its own file, judged by IAM with the role's inline policies. */
async function canRead(
  username: Username,
  issuedAt: number,
  revocations: PolicyDocument | undefined,
): Promise<boolean> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/tvm-vending/${username}`,
        action: 's3:GetObject',
        resource: { resource: `${BUCKET_ARN}/${username}/file.txt`, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalTag/username': username,
          [`aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`]: revocationGroup(username),
          'aws:TokenIssueTime': new Date(issuedAt).toISOString(),
          'aws:CurrentTime': new Date(NOW).toISOString(),
        },
      },
      identityPolicies: [
        { name: 'FileBucketAccess', policy: VENDING_POLICY },
        ...(revocations ? [{ name: 'tvm-revoked-users', policy: revocations }] : []),
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
  return parseUsername(`${String(index).padStart(6, '0')}-${'x'.repeat(57)}`);
}

describe('the cut-off Deny, judged by IAM', () => {
  const cutOffAt = NOW - 60_000;
  const policy = renderRevocationPolicy([{ username: alice, cutOffAt }], BUDGET).policy;

  it("denies the revoked user's credentials issued before the cut-off", async () => {
    expect(await canRead(alice, cutOffAt - 1000, undefined)).toBe(true);
    expect(await canRead(alice, cutOffAt - 1000, policy)).toBe(false);
  });

  it("lets the revoked user's credentials issued at or after the cut-off work, and every other user's", async () => {
    expect(await canRead(alice, cutOffAt, policy)).toBe(true);
    expect(await canRead(bob, cutOffAt - 1000, policy)).toBe(true);
  });

  it("matches by revocation group once the names do not fit: every revoked user's credentials are denied, fresh ones work", async () => {
    const many = Array.from(
      { length: 10_000 },
      (_, index): RevokedUser => ({ username: longName(index), cutOffAt: cutOffAt - (index % 50) * 1000 }),
    );
    const rendered = renderRevocationPolicy(many, BUDGET);
    expect(rendered.matchedBy).toBe('groups');
    for (const entry of [many[0]!, many[4_321]!, many[9_999]!]) {
      expect(await canRead(entry.username, entry.cutOffAt - 1000, rendered.policy)).toBe(false);
      expect(await canRead(entry.username, cutOffAt + 1000, rendered.policy)).toBe(true);
    }
  });

  it('renders statements from the policies/ templates with IAM-valid statement ids and dates to the second', () => {
    const statement = policy!.Statement[0]!;
    expect(statement).toEqual({
      ...REVOKED_USERS_STATEMENT_TEMPLATE,
      Sid: 'CutOff20261202075900',
      Condition: {
        StringEquals: { 'aws:PrincipalTag/username': ['alice'] },
        DateLessThan: { 'aws:TokenIssueTime': '2026-12-02T07:59:00Z' },
      },
    });
    expect(Object.keys(REVOKED_GROUPS_STATEMENT_TEMPLATE.Condition!.StringEquals!)).toEqual([
      `aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`,
    ]);
    expect(renderRevocationPolicy([], BUDGET).policy).toBeUndefined();
  });
});

describe("size: within IAM's aggregate quota beside FileBucketAccess", () => {
  it('counts characters as IAM does, whitespace excluded', () => {
    expect(policyCharacters('{ "a" :\n\t"b" }')).toBe('{"a":"b"}'.length);
    expect(BUDGET).toBe(ROLE_INLINE_POLICY_MAX_CHARACTERS - policyCharacters(VENDING_POLICY));
  });

  it('names users up to its real ceiling, then switches to groups; both fit the budget exactly or under', () => {
    let named = 0;
    const entries: RevokedUser[] = [];
    for (;;) {
      entries.push({ username: longName(entries.length), cutOffAt: NOW });
      const rendered = renderRevocationPolicy(entries, BUDGET);
      expect(rendered.characters).toBeLessThanOrEqual(BUDGET);
      if (rendered.matchedBy === 'groups') break;
      named = entries.length;
    }
    // 64-character names: 67 characters each with quotes and comma, in one statement.
    expect(named).toBe(
      Math.floor((BUDGET - policyCharacters(renderRevocationPolicy(entries.slice(0, 1), BUDGET).policy!) + 67) / 67),
    );
    expect(named).toBeGreaterThan(100);
  });

  it('fits 10,000 revoked users with 10,000 distinct cut-offs', () => {
    const many = Array.from(
      { length: 10_000 },
      (_, index): RevokedUser => ({ username: longName(index), cutOffAt: NOW - index * 1000 }),
    );
    const rendered = renderRevocationPolicy(many, BUDGET);
    expect(rendered.characters).toBeLessThanOrEqual(BUDGET);
    expect(
      rendered.policy!.Statement.flatMap(
        (statement) => statement.Condition!.StringEquals![`aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`],
      ),
    ).toHaveLength(new Set(many.map((entry) => revocationGroup(entry.username))).size);
  });

  it('refuses with a clear error only when the role leaves too little room for even one grouped statement', () => {
    expect(() => renderRevocationPolicy([{ username: alice, cutOffAt: NOW }], 100)).toThrow(RevocationPolicyFullError);
  });

  it('never cuts anyone off earlier than their entry says, however entries are merged to fit (property)', () => {
    const entry = fc.record({
      username: fc.stringMatching(/^[a-z0-9]{2,64}$/).map(parseUsername),
      cutOffAt: fc.integer({ min: 0, max: 7200 }).map((seconds) => NOW - seconds * 1000),
    });
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1500, max: BUDGET }),
        (entries, budget) => {
          const rendered = renderRevocationPolicy(entries, budget);
          expect(rendered.characters).toBeLessThanOrEqual(budget);
          const key =
            rendered.matchedBy === 'users'
              ? 'aws:PrincipalTag/username'
              : `aws:PrincipalTag/${REVOCATION_GROUP_SESSION_TAG}`;
          for (const { username, cutOffAt } of entries) {
            const value = rendered.matchedBy === 'users' ? username : revocationGroup(username);
            const covering = rendered.policy!.Statement.filter((statement) =>
              (statement.Condition!.StringEquals![key] as string[]).includes(value),
            );
            expect(covering.length).toBeGreaterThan(0);
            expect(
              Math.max(
                ...covering.map((statement) =>
                  Date.parse(statement.Condition!.DateLessThan!['aws:TokenIssueTime'] as string),
                ),
              ),
            ).toBeGreaterThanOrEqual(cutOffAt);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('instants', () => {
  it("puts the cut-off after the server's second has ended plus the margin, on a whole second", () => {
    const serverDate = Date.UTC(2026, 11, 2, 8, 0, 0);
    expect(cutOffInstant(serverDate, 20_000)).toBe(serverDate + 21_000);
    expect(cutOffInstant(serverDate, 20_500) % 1000).toBe(0);
    expect(cutOffInstant(serverDate, 20_500)).toBeGreaterThanOrEqual(serverDate + 21_500);
  });

  it('keeps an entry until every credential it covers has expired, and holds a name longer still', () => {
    const entries = [
      { username: alice, cutOffAt: NOW - 3_600_000 - 11_000 },
      { username: bob, cutOffAt: NOW - 60_000 },
      { username: bob, cutOffAt: NOW - 30_000 },
    ];
    expect(liveRevocations(entries, NOW, 3600)).toEqual([{ username: bob, cutOffAt: NOW - 30_000 }]);
    expect(revocationExpiresAt(NOW, 3600)).toBeGreaterThan(NOW + 3_600_000);
    expect(nameHeldUntil(NOW, 3600)).toBeGreaterThan(revocationExpiresAt(NOW, 3600));
  });

  it('spreads users over the 256 revocation groups', () => {
    const groups = new Set(Array.from({ length: 5000 }, (_, index) => revocationGroup(parseUsername(`user${index}`))));
    expect(groups.size).toBe(256);
    expect([...groups].every((group) => /^[0-9a-f]{2}$/.test(group))).toBe(true);
  });
});

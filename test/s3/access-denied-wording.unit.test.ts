/**
 * The sandbox words AccessDenied as AWS does: an explicit deny names the kind of policy that
 * holds it, an implicit one the kind of policy that allows nothing. Checked against the real
 * policy engine the S3 gate uses, with the vending role's cut-off statement.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { accessDeniedReason } from '../../local/iam/server';
import { bucketArn, renderSessionPolicy, renderVendingRolePolicy } from '../../lambda/credentials/policy';
import { renderRevocationPolicy } from '../../lambda/credentials/revocation';
import { parseUsername } from '../../lambda/accounts/username';
import { SANDBOX_ACCOUNT_ID, SANDBOX_BUCKET } from '../../local/names';

const alice = parseUsername('alice');
const BUCKET = bucketArn(SANDBOX_BUCKET);

async function verdicts(resource: string, issuedAt: number, cutOffAt: number | undefined) {
  const revoked =
    cutOffAt === undefined ? undefined : renderRevocationPolicy([{ username: alice, cutOffAt }], 9_000).policy;
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${SANDBOX_ACCOUNT_ID}:assumed-role/tvm-vending/alice`,
        action: 's3:ListBucket',
        resource: { resource, accountId: SANDBOX_ACCOUNT_ID },
        contextVariables: {
          'aws:PrincipalTag/username': 'alice',
          'aws:TokenIssueTime': new Date(issuedAt).toISOString(),
          's3:prefix': 'alice/',
        },
      },
      identityPolicies: [
        { name: 'FileBucketAccess', policy: renderVendingRolePolicy(BUCKET) },
        ...(revoked ? [{ name: 'tvm-revoked-users', policy: revoked }] : []),
      ],
      sessionPolicy: renderSessionPolicy(BUCKET, alice),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(result.errors.message);
  const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
  return {
    overall: result.overallResult,
    identity: analysis?.identityAnalysis?.result,
    session: analysis?.sessionAnalysis?.result,
  };
}

describe('AccessDenied wording', () => {
  it('names the explicit deny in an identity-based policy for credentials issued before a cut-off', async () => {
    const cutOffAt = Date.UTC(2026, 11, 7, 15, 0, 0);
    const judged = await verdicts(BUCKET, cutOffAt - 5_000, cutOffAt);
    expect(judged.overall).toBe('ExplicitlyDenied');
    expect(accessDeniedReason('s3:ListBucket', judged)).toBe('with an explicit deny in an identity-based policy');
  });

  it("still says no session policy allows it when the request leaves the user's folder", async () => {
    const judged = await verdicts('arn:aws:s3:::another-bucket', Date.now(), undefined);
    expect(judged.overall).not.toBe('Allowed');
    expect(accessDeniedReason('s3:ListBucket', judged)).toMatch(
      /^because no (session|identity-based) policy allows the s3:ListBucket action$/,
    );
  });

  it('orders explicit denies first, as IAM evaluates them', () => {
    expect(accessDeniedReason('s3:GetObject', { identity: 'ExplicitlyDenied', session: 'ImplicitlyDenied' })).toBe(
      'with an explicit deny in an identity-based policy',
    );
    expect(accessDeniedReason('s3:GetObject', { identity: 'Allowed', session: 'ExplicitlyDenied' })).toBe(
      'with an explicit deny in a session policy',
    );
    expect(accessDeniedReason('s3:GetObject', { identity: 'ImplicitlyDenied', session: 'Allowed' })).toBe(
      'because no identity-based policy allows the s3:GetObject action',
    );
    expect(accessDeniedReason('s3:GetObject', { identity: 'Allowed', session: 'ImplicitlyDenied' })).toBe(
      'because no session policy allows the s3:GetObject action',
    );
  });
});

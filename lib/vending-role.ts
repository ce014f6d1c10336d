import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { ArnPrincipal, CfnRole, Grant, Role, type IGrantable, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { renderVendingRolePolicy, renderVendingRoleTrustPolicy } from '../lambda/credentials/policy';
import { VENDING_ROLE_POLICY_NAME } from '../policies';

/**
 * The STS actions a vending function calls on the vending role: AssumeRole itself, TagSession
 * for the `username` session tag, SetSourceIdentity so CloudTrail names the user.
 */
export const VENDING_ACTIONS = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] as const;

/** Props of {@link VendingRole}. */
export interface VendingRoleProps {
  /** The users' file bucket; the role's policy reaches this bucket and nothing else. */
  readonly bucket: IBucket;
  /** The execution roles allowed to assume this role: one per function that vends credentials. */
  readonly trustedRoles: readonly IRole[];
}

/**
 * The restricted role whose temporary credentials the TVM hands to apps. Its own policy is the
 * ceiling of what any vended credential can do (policies/vending-role-policy.json with the real
 * bucket ARN); each AssumeRole call narrows it further to one user's folder with a session
 * policy. Sessions last at most one hour: the functions assume it from their own role-session
 * credentials, and role chaining caps a session at one hour whatever the role allows.
 */
export class VendingRole extends Construct {
  /** The role. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: VendingRoleProps) {
    super(scope, id);
    const [first] = props.trustedRoles;
    if (!first) throw new Error('VendingRole: give at least one trusted execution role.');
    this.role = new Role(this, 'Role', {
      description: 'Assumed by the TVM for each user; session policies narrow it to the user folder.',
      assumedBy: new ArnPrincipal(first.roleArn),
      maxSessionDuration: Duration.hours(1),
    });
    // The trust policy is the policies/ template, set on the L1 resource like the role's own
    // policy: every vending function's role, only with a source identity and the TVM's tag keys
    // (the CDK's principals cannot state those conditions on TagSession and SetSourceIdentity).
    (this.role.node.defaultChild as CfnRole).assumeRolePolicyDocument = renderVendingRoleTrustPolicy(
      props.trustedRoles.map((role) => role.roleArn),
    );
    // Set on the L1 resource so the deployed document is the policies/ file exactly, statement
    // and action order included (the L2 PolicyDocument would sort and merge it). Grants made
    // with addToPolicy land in a separate AWS::IAM::Policy and are unaffected.
    (this.role.node.defaultChild as CfnRole).policies = [
      { policyName: VENDING_ROLE_POLICY_NAME, policyDocument: renderVendingRolePolicy(props.bucket.bucketArn) },
    ];
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdHint(props.bucket)}.Arn>/*]`,
      reason:
        'Object actions on every key of the file bucket are the ceiling for all users; each AssumeRole call passes a session policy that narrows the credentials to <bucket>/<username>/* (policies/session-policy.json).',
    });
  }

  /**
   * A role-name pattern matching this role and every role that replaces it or that it replaced:
   * CloudFormation names the role `<stack name>-<logical id>-<random>` (no truncation: the
   * stack name has at most 20 characters), so the pattern reaches this stack's vending role in
   * any generation, under any path, and no other role.
   */
  get roleNamePattern(): string {
    const stack = Stack.of(this);
    return `*${stack.stackName}-${stack.getLogicalId(this.role.node.defaultChild as CfnElement)}-*`;
  }

  /** Allows a function's role to assume this role with session tags and a source identity. */
  grantVending(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({ grantee, actions: [...VENDING_ACTIONS], resourceArns: [this.role.roleArn] });
  }
}

/** The bucket's CloudFormation logical ID, which cdk-nag uses to name a finding on its ARN. */
function logicalIdHint(bucket: IBucket): string {
  return bucket.stack.getLogicalId(bucket.node.defaultChild as CfnElement);
}

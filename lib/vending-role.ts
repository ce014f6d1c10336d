import { Duration, Validations, type CfnElement } from 'aws-cdk-lib';
import {
  ArnPrincipal,
  CfnRole,
  Grant,
  PolicyDocument,
  PolicyStatement,
  Role,
  type IGrantable,
  type IRole,
} from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { renderVendingRolePolicy } from '../lambda/credentials/policy';
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
  /** The one execution role allowed to assume this role: the vending functions' role. */
  readonly trustedRole: IRole;
}

/**
 * Trusts exactly one principal, with all three vending actions in one trust statement (the
 * CDK's principals only add sts:AssumeRole, and TagSession via withSessionTags()).
 */
class VendingFunctionsPrincipal extends ArnPrincipal {
  override addToAssumeRolePolicy(document: PolicyDocument): void {
    document.addStatements(
      new PolicyStatement({ actions: [...VENDING_ACTIONS], principals: [new ArnPrincipal(this.arn)] }),
    );
  }
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
    this.role = new Role(this, 'Role', {
      description: 'Assumed by the TVM for each user; session policies narrow it to the user folder.',
      assumedBy: new VendingFunctionsPrincipal(props.trustedRole.roleArn),
      maxSessionDuration: Duration.hours(1),
    });
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

  /** Allows a function's role to assume this role with session tags and a source identity. */
  grantVending(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({ grantee, actions: [...VENDING_ACTIONS], resourceArns: [this.role.roleArn] });
  }
}

/** The bucket's CloudFormation logical ID, which cdk-nag uses to name a finding on its ARN. */
function logicalIdHint(bucket: IBucket): string {
  return bucket.stack.getLogicalId(bucket.node.defaultChild as CfnElement);
}

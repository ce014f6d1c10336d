import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, type Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RolePolicyCleanupProperties } from '../lambda/custom-resources/role-policy-cleanup';

/** Props of {@link RolePolicyCleanup}. */
export interface RolePolicyCleanupProps {
  /** The role whose operator-added inline policies must go before CloudFormation deletes it. */
  readonly role: IRole;
  /**
   * Name pattern (IAM wildcards) of every role this clean-up may be asked about: the role and
   * any role that replaced it or that it replaced (the Delete for the old role arrives after
   * the rights moved on to the new one).
   * @default the role's own ARN only (a replaced role's policies then cannot be removed)
   */
  readonly roleNamePattern?: string;
  /** Inline policies whose name starts with this are removed; the stack's own never do. */
  readonly policyNamePrefix: string;
  /** Runtime, bundling and log settings shared with the API's functions. */
  readonly runtime: Runtime;
  readonly bundling: BundlingOptions;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Removes the inline policies tvm-admin added to a role (the credential cut-off list) when
 * the stack is deleted, and from a role that was replaced. The custom resource names the role,
 * so CloudFormation deletes it first; its function may only list and delete inline policies,
 * of the roles `roleArnPattern` matches.
 */
export class RolePolicyCleanup extends Construct {
  /** The custom resource. */
  readonly resource: CustomResource;
  /** The function behind it. */
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: RolePolicyCleanupProps) {
    super(scope, id);
    const role = new Role(this, 'Role', {
      description: "TVM stack clean-up: removes tvm-admin's inline policies from the vending role on stack deletion.",
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'CliManagedInlinePolicies',
        actions: ['iam:ListRolePolicies', 'iam:DeleteRolePolicy'],
        resources: [
          props.roleNamePattern === undefined
            ? props.role.roleArn
            : Stack.of(this).formatArn({
                service: 'iam',
                region: '',
                resource: 'role',
                resourceName: props.roleNamePattern,
                arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
              }),
        ],
      }),
    );
    if (props.roleNamePattern !== undefined) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${props.roleNamePattern}]`,
        reason:
          "The pattern is the vending role's CloudFormation-generated name (stack name and logical id), so it matches that one role in every generation: a replaced role's Delete arrives after the rights moved to its successor. Only listing and deleting inline policies, and only those with tvm-admin's prefix.",
      });
    }
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    logGroup.grantWrite(role);
    this.function = new NodejsFunction(this, 'Function', {
      description: "TVM: removes tvm-admin's inline policies from the vending role before CloudFormation deletes it",
      entry: path.join(__dirname, '..', 'lambda', 'custom-resources', 'role-policy-cleanup.ts'),
      handler: 'handler',
      projectRoot: path.join(__dirname, '..'),
      depsLockFilePath: path.join(__dirname, '..', 'package-lock.json'),
      runtime: props.runtime,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      role,
      logGroup,
      bundling: props.bundling,
    });
    const properties: RolePolicyCleanupProperties = {
      RoleName: props.role.roleName,
      PolicyNamePrefix: props.policyNamePrefix,
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::CliManagedRolePolicies',
      properties: { ...properties },
    });
    // The function's rights must outlive the Delete event, which comes before they are removed.
    this.resource.node.addDependency(role);
  }
}

import { CfnResource, Fn, type RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link ProviderLogGroups}. */
export interface ProviderLogGroupsProps {
  readonly retention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Log groups, with the stack's retention and removal policy, for the functions the CDK adds
 * without one: the custom-resource providers (the buckets' auto-delete provider in `dev`).
 * Lambda would create `/aws/lambda/<name>` on their first invocation, with no retention and
 * outside the stack, so `cdk destroy` would leave it. Made here first, and every custom
 * resource waits for them, so the group exists before any provider writes to it and is
 * deleted only after the last Delete event was handled. Add it after every other construct.
 */
export class ProviderLogGroups extends Construct {
  /** The log groups made, one per provider function. */
  readonly logGroups: LogGroup[] = [];

  constructor(scope: Stack, id: string, props: ProviderLogGroupsProps) {
    super(scope, id);
    const resources = scope.node.findAll().filter((child): child is CfnResource => child instanceof CfnResource);
    // The route functions, workers and clean-up are L2 functions with their own log group (CfnFunction).
    const providers = resources.filter(
      (resource) => resource.cfnResourceType === 'AWS::Lambda::Function' && !(resource instanceof CfnFunction),
    );
    for (const [index, provider] of providers.entries()) {
      this.logGroups.push(
        new LogGroup(this, `Provider${index}`, {
          logGroupName: Fn.join('', ['/aws/lambda/', provider.ref]),
          retention: props.retention,
          removalPolicy: props.removalPolicy,
        }),
      );
    }
    for (const custom of resources.filter((resource) => resource.cfnResourceType.startsWith('Custom::'))) {
      for (const logGroup of this.logGroups) custom.addDependency(logGroup.node.defaultChild as CfnResource);
    }
  }
}

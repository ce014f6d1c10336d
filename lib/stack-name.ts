/** The CloudFormation stack name for a stage; tvm-admin derives its default target from it without loading the CDK. */
export function stackNameFor(stage: string): string {
  return `tvm-${stage}`;
}

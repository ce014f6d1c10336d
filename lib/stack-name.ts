/**
 * How the CDK app names its stack, without loading the CDK: tvm-admin derives the stack it
 * acts on by default from the same facts.
 */

/** The stage a deploy uses when none is given: `prod`, the safe side (resources retained). */
export const DEFAULT_STAGE = 'prod';

/** The CloudFormation stack name for a stage. */
export function stackNameFor(stage: string): string {
  return `tvm-${stage}`;
}

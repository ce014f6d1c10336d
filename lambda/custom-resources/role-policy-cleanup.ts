/**
 * A CloudFormation custom resource that, when it is deleted, removes the inline policies an
 * operator's tool added to a role (those whose name starts with a prefix). CloudFormation
 * deletes this resource before the role it names, and IAM refuses to delete a role that still
 * has inline policies CloudFormation does not know, so without it `cdk destroy` would fail.
 * Create and Update remove nothing; the physical id is the role's name, so when the role is
 * replaced an Update answers the new name and CloudFormation then sends a Delete for the old
 * id (the old role), which removes the old role's policies before CloudFormation deletes it.
 * The answer goes to CloudFormation's presigned response URL.
 */
import {
  DeleteRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** The custom resource's properties, as the stack sets them. */
export interface RolePolicyCleanupProperties {
  /** The role whose extra inline policies are removed. */
  readonly RoleName: string;
  /** Only inline policies whose name starts with this are removed. */
  readonly PolicyNamePrefix: string;
}

/** The IAM calls the clean-up makes; the IAM client in production, a mock in tests. */
export type IamSender = Pick<IAMClient, 'send'>;

/**
 * Deletes every inline policy of `roleName` whose name starts with `prefix` (every page of
 * the listing) and returns their names. A policy already gone counts as removed.
 */
export async function removeInlinePolicies(iam: IamSender, roleName: string, prefix: string): Promise<string[]> {
  if (prefix === '') throw new Error('Refusing to remove every inline policy: the prefix is empty.');
  const names: string[] = [];
  for await (const page of paginateListRolePolicies({ client: iam as IAMClient }, { RoleName: roleName })) {
    names.push(...(page.PolicyNames ?? []).filter((name) => name.startsWith(prefix)));
  }
  for (const name of names) {
    try {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    } catch (error) {
      if (!(error instanceof NoSuchEntityException)) throw error;
    }
  }
  return names;
}

/** What CloudFormation is told. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/** Handles one event and returns the answer for CloudFormation (without sending it). */
export async function answer(
  event: CloudFormationCustomResourceEvent,
  iam: IamSender,
): Promise<CustomResourceResponse> {
  const { RoleName: namedRole, PolicyNamePrefix: prefix } =
    event.ResourceProperties as unknown as RolePolicyCleanupProperties;
  // The role's name is the physical id. Create and Update answer the role the properties name
  // now: after a replacement that is a new id, so CloudFormation sends a Delete for the old one.
  // A Delete acts on the id it carries (the replaced role), whatever the properties say.
  const physicalId = event.RequestType === 'Delete' ? event.PhysicalResourceId : namedRole;
  const roleName = physicalId;
  const base = {
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  if (event.RequestType !== 'Delete') return { Status: 'SUCCESS', ...base };
  try {
    const removed = await removeInlinePolicies(iam, roleName, prefix);
    console.log(JSON.stringify({ message: 'removed inline policies', roleName, removed }));
    return { Status: 'SUCCESS', ...base };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    console.error(JSON.stringify({ message: 'could not remove inline policies', roleName, error: name }));
    return {
      Status: 'FAILED',
      Reason: `Could not remove the ${prefix}* inline policies of ${roleName} (${name}); see the function's log.`,
      ...base,
    };
  }
}

const iam = new IAMClient({});

/** The Lambda entry point: answers CloudFormation at the event's presigned response URL. */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  const response = await answer(event, iam);
  // The presigned URL signs no content type; an empty one is what CloudFormation expects.
  const sent = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '' },
    body: JSON.stringify(response),
  });
  if (!sent.ok) throw new Error(`CloudFormation's response URL answered ${sent.status}.`);
}

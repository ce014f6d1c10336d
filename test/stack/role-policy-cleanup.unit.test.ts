/**
 * The stack's clean-up custom resource: on Delete it removes the vending role's inline
 * policies with tvm-admin's prefix (every page, already-gone ones tolerated) and nothing else;
 * Create and Update change nothing, and a replaced role gets its own Delete; a failure is
 * reported to CloudFormation, not thrown.
 */
import {
  DeleteRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { answer, removeInlinePolicies } from '../../lambda/custom-resources/role-policy-cleanup';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });

function event(requestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:cleanup',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/tvm-dev/1',
    RequestId: 'request-1',
    LogicalResourceId: 'VendingRoleCleanup',
    ResourceType: 'Custom::CliManagedRolePolicies',
    ResourceProperties: { ServiceToken: 'x', RoleName: 'tvm-dev-VendingRole', PolicyNamePrefix: 'tvm-' },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update')
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: 'tvm-dev-VendingRole',
      OldResourceProperties: { ServiceToken: 'x' },
    };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: 'tvm-dev-VendingRole' };
}

beforeEach(() => {
  iamMock.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('removeInlinePolicies', () => {
  it('deletes every prefixed inline policy on every page and leaves the stack-managed ones', async () => {
    iamMock
      .on(ListRolePoliciesCommand, { Marker: undefined })
      .resolves({ PolicyNames: ['FileBucketAccess', 'tvm-revoked-users'], IsTruncated: true, Marker: 'page-2' })
      .on(ListRolePoliciesCommand, { Marker: 'page-2' })
      .resolves({ PolicyNames: ['tvm-revoked-users-2', 'other-tool'], IsTruncated: false });
    iamMock.on(DeleteRolePolicyCommand).resolves({});

    await expect(removeInlinePolicies(iam, 'tvm-dev-VendingRole', 'tvm-')).resolves.toEqual([
      'tvm-revoked-users',
      'tvm-revoked-users-2',
    ]);
    expect(iamMock.commandCalls(DeleteRolePolicyCommand).map((call) => call.args[0].input)).toEqual([
      { RoleName: 'tvm-dev-VendingRole', PolicyName: 'tvm-revoked-users' },
      { RoleName: 'tvm-dev-VendingRole', PolicyName: 'tvm-revoked-users-2' },
    ]);
  });

  it('counts a policy deleted meanwhile (NoSuchEntity) as removed', async () => {
    iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['tvm-revoked-users'] });
    iamMock.on(DeleteRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'gone', $metadata: {} }));
    await expect(removeInlinePolicies(iam, 'role', 'tvm-')).resolves.toEqual(['tvm-revoked-users']);
  });

  it('refuses an empty prefix, which would remove the stack-managed policies too', async () => {
    await expect(removeInlinePolicies(iam, 'role', '')).rejects.toThrow(/prefix is empty/);
    expect(iamMock.calls()).toHaveLength(0);
  });
});

describe('the custom resource answer', () => {
  it.each(['Create', 'Update'] as const)(
    'changes nothing on %s and names the role as the physical id',
    async (requestType) => {
      const response = await answer(event(requestType), iam);
      expect(response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: 'tvm-dev-VendingRole',
        RequestId: 'request-1',
      });
      expect(iamMock.calls()).toHaveLength(0);
    },
  );

  it('survives a replacement of the role: Create, Update with a new role name, then the Delete for the old role clears the old role only', async () => {
    const properties = (roleName: string) => ({ ServiceToken: 'x', RoleName: roleName, PolicyNamePrefix: 'tvm-' });
    const base = event('Create');
    const created = await answer(
      { ...base, RequestType: 'Create', ResourceProperties: properties('tvm-dev-old') },
      iam,
    );
    expect(created.PhysicalResourceId).toBe('tvm-dev-old');

    const updated = await answer(
      {
        ...base,
        RequestType: 'Update',
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: properties('tvm-dev-new'),
        OldResourceProperties: properties('tvm-dev-old'),
      },
      iam,
    );
    // A new physical id is what makes CloudFormation send a Delete for the old one.
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'tvm-dev-new' });
    expect(iamMock.calls()).toHaveLength(0);

    iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['FileBucketAccess', 'tvm-revoked-users'] });
    iamMock.on(DeleteRolePolicyCommand).resolves({});
    // CloudFormation's clean-up Delete carries the old id; whichever properties it carries, the id decides.
    for (const carried of ['tvm-dev-old', 'tvm-dev-new']) {
      iamMock.resetHistory();
      const deleted = await answer(
        { ...base, RequestType: 'Delete', PhysicalResourceId: 'tvm-dev-old', ResourceProperties: properties(carried) },
        iam,
      );
      expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'tvm-dev-old' });
      expect(iamMock.commandCalls(ListRolePoliciesCommand).map((call) => call.args[0].input.RoleName)).toEqual([
        'tvm-dev-old',
      ]);
      expect(iamMock.commandCalls(DeleteRolePolicyCommand).map((call) => call.args[0].input)).toEqual([
        { RoleName: 'tvm-dev-old', PolicyName: 'tvm-revoked-users' },
      ]);
    }
  });

  it('removes the prefixed policies on Delete and answers SUCCESS', async () => {
    iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['FileBucketAccess', 'tvm-revoked-users'] });
    iamMock.on(DeleteRolePolicyCommand).resolves({});
    await expect(answer(event('Delete'), iam)).resolves.toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'tvm-dev-VendingRole',
    });
    expect(iamMock.commandCalls(DeleteRolePolicyCommand)).toHaveLength(1);
  });

  it('answers FAILED with the error name and no AWS message when IAM refuses', async () => {
    const refusal = Object.assign(
      new Error('User: arn:aws:sts::123456789012:assumed-role/secret-detail is not authorized'),
      { name: 'AccessDenied' },
    );
    iamMock.on(ListRolePoliciesCommand).rejects(refusal);
    const response = await answer(event('Delete'), iam);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('AccessDenied');
    expect(response.Reason).not.toContain('secret-detail');
  });
});

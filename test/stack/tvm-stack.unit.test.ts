/**
 * The deployed shape of the TVM, synthesised once with real esbuild bundling and cdk-nag on:
 * a snapshot (asset hashes masked) plus one assertion per security property the issue names.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { ROUTES, THROTTLED_MESSAGE, type RouteDefinition } from '../../lambda/contract/routes';
import { routeThrottles } from '../../lib/throttles';
import { toApiGatewaySchema } from '../../lib/tvm-api';
import { queriesSessionIndex, tableActionsFor } from '../../lambda/contract/routes';
import { DEFAULT_SETTINGS, settingsEnvironment } from '../../lambda/platform/settings';
import { renderVendingRolePolicy, renderVendingRoleTrustPolicy } from '../../lambda/credentials/policy';
import { SESSION_TAG_KEYS } from '../../lambda/credentials/session-tags';
import { VENDING_ACTIONS } from '../../lib/vending-role';
import { maskAssetHashes } from './mask-asset-hashes';
import {
  assertHasResourceProperties,
  assertResourceCount,
  staleAcknowledgements,
  synthesiseTvm,
  unacknowledgedFindings,
  type SynthesisedTvm,
  type TemplateJson,
} from './synth';

expect.addSnapshotSerializer(maskAssetHashes);

let tvm: SynthesisedTvm;
beforeAll(() => {
  tvm = synthesiseTvm();
}, 120_000);

/** The logical ID CloudFormation knows a construct's resource by. */
function idOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

/** The logical ID of a route's function's own execution role. */
function functionRoleId(name: string): string {
  const role = tvm.stack.api.functionRoles.get(name as RouteDefinition['name']);
  if (!role) throw new Error(`no execution role for ${name}`);
  return idOf(role);
}

function resource(
  json: TemplateJson,
  id: string,
): { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string } {
  const found = json.Resources[id];
  if (!found) throw new Error(`No resource ${id}`);
  return { ...found, Properties: found.Properties ?? {} };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
  Sid?: string;
}

const asList = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** Every Allow statement granted to a role, from its AWS::IAM::Policy resources and inline policies. */
function allowStatementsOf(json: TemplateJson, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const item of Object.values(json.Resources)) {
    const properties = item.Properties ?? {};
    if (item.Type === 'AWS::IAM::Policy') {
      const roles = (properties.Roles as unknown[]) ?? [];
      if (roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }))) {
        statements.push(...((properties.PolicyDocument as { Statement: Statement[] }).Statement ?? []));
      }
    }
  }
  const role = resource(json, roleId).Properties;
  for (const policy of (role.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []) {
    statements.push(...policy.PolicyDocument.Statement);
  }
  return statements.filter((statement) => statement.Effect === 'Allow');
}

/** Replaces the bucket's ARN token with a literal and joins Fn::Join, so a policy compares with a rendered one. */
function withLiteralBucketArn(value: unknown, bucketId: string, literalArn: string): unknown {
  if (Array.isArray(value)) return value.map((item) => withLiteralBucketArn(item, bucketId, literalArn));
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (JSON.stringify(object) === JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] })) return literalArn;
    const join = object['Fn::Join'] as [string, unknown[]] | undefined;
    if (join)
      return (join[1].map((part) => withLiteralBucketArn(part, bucketId, literalArn)) as string[]).join(join[0]);
    return Object.fromEntries(
      Object.entries(object).map(([key, item]) => [key, withLiteralBucketArn(item, bucketId, literalArn)]),
    );
  }
  return value;
}

describe('the synthesised TVM stack', () => {
  it('matches the snapshot (asset hashes masked)', () => {
    expect(tvm.json).toMatchSnapshot();
  });

  it('passes cdk-nag AwsSolutions checks with no unacknowledged finding', () => {
    expect(unacknowledgedFindings(tvm.app)).toEqual([]);
  });

  it('acknowledges only findings that exist (no stale cdk-nag acknowledgement)', () => {
    expect(staleAcknowledgements(tvm.app)).toEqual([]);
  });

  it('names the stack after the stage and defaults the stage to prod', () => {
    expect(tvm.stack.stackName).toBe('tvm-prod');
    expect(tvm.stack.settings.stage).toBe('prod');
  });

  describe('file bucket', () => {
    it('blocks all public access', () => {
      expect(resource(tvm.json, idOf(tvm.stack.fileBucket.bucket)).Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it('denies every request that does not use TLS, by bucket policy', () => {
      const bucketId = idOf(tvm.stack.fileBucket.bucket);
      assertHasResourceProperties(tvm.template, 'AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: [
                { 'Fn::GetAtt': [bucketId, 'Arn'] },
                { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
              ],
            }),
          ]),
        },
      });
    });

    it('is encrypted, versioned, and expires noncurrent versions and incomplete uploads', () => {
      const bucket = resource(tvm.json, idOf(tvm.stack.fileBucket.bucket)).Properties;
      expect(bucket.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.LifecycleConfiguration).toEqual({
        Rules: expect.arrayContaining([
          expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
          expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
        ]),
      });
    });

    it('sends server access logs to the log bucket, which is itself private and TLS-only', () => {
      const logBucketId = idOf(tvm.stack.fileBucket.accessLogBucket);
      expect(resource(tvm.json, idOf(tvm.stack.fileBucket.bucket)).Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logBucketId },
        LogFilePrefix: 'file-bucket/',
      });
      expect(resource(tvm.json, logBucketId).Properties.PublicAccessBlockConfiguration).toMatchObject({
        BlockPublicPolicy: true,
      });
      assertHasResourceProperties(tvm.template, 'AWS::S3::BucketPolicy', {
        Bucket: { Ref: logBucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('allows CORS from the configured origins', () => {
      expect(resource(tvm.json, idOf(tvm.stack.fileBucket.bucket)).Properties.CorsConfiguration).toEqual({
        CorsRules: [
          expect.objectContaining({
            AllowedOrigins: ['*'],
            AllowedMethods: expect.arrayContaining(['GET', 'PUT', 'DELETE']),
          }),
        ],
      });
    });

    it('is retained when the stack is deleted outside dev', () => {
      expect(resource(tvm.json, idOf(tvm.stack.fileBucket.bucket)).DeletionPolicy).toBe('Retain');
      expect(resource(tvm.json, idOf(tvm.stack.fileBucket.accessLogBucket)).DeletionPolicy).toBe('Retain');
    });
  });

  describe('user table', () => {
    it('is on-demand with point-in-time recovery, the TTL attribute and deletion protection, and retained', () => {
      const table = resource(tvm.json, idOf(tvm.stack.userTable.table));
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      });
      expect(table.DeletionPolicy).toBe('Retain');
    });
  });

  describe('vending role', () => {
    it('is trusted by exactly the execution roles of the routes that vend, with a source identity and only the TVM’s session tag keys', () => {
      const role = resource(tvm.json, idOf(tvm.stack.vendingRole.role)).Properties;
      const vending = ROUTES.filter((route) => route.vendsCredentials);
      expect(vending.length).toBeGreaterThan(3);
      expect(role.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'VendingFunctionsWithSourceIdentityAndTvmTags',
            Effect: 'Allow',
            Principal: { AWS: vending.map((route) => ({ 'Fn::GetAtt': [functionRoleId(route.name), 'Arn'] })) },
            Action: [...VENDING_ACTIONS],
            Condition: {
              Null: { 'sts:SourceIdentity': 'false' },
              'ForAllValues:StringEquals': { 'aws:TagKeys': [...SESSION_TAG_KEYS] },
            },
          },
        ],
      });
      expect(JSON.stringify(role.AssumeRolePolicyDocument)).not.toMatch(/:root|AWS::AccountId/);
    });

    it('keeps its trust policy under IAM’s 2,048-character default quota with the longest role names in the longest partition', () => {
      const vendingCount = ROUTES.filter((route) => route.vendsCredentials).length;
      const longest = (index: number) => `arn:aws-us-gov:iam::123456789012:role/${`r${index}`.padEnd(64, 'x')}`;
      const rendered = renderVendingRoleTrustPolicy(Array.from({ length: vendingCount }, (_, index) => longest(index)));
      // IAM counts characters without whitespace.
      expect(JSON.stringify(rendered).replace(/\s/g, '').length).toBeLessThanOrEqual(2048);
    });

    it('allows sessions of at most one hour', () => {
      expect(resource(tvm.json, idOf(tvm.stack.vendingRole.role)).Properties.MaxSessionDuration).toBe(3600);
    });

    it('has exactly the policies/ vending-role policy, with the real bucket ARN', () => {
      const role = resource(tvm.json, idOf(tvm.stack.vendingRole.role)).Properties;
      const policies = role.Policies as { PolicyName: string; PolicyDocument: unknown }[];
      expect(policies).toHaveLength(1);
      const literalArn = 'arn:aws:s3:::tvm-test-bucket';
      const deployed = withLiteralBucketArn(policies[0]?.PolicyDocument, idOf(tvm.stack.fileBucket.bucket), literalArn);
      expect(deployed).toEqual(renderVendingRolePolicy(literalArn));
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(allowStatementsOf(tvm.json, idOf(tvm.stack.vendingRole.role))).toHaveLength(
        renderVendingRolePolicy(literalArn).Statement.length,
      );
    });
  });

  describe('function execution roles', () => {
    /** Every route with its function's own execution role. */
    const roles = (): [RouteDefinition, string][] => ROUTES.map((route) => [route, functionRoleId(route.name)]);

    it('give every function a role of its own', () => {
      const ids = roles().map(([, roleId]) => roleId);
      expect(new Set(ids).size).toBe(ROUTES.length);
      for (const [route, roleId] of roles()) {
        const fn = tvm.stack.api.functions.get(route.name);
        if (!fn) throw new Error(`no function for ${route.name}`);
        expect(resource(tvm.json, idOf(fn)).Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
        expect(resource(tvm.json, roleId).Properties.AssumeRolePolicyDocument).toEqual({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }],
        });
      }
    });

    it('never allow an action with a wildcard, and use no managed policy', () => {
      for (const [, roleId] of roles()) {
        const actions = allowStatementsOf(tvm.json, roleId).flatMap((statement) => asList(statement.Action));
        expect(actions.length).toBeGreaterThan(0);
        expect(actions.filter((action) => action.includes('*'))).toEqual([]);
        expect(resource(tvm.json, roleId).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('allow no action with a wildcard anywhere in the stack', () => {
      const policyResources = Object.values(tvm.json.Resources).filter((item) => item.Type === 'AWS::IAM::Policy');
      const actions = policyResources.flatMap((item) =>
        ((item.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? [])
          .filter((statement) => statement.Effect === 'Allow')
          .flatMap((statement) => asList(statement.Action)),
      );
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    });

    it('name exactly their own route’s DynamoDB item actions on the table ARN alone, and Query only on the sessions index', () => {
      const tableArn = { 'Fn::GetAtt': [idOf(tvm.stack.userTable.table), 'Arn'] };
      const indexArn = { 'Fn::Join': ['', [tableArn, '/index/sessionsByOwner']] };
      for (const [route, roleId] of roles()) {
        const dynamo = allowStatementsOf(tvm.json, roleId).filter((statement) =>
          asList(statement.Action).some((a) => a.startsWith('dynamodb:')),
        );
        const expected: unknown[] = [];
        const itemActions = tableActionsFor([route]);
        if (itemActions.length > 0)
          expected.push({
            Sid: 'UserTable',
            Effect: 'Allow',
            Action: itemActions.length === 1 ? itemActions[0] : itemActions,
            Resource: tableArn,
          });
        if (queriesSessionIndex([route]))
          expected.push({ Sid: 'SessionsByOwnerIndex', Effect: 'Allow', Action: 'dynamodb:Query', Resource: indexArn });
        expect(dynamo).toEqual(expected);
        expect(dynamo.flatMap((statement) => asList(statement.Action))).not.toContain('dynamodb:Scan');
      }
    });

    it('the /token function may neither DeleteItem nor Query (it got the union of the vending routes’ before)', () => {
      const actions = allowStatementsOf(tvm.json, functionRoleId('token')).flatMap((statement) =>
        asList(statement.Action),
      );
      expect(actions).not.toContain('dynamodb:DeleteItem');
      expect(actions).not.toContain('dynamodb:Query');
    });

    it('let only the roles of the routes that vend call AssumeRole, TagSession and SetSourceIdentity, on the vending role alone', () => {
      for (const [route, roleId] of roles()) {
        const sts = allowStatementsOf(tvm.json, roleId).filter((statement) =>
          asList(statement.Action).some((a) => a.startsWith('sts:')),
        );
        expect(sts).toEqual(
          route.vendsCredentials
            ? [
                {
                  Effect: 'Allow',
                  Action: [...VENDING_ACTIONS].sort(),
                  Resource: { 'Fn::GetAtt': [idOf(tvm.stack.vendingRole.role), 'Arn'] },
                },
              ]
            : [],
        );
      }
    });

    it('give no API function any IAM right, and let only the functions that revoke shares invoke the cut-off worker, that one function alone', () => {
      expect(ROUTES.filter((route) => route.cutsOffShares === true).map((route) => route.name)).toEqual([
        'shareDelete',
      ]);
      for (const [route, roleId] of roles()) {
        const statements = allowStatementsOf(tvm.json, roleId);
        const actions = statements.flatMap((statement) => asList(statement.Action));
        expect(actions.filter((action) => action.toLowerCase().startsWith('iam:'))).toEqual([]);
        const invoking = statements.filter((statement) =>
          asList(statement.Action).some((a) => a.startsWith('lambda:')),
        );
        expect(invoking).toEqual(
          route.cutsOffShares === true
            ? [
                {
                  Sid: 'InvokeCutOffWorker',
                  Effect: 'Allow',
                  Action: 'lambda:InvokeFunction',
                  Resource: { 'Fn::GetAtt': [idOf(tvm.stack.deletionWorker.function), 'Arn'] },
                },
              ]
            : [],
        );
      }
      // Nothing else in the stack may invoke the worker but its schedule, and the storage meter's
      // functions when a folder crosses its quota (the over-quota cut-off).
      const invokers = Object.entries(tvm.json.Resources)
        .filter(([, item]) => item.Type === 'AWS::IAM::Policy')
        .filter(([, item]) =>
          ((item.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? []).some((statement) =>
            asList(statement.Action).includes('lambda:InvokeFunction'),
          ),
        )
        .flatMap(([, item]) => item.Properties?.Roles as unknown[]);
      expect(invokers).toEqual([
        { Ref: functionRoleId('shareDelete') },
        { Ref: idOf(tvm.stack.usageMeter.meterFunction.role as never) },
        { Ref: idOf(tvm.stack.usageMeter.reconcileFunction.role as never) },
      ]);
    });

    it('write logs only to their own function’s log group', () => {
      for (const [route, roleId] of roles()) {
        const logs = allowStatementsOf(tvm.json, roleId).filter((statement) =>
          asList(statement.Action).some((a) => a.startsWith('logs:')),
        );
        expect(logs).toHaveLength(1);
        expect(asList(logs[0]?.Action ?? [])).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
        const fn = tvm.stack.api.functions.get(route.name);
        const logGroup = fn && (resource(tvm.json, idOf(fn)).Properties.LoggingConfig as { LogGroup: { Ref: string } });
        expect(logs[0]?.Resource).toEqual({ 'Fn::GetAtt': [logGroup?.LogGroup.Ref, 'Arn'] });
      }
    });
  });

  describe('functions', () => {
    it('run one function per route on the newest Node.js runtime, arm64, with a timeout inside API Gateway’s 29 s', () => {
      const newestNode = Runtime.ALL.map((runtime) => runtime.name)
        .filter((name) => /^nodejs\d+\.x$/.test(name))
        .sort((a, b) => Number.parseInt(a.slice(6), 10) - Number.parseInt(b.slice(6), 10))
        .at(-1);
      for (const route of ROUTES) {
        const fn = tvm.stack.api.functions.get(route.name);
        if (!fn) throw new Error(`no function for ${route.name}`);
        const properties = resource(tvm.json, idOf(fn)).Properties;
        expect(properties).toMatchObject({
          Runtime: newestNode,
          Architectures: ['arm64'],
          Handler: 'index.handler',
          MemorySize: route.memoryMb,
        });
        expect(properties.Timeout).toBeLessThan(29);
      }
    });

    it('give the password routes one full vCPU (1,769 MB) for bcrypt', () => {
      const memoryOf = (name: string) => ROUTES.find((route) => route.name === name)?.memoryMb;
      expect(memoryOf('register')).toBe(1769);
      expect(memoryOf('login')).toBe(1769);
    });

    it('get their configuration from the constructs, and never set AWS_REGION; only the revoking ones learn the worker', () => {
      for (const [name, fn] of tvm.stack.api.functions) {
        const variables = (
          resource(tvm.json, idOf(fn)).Properties.Environment as { Variables: Record<string, unknown> }
        ).Variables;
        const cutsOff = ROUTES.find((route) => route.name === name)?.cutsOffShares === true;
        expect(variables).toEqual({
          TABLE_NAME: { Ref: idOf(tvm.stack.userTable.table) },
          BUCKET_NAME: { Ref: idOf(tvm.stack.fileBucket.bucket) },
          VENDING_ROLE_ARN: { 'Fn::GetAtt': [idOf(tvm.stack.vendingRole.role), 'Arn'] },
          ...settingsEnvironment(tvm.stack.settings),
          POWERTOOLS_SERVICE_NAME: 'tvm',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          ...(cutsOff ? { CUT_OFF_WORKER_FUNCTION: { Ref: idOf(tvm.stack.deletionWorker.function) } } : {}),
        });
      }
    });

    it('log to their own log group with a retention', () => {
      for (const fn of tvm.stack.api.functions.values()) {
        const logging = resource(tvm.json, idOf(fn)).Properties.LoggingConfig as { LogGroup: { Ref: string } };
        expect(resource(tvm.json, logging.LogGroup.Ref).Properties.RetentionInDays).toBe(90);
      }
    });
  });

  describe('REST API', () => {
    it('has one resource and method per route, each proxying to its own function', () => {
      for (const route of ROUTES) {
        const fn = tvm.stack.api.functions.get(route.name);
        if (!fn) throw new Error(`no function for ${route.name}`);
        // Walk the path from the root: `/mfa` and `/login/mfa` share a last part.
        let resourceIds: string[] = [];
        for (const pathPart of route.path.split('/').filter(Boolean)) {
          const parent = resourceIds[0];
          resourceIds = Object.entries(tvm.json.Resources)
            .filter(([, item]) => item.Type === 'AWS::ApiGateway::Resource' && item.Properties?.PathPart === pathPart)
            .filter(([, item]) => {
              const parentId = item.Properties?.ParentId as { Ref?: string } | undefined;
              return parent === undefined ? parentId?.Ref === undefined : parentId?.Ref === parent;
            })
            .map(([id]) => id);
          expect(resourceIds).toHaveLength(1);
        }
        assertHasResourceProperties(tvm.template, 'AWS::ApiGateway::Method', {
          HttpMethod: route.method,
          ResourceId: { Ref: resourceIds[0] },
          OperationName: route.name,
          Integration: Match.objectLike({
            Type: 'AWS_PROXY',
            Uri: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [idOf(fn), 'Arn'] }])] },
          }),
        });
      }
      const routeMethods = Object.values(tvm.json.Resources).filter(
        (item) => item.Type === 'AWS::ApiGateway::Method' && item.Properties?.HttpMethod !== 'OPTIONS',
      );
      expect(routeMethods).toHaveLength(ROUTES.length);
    });

    it('validates JSON bodies against the route table’s schemas and requires Authorization on bearer routes', () => {
      assertHasResourceProperties(tvm.template, 'AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
        ValidateRequestParameters: true,
      });
      const methodOf = (name: string) =>
        Object.values(tvm.json.Resources).find(
          (item) => item.Type === 'AWS::ApiGateway::Method' && item.Properties?.OperationName === name,
        );
      for (const route of ROUTES) expect(methodOf(route.name)?.Properties?.RequestValidatorId).toBeDefined();
      const withBody = ROUTES.flatMap((route) => (route.body ? [{ name: route.name, body: route.body }] : []));
      expect(withBody.map((route) => route.name)).toEqual([
        'register',
        'login',
        'password',
        'passwordReset',
        'totpStart',
        'totpConfirm',
        'totpRemove',
        'loginMfa',
        'passkeyOptions',
        'passkeyAdd',
        'passkeyLogin',
        'accountDelete',
        'shareCreate',
        'linkCreate',
        'loginOidc',
        'identityLink',
      ]);
      for (const route of withBody) {
        const modelId =
          (methodOf(route.name)?.Properties?.RequestModels as Record<string, { Ref: string }>)['application/json']
            ?.Ref ?? '';
        // CloudFormation spells the CDK's `schema` key `$schema`.
        const { schema, ...expected } = toApiGatewaySchema(route.name, route.body);
        expect(resource(tvm.json, modelId).Properties.Schema).toEqual({ $schema: schema, ...expected });
        expect(resource(tvm.json, modelId).Properties.Schema).toMatchObject({
          $schema: 'http://json-schema.org/draft-04/schema#',
          additionalProperties: false,
          required: [...(route.body.required ?? [])],
        });
      }
      const bearer = ROUTES.filter((route) => route.auth === 'bearer');
      expect(bearer.length).toBeGreaterThan(0);
      for (const route of bearer) {
        expect(methodOf(route.name)?.Properties?.RequestParameters).toEqual({
          'method.request.header.Authorization': true,
        });
      }
    });

    it('throttles the stage, writes JSON access logs, traces with X-Ray, and never logs bodies', () => {
      const stage = Object.values(tvm.json.Resources).find((item) => item.Type === 'AWS::ApiGateway::Stage');
      expect(stage?.Properties).toMatchObject({
        StageName: 'v1',
        TracingEnabled: true,
        MethodSettings: expect.arrayContaining([
          expect.objectContaining({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 50,
            ThrottlingBurstLimit: 100,
            DataTraceEnabled: false,
            LoggingLevel: 'ERROR',
          }),
        ]),
        AccessLogSetting: { DestinationArn: expect.anything(), Format: expect.any(String) },
      });
      const format = (stage?.Properties?.AccessLogSetting as { Format: string }).Format;
      // Fill the placeholders as API Gateway would (messageString arrives quoted) and parse it.
      const line = format
        .replace('$context.error.messageString', '"Invalid request body"')
        .replace(/\$context\.[a-zA-Z.]+/g, 'x');
      expect(JSON.parse(line)).toMatchObject({ requestId: 'x', status: 'x', ip: 'x', error: 'Invalid request body' });
      expect(format).not.toMatch(/header|authorization/i);
    });

    it('answers CORS preflight for the configured origins', () => {
      const options = Object.values(tvm.json.Resources).filter(
        (item) => item.Type === 'AWS::ApiGateway::Method' && item.Properties?.HttpMethod === 'OPTIONS',
      );
      // One preflight per resource: routes that share a path (GET and POST /shares) share it.
      expect(options.length).toBeGreaterThanOrEqual(new Set(ROUTES.map((route) => route.path)).size);
      expect(JSON.stringify(options)).toContain("'Authorization,Content-Type'");
    });

    it('answers API Gateway’s own errors in the TVM error shape', () => {
      assertHasResourceProperties(tvm.template, 'AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'BAD_REQUEST_BODY',
        StatusCode: '400',
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"invalid_request"') },
      });
      assertHasResourceProperties(tvm.template, 'AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'BAD_REQUEST_PARAMETERS',
        StatusCode: '401',
      });
    });

    it('throttles every route’s method with its own limits from the route table, keeping the stage’s logging (never bodies) on each', () => {
      const stage = Object.values(tvm.json.Resources).find((item) => item.Type === 'AWS::ApiGateway::Stage');
      const methodSettings = stage?.Properties?.MethodSettings as Record<string, unknown>[];
      // The stage default, then one entry per route.
      expect(methodSettings).toHaveLength(ROUTES.length + 1);
      const throttles = routeThrottles(DEFAULT_SETTINGS);
      for (const route of ROUTES) {
        const limits = throttles.get(route.name);
        expect(methodSettings).toContainEqual({
          HttpMethod: route.method,
          ResourcePath: `/${route.path.replace(/\//g, '~1')}`,
          ThrottlingRateLimit: limits?.ratePerSecond,
          ThrottlingBurstLimit: limits?.burst,
          MetricsEnabled: true,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        });
      }
      // The vending route carries a million monthly users; a password route stays low.
      expect(methodSettings).toContainEqual(
        expect.objectContaining({
          ResourcePath: '/~1token',
          ThrottlingRateLimit: throttles.get('token')?.ratePerSecond,
        }),
      );
      expect(throttles.get('token')?.ratePerSecond).toBeGreaterThan(100);
      expect(throttles.get('password')?.ratePerSecond).toBeLessThanOrEqual(5);
    });

    it('answers a throttled request 429 rate_limited with Retry-After, in the TVM error shape', () => {
      assertHasResourceProperties(tvm.template, 'AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'THROTTLED',
        StatusCode: '429',
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'" }),
        ResponseTemplates: {
          'application/json': JSON.stringify({ error: { code: 'rate_limited', message: THROTTLED_MESSAGE } }),
        },
      });
    });

    it('attaches the WAF web ACL by default (the default stage is prod; only dev goes without)', () => {
      assertResourceCount(tvm.template, 'AWS::WAFv2::WebACL', 1);
      assertResourceCount(tvm.template, 'AWS::WAFv2::WebACLAssociation', 1);
    });
  });

  describe('deletion worker', () => {
    const roleId = () => idOf(tvm.stack.deletionWorker.role);
    const statement = (sid: string) => allowStatementsOf(tvm.json, roleId()).find((candidate) => candidate.Sid === sid);

    it('may touch exactly the table, the vending role’s inline policies and object deletion in the file bucket, nothing else', () => {
      const tableArn = { 'Fn::GetAtt': [idOf(tvm.stack.userTable.table), 'Arn'] };
      const bucketArn = { 'Fn::GetAtt': [idOf(tvm.stack.fileBucket.bucket), 'Arn'] };
      expect(statement('UserTable')).toEqual({
        Sid: 'UserTable',
        Effect: 'Allow',
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: tableArn,
      });
      expect(statement('SessionsByOwnerIndex')).toMatchObject({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [tableArn, '/index/sessionsByOwner']] },
      });
      expect(statement('VendingRoleCutOffList')).toMatchObject({
        Action: ['iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
        Resource: { 'Fn::GetAtt': [idOf(tvm.stack.vendingRole.role), 'Arn'] },
      });
      expect(statement('FileBucketListings')).toMatchObject({
        Action: ['s3:ListBucketMultipartUploads', 's3:ListBucketVersions'],
        Resource: bucketArn,
      });
      expect(statement('FileBucketPurge')).toMatchObject({
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
      });
      const actions = allowStatementsOf(tvm.json, roleId()).flatMap((granted) => asList(granted.Action));
      // It never reads or writes a file, never vends, and has no other IAM right.
      expect(
        actions.filter((action) => /^(s3:(Get|Put)|sts:|iam:(?!(Get|Put|Delete)RolePolicy$))/.test(action)),
      ).toEqual([]);
      expect(resource(tvm.json, roleId()).Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('runs every minute from an EventBridge schedule, with the stack’s configuration and its own log group', () => {
      const fn = resource(tvm.json, idOf(tvm.stack.deletionWorker.function)).Properties;
      expect(fn.Role).toEqual({ 'Fn::GetAtt': [roleId(), 'Arn'] });
      expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        TABLE_NAME: { Ref: idOf(tvm.stack.userTable.table) },
        BUCKET_NAME: { Ref: idOf(tvm.stack.fileBucket.bucket) },
        VENDING_ROLE_ARN: { 'Fn::GetAtt': [idOf(tvm.stack.vendingRole.role), 'Arn'] },
      });
      const rule = resource(tvm.json, idOf(tvm.stack.deletionWorker.schedule)).Properties;
      expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
      expect(rule.Targets).toEqual([
        expect.objectContaining({ Arn: { 'Fn::GetAtt': [idOf(tvm.stack.deletionWorker.function), 'Arn'] } }),
      ]);
      const logging = fn.LoggingConfig as { LogGroup: { Ref: string } };
      expect(resource(tvm.json, logging.LogGroup.Ref).Properties.RetentionInDays).toBe(90);
    });
  });

  it('outputs the API URL, bucket name, table name, region, vending role ARN and default quota', () => {
    expect(Object.keys(tvm.json.Outputs ?? {}).sort()).toEqual([
      'ApiUrl',
      'BucketName',
      'DefaultQuotaBytes',
      'Region',
      'TableName',
      'VendingRoleArn',
    ]);
    expect(tvm.json.Outputs?.Region?.Value).toEqual({ Ref: 'AWS::Region' });
  });
});

describe('sharing routes', () => {
  const methodOf = (name: string) =>
    Object.values(tvm.json.Resources).find(
      (item) => item.Type === 'AWS::ApiGateway::Method' && item.Properties?.OperationName === name,
    );

  it('GET /l/{id} (a share link) needs no bearer token: no authorizer, no required Authorization header', () => {
    const linkOpen = methodOf('linkOpen');
    expect(linkOpen?.Properties).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'NONE' });
    expect(linkOpen?.Properties?.RequestParameters).toBeUndefined();
    for (const name of [
      'shareCreate',
      'sharesList',
      'shareDelete',
      'shareCredentials',
      'linkCreate',
      'linksList',
      'linkDelete',
    ]) {
      expect(methodOf(name)?.Properties?.RequestParameters).toEqual({ 'method.request.header.Authorization': true });
    }
  });

  it('no API function may call IAM (only the cut-off worker writes the vending role)', () => {
    const apiRoles = new Set(
      [...tvm.stack.api.functions.values()].map((fn) => JSON.stringify(resource(tvm.json, idOf(fn)).Properties.Role)),
    );
    expect(apiRoles.size).toBeGreaterThan(0);
    for (const role of apiRoles) {
      const roleId = (JSON.parse(role) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const actions = allowStatementsOf(tvm.json, roleId).flatMap((statement) => asList(statement.Action));
      expect(actions.filter((action) => action.toLowerCase().startsWith('iam:'))).toEqual([]);
    }
  });

  it('lets the functions that list shares and links Query the table itself (their own partition), as the route table says', () => {
    const tableArn = { 'Fn::GetAtt': [idOf(tvm.stack.userTable.table), 'Arn'] };
    for (const name of ['sharesList', 'linksList', 'shareCreate', 'linkCreate'] as const) {
      const fn = tvm.stack.api.functions.get(name);
      if (!fn) throw new Error(`no function for ${name}`);
      const roleId = (resource(tvm.json, idOf(fn)).Properties.Role as { 'Fn::GetAtt': [string, string] })[
        'Fn::GetAtt'
      ][0];
      const onTable = allowStatementsOf(tvm.json, roleId).filter(
        (statement) => JSON.stringify(statement.Resource) === JSON.stringify(tableArn),
      );
      expect(onTable.flatMap((statement) => asList(statement.Action))).toContain('dynamodb:Query');
    }
  });

  it('vends share and link credentials from functions whose roles the vending role trusts', () => {
    const trusted = JSON.stringify(
      resource(tvm.json, idOf(tvm.stack.vendingRole.role)).Properties.AssumeRolePolicyDocument,
    );
    for (const name of ['shareCredentials', 'linkOpen'] as const) {
      expect(trusted).toContain(JSON.stringify({ 'Fn::GetAtt': [functionRoleId(name), 'Arn'] }));
    }
  });
});

describe('texts that name routes come from the route table', () => {
  const label = (route: { method: string; path: string }) => `${route.method} ${route.path}`;
  /** Every `METHOD /path` a text names, in order. */
  const routesNamedIn = (text: string): string[] => text.match(/\b(?:GET|POST|DELETE) \/[^\s,;.)]*/g) ?? [];

  /** The reason the stack gives for a cdk-nag rule it acknowledges on a construct. */
  function acknowledgement(construct: IConstruct, rule: string): string {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      const found = Object.entries(entry.data as Record<string, string>).find(
        ([id]) => id.endsWith(`::${rule}`) || id === rule,
      );
      if (found) return found[1];
    }
    throw new Error(`${construct.node.path} acknowledges no ${rule}`);
  }

  it('the ApiUrl output describes exactly the routes the route table declares, in its order', () => {
    const description = (tvm.json.Outputs?.ApiUrl as { Description?: string } | undefined)?.Description ?? '';
    expect(routesNamedIn(description)).toEqual(ROUTES.map(label));
  });

  it('the cdk-nag reason for methods without an authorizer names exactly the unauthenticated routes as such, and the bearer ones', () => {
    const reason = acknowledgement(tvm.stack.api.api, 'AwsSolutions-APIG4');
    const [withoutAuth = '', bearer = ''] = reason.split('The bearer routes');
    expect(routesNamedIn(withoutAuth)).toEqual(ROUTES.filter((route) => route.auth === 'none').map(label));
    expect(routesNamedIn(bearer)).toEqual(ROUTES.filter((route) => route.auth === 'bearer').map(label));
    expect(routesNamedIn(withoutAuth).length).toBeGreaterThan(2);
  });
});

describe('the storage meter', () => {
  const meter = () => tvm.stack.usageMeter;
  const bucketArn = () => ({ 'Fn::GetAtt': [idOf(tvm.stack.fileBucket.bucket), 'Arn'] });
  const tableArn = () => ({ 'Fn::GetAtt': [idOf(tvm.stack.userTable.table), 'Arn'] });
  const workerArn = () => ({ 'Fn::GetAtt': [idOf(tvm.stack.deletionWorker.function), 'Arn'] });

  it('sends every create, remove and lifecycle expiration of the file bucket to the meter queue', () => {
    const notifications = Object.values(tvm.json.Resources).find(
      (candidate) =>
        candidate.Type === 'Custom::S3BucketNotifications' &&
        JSON.stringify(candidate.Properties?.BucketName) === JSON.stringify({ Ref: idOf(tvm.stack.fileBucket.bucket) }),
    );
    const queueArn = { 'Fn::GetAtt': [idOf(meter().queue), 'Arn'] };
    expect(notifications?.Properties).toMatchObject({
      BucketName: { Ref: idOf(tvm.stack.fileBucket.bucket) },
      NotificationConfiguration: {
        QueueConfigurations: [
          { Events: ['s3:ObjectCreated:*'], QueueArn: queueArn },
          { Events: ['s3:ObjectRemoved:*'], QueueArn: queueArn },
          { Events: ['s3:LifecycleExpiration:*'], QueueArn: queueArn },
        ],
      },
    });
  });

  it('retries a failed message five times, then keeps it 14 days in an encrypted dead-letter queue; both refuse plain HTTP', () => {
    const queue = resource(tvm.json, idOf(meter().queue)).Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [idOf(meter().deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    expect(resource(tvm.json, idOf(meter().deadLetterQueue)).Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    for (const queueId of [idOf(meter().queue), idOf(meter().deadLetterQueue)]) {
      const policy = Object.values(tvm.json.Resources).find(
        (candidate) =>
          candidate.Type === 'AWS::SQS::QueuePolicy' &&
          JSON.stringify(candidate.Properties?.Queues) === JSON.stringify([{ Ref: queueId }]),
      );
      expect(JSON.stringify(policy?.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('the meter function takes batches with partial failures, and its own role may write only the table and invoke the cut-off worker', () => {
    assertHasResourceProperties(tvm.template, 'AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: idOf(meter().meterFunction) },
      EventSourceArn: { 'Fn::GetAtt': [idOf(meter().queue), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const roleId = idOf(meter().meterFunction.role as never);
    const statements = allowStatementsOf(tvm.json, roleId);
    expect(statements.find((candidate) => candidate.Sid === 'UserTable')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: tableArn(),
    });
    expect(statements.find((candidate) => candidate.Sid === 'InvokeCutOffWorker')).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Resource: workerArn(),
    });
    const actions = statements.flatMap((granted) => asList(granted.Action));
    expect(actions.filter((action) => /^(s3|sts|iam):/.test(action))).toEqual([]);
    expect(roleId).not.toBe(idOf(meter().reconcileFunction.role as never));
  });

  it('the reconcile runs daily with its own role: the table, listing the file bucket, and the cut-off worker, never an object', () => {
    const roleId = idOf(meter().reconcileFunction.role as never);
    const statements = allowStatementsOf(tvm.json, roleId);
    expect(statements.find((candidate) => candidate.Sid === 'UserTable')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
      Resource: tableArn(),
    });
    expect(statements.find((candidate) => candidate.Sid === 'ListFileBucket')).toMatchObject({
      Action: 's3:ListBucket',
      Resource: bucketArn(),
    });
    const actions = statements.flatMap((granted) => asList(granted.Action));
    expect(actions.filter((action) => /^(s3:(Get|Put|Delete)|sts|iam):/.test(action))).toEqual([]);
    const rule = resource(tvm.json, idOf(meter().schedule)).Properties;
    expect(rule).toMatchObject({ ScheduleExpression: 'cron(17 3 * * ? *)', State: 'ENABLED' });
  });
});

describe('access-log processing', () => {
  const processing = () => tvm.stack.accessLogProcessing;
  const logBucket = () => tvm.stack.fileBucket.accessLogBucket;

  it("notifies the log bucket's new objects under file-bucket/ to the processor's queue, and nothing else", () => {
    const notifications = Object.values(tvm.json.Resources).find(
      (candidate) =>
        candidate.Type === 'Custom::S3BucketNotifications' &&
        JSON.stringify(candidate.Properties?.BucketName) === JSON.stringify({ Ref: idOf(logBucket()) }),
    );
    expect(notifications?.Properties?.NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'file-bucket/' }] } },
          QueueArn: { 'Fn::GetAtt': [idOf(processing().queue), 'Arn'] },
        },
      ],
    });
    assertHasResourceProperties(tvm.template, 'AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [idOf(processing().deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('runs the processor on batches with partial failures; its role reads only log objects and writes only the table', () => {
    assertHasResourceProperties(tvm.template, 'AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: idOf(processing().function) },
      EventSourceArn: { 'Fn::GetAtt': [idOf(processing().queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const statements = allowStatementsOf(tvm.json, idOf(processing().role));
    const tableArn = { 'Fn::GetAtt': [idOf(tvm.stack.userTable.table), 'Arn'] };
    expect(statements.filter((statement) => statement.Sid === 'UsageDays')).toEqual([
      {
        Sid: 'UsageDays',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: tableArn,
      },
    ]);
    expect(statements.filter((statement) => statement.Sid === 'AccessLogObjects')).toEqual([
      {
        Sid: 'AccessLogObjects',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(logBucket()), 'Arn'] }, '/file-bucket/*']] },
      },
    ]);
    const actions = statements.flatMap((statement) => asList(statement.Action));
    expect(
      actions.filter(
        (action) => !/^(dynamodb:(GetItem|PutItem|UpdateItem)|s3:GetObject|sqs:\w+|logs:\w+)$/.test(action),
      ),
    ).toEqual([]);
  });
});

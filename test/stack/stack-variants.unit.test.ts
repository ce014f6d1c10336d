/**
 * Configuration: the dev stage, the WAF flag, settings from context and props, and the
 * synth-time errors for bad values. Bundling is skipped here: the code is the same as in
 * tvm-stack.test.ts, only the infrastructure varies.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Match } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ROUTES, secretCheckingPaths } from '../../lambda/contract/routes';
import { WAF_RETRY_AFTER_SECONDS, wafPathStatement } from '../../lib/api-firewall';
import { routeThrottles } from '../../lib/throttles';
import { loadConfig, RESOURCE_VARIABLES } from '../../lambda/platform/config';
import { LOG_RETENTION_DAYS, RUNTIME_SETTING_KEYS } from '../../lambda/platform/settings';
import { DEFAULT_SETTINGS, InvalidSettingError, resolveSettings } from '../../lib/settings';
import {
  assertAllResourcesProperties,
  assertHasResource,
  assertHasResourceProperties,
  assertResourceCount,
  staleAcknowledgements,
  synthesiseTvm,
  unacknowledgedFindings,
  type SynthesisedTvm,
} from './synth';

/** One WAF match statement as the template spells it. */
interface MatchStatementJson {
  ByteMatchStatement?: { SearchString: string; PositionalConstraint: string };
  RegexMatchStatement?: { RegexString: string };
}

/** The template's one web ACL's properties. */
function onlyWebAcl(synthesised: SynthesisedTvm): {
  Rules: {
    Statement: { RateBasedStatement: { ScopeDownStatement: { OrStatement: { Statements: MatchStatementJson[] } } } };
  }[];
  CustomResponseBodies: { TooManyRequests: { Content: string } };
} {
  const acls = Object.values(synthesised.template.findResources('AWS::WAFv2::WebACL'));
  expect(acls).toHaveLength(1);
  return acls[0]?.Properties;
}

/** The match statements of the tight rule's scope-down. */
function scopeDownStatements(synthesised: SynthesisedTvm): MatchStatementJson[] {
  return onlyWebAcl(synthesised).Rules[0]?.Statement.RateBasedStatement.ScopeDownStatement.OrStatement.Statements ?? [];
}

/** CDK's property names as CloudFormation's (`byteMatchStatement` -> `ByteMatchStatement`), recursively. */
function cloudFormationStatement(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloudFormationStatement);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.charAt(0).toUpperCase() + key.slice(1),
      cloudFormationStatement(inner),
    ]),
  );
}

// CDK's built-in CloudFormation schema validation (a WebAssembly engine, slow to start) runs
// on the CLI synth and in tvm-stack.test.ts; here only the infrastructure varies.
process.env.CDK_VALIDATION = 'false';

describe('the dev stage', () => {
  let dev: SynthesisedTvm;
  beforeAll(() => {
    dev = synthesiseTvm({ context: { stage: 'dev' }, bundle: false });
  }, 60_000);

  it('passes cdk-nag with no unacknowledged finding', () => {
    expect(unacknowledgedFindings(dev.app)).toEqual([]);
  });

  it('is named tvm-dev', () => {
    expect(dev.stack.stackName).toBe('tvm-dev');
  });

  it('deletes the table and buckets with the stack and turns off deletion protection', () => {
    assertHasResource(dev.template, 'AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    const buckets = dev.template.findResources('AWS::S3::Bucket');
    expect(Object.values(buckets).map((bucket) => bucket.DeletionPolicy)).toEqual(['Delete', 'Delete']);
  });

  it('keeps point-in-time recovery on', () => {
    assertHasResourceProperties(dev.template, 'AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('has no web ACL: WAF is off by default in dev (cdk-nag APIG3 acknowledged with the reason)', () => {
    assertResourceCount(dev.template, 'AWS::WAFv2::WebACL', 0);
    expect(dev.stack.firewall).toBeUndefined();
  });
});

describe('the waf setting', () => {
  let withWaf: SynthesisedTvm;
  beforeAll(() => {
    withWaf = synthesiseTvm({
      context: { waf: 'true', wafRateLimit: '200', wafAllRoutesRateLimit: 5000 },
      bundle: false,
    });
  }, 60_000);

  it('passes cdk-nag with no unacknowledged finding (the web ACL satisfies APIG3)', () => {
    expect(unacknowledgedFindings(withWaf.app)).toEqual([]);
    expect(staleAcknowledgements(withWaf.app)).toEqual([]);
  });

  it('attaches a web ACL with two per-IP rate rules to the API stage: the tight one on the secret-checking routes, a broad ceiling on every path, both answering 429 rate_limited with Retry-After', () => {
    const blockWith429 = {
      Block: {
        CustomResponse: Match.objectLike({
          ResponseCode: 429,
          CustomResponseBodyKey: 'TooManyRequests',
          ResponseHeaders: [
            { Name: 'Retry-After', Value: String(WAF_RETRY_AFTER_SECONDS) },
            { Name: 'Access-Control-Allow-Origin', Value: '*' },
          ],
        }),
      },
    };
    assertHasResourceProperties(withWaf.template, 'AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'SecretRoutesPerIpRateLimit',
          Action: blockWith429,
          Statement: {
            RateBasedStatement: Match.objectLike({
              AggregateKeyType: 'IP',
              EvaluationWindowSec: 300,
              Limit: 200,
              ScopeDownStatement: { OrStatement: { Statements: Match.anyValue() } },
            }),
          },
        }),
        Match.objectLike({
          Name: 'AllRoutesPerIpRateLimit',
          Action: blockWith429,
          // No scope-down statement: every request counts.
          Statement: { RateBasedStatement: { AggregateKeyType: 'IP', EvaluationWindowSec: 300, Limit: 5000 } },
        }),
      ],
    });
    const body = JSON.parse(onlyWebAcl(withWaf).CustomResponseBodies.TooManyRequests.Content) as unknown;
    expect(body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
  });

  it('counts toward the tight rule exactly the paths of the route table’s secret-checking routes (parameters as one segment)', () => {
    const statements = scopeDownStatements(withWaf);
    // Derived from the route table, in its order: nobody keeps a second list.
    expect(statements).toEqual(
      secretCheckingPaths(ROUTES).map((path) => cloudFormationStatement(wafPathStatement(path))),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        ByteMatchStatement: expect.objectContaining({ SearchString: '/login', PositionalConstraint: 'ENDS_WITH' }),
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ RegexMatchStatement: expect.objectContaining({ RegexString: '/sessions/[^/]+$' }) }),
    );
    // The path sizes the rule's cost: WAF allows 1,500 capacity units per web ACL by default.
    expect(statements.length).toBeLessThan(40);
  });

  it('differential: a request to a route counts toward the tight rule exactly when some route of its path checks secrets', () => {
    const statements = scopeDownStatements(withWaf);
    const matches = (uri: string) =>
      statements.some((statement) => {
        const text = uri.toLowerCase();
        if (statement.ByteMatchStatement) return text.endsWith(statement.ByteMatchStatement.SearchString);
        return new RegExp(statement.RegexMatchStatement?.RegexString ?? '$^').test(text);
      });
    for (const route of ROUTES) {
      // The URI WAF sees: the stage, then the path with each parameter filled in.
      const uri = `/v1${route.path.replace(/\{[^}]+\}/g, 'Ab-12_x')}`;
      const secret = ROUTES.some((other) => other.path === route.path && other.checksSecret);
      expect([route.name, uri, matches(uri)]).toEqual([route.name, uri, secret]);
    }
    expect(matches('/v1/sessions/abc/extra')).toBe(false);
    expect(matches('/v1/sessions/')).toBe(false);
  });

  it('routes the secret-checking step-ups on parameterised paths through the tight rule too', () => {
    for (const name of ['sessionRevoke', 'passkeyRemove', 'identityUnlink'])
      expect([name, ROUTES.find((route) => route.name === name)?.checksSecret]).toEqual([name, true]);
  });

  it('associates the web ACL with the API stage', () => {
    const stageId = Object.keys(withWaf.template.findResources('AWS::ApiGateway::Stage'))[0];
    const webAclId = Object.keys(withWaf.template.findResources('AWS::WAFv2::WebACL'))[0];
    assertHasResourceProperties(withWaf.template, 'AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [webAclId, 'Arn'] },
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: stageId }])] },
    });
  });
});

/** Every non-default runtime value the custom synth configures (context, then props). */
const CUSTOM_SETTINGS = {
  allowedOrigins: 'https://app.example.com,http://localhost:5173',
  credentialSeconds: '900',
  sessionDays: 7,
  lockoutMinutes: 20,
  auditRetentionDays: 400,
  lockoutThreshold: 3,
  bcryptCost: 11,
};

const PLACEHOLDERS: Record<string, string> = {
  TABLE_NAME: 'tvm-table',
  BUCKET_NAME: 'tvm-bucket',
  VENDING_ROLE_ARN: 'arn:aws:iam::123456789012:role/tvm-vending',
};

describe('settings from context and props', () => {
  let custom: SynthesisedTvm;
  beforeAll(() => {
    custom = synthesiseTvm({
      context: {
        throttlingRateLimit: '7',
        throttlingBurstLimit: 14,
        allowedOrigins: 'https://app.example.com,http://localhost:5173',
        credentialSeconds: '900',
        bcryptCost: 13,
        apiGatewayAccountStage: 'none',
        logRetentionDays: 30,
        sessionDays: 7,
        lockoutMinutes: 20,
        auditRetentionDays: 400,
        expectedMonthlyUsers: '20000',
      },
      // Props win over context.
      settings: { lockoutThreshold: 3, bcryptCost: 11 },
      bundle: false,
    });
  }, 60_000);

  it('passes cdk-nag with no unacknowledged finding', () => {
    expect(unacknowledgedFindings(custom.app)).toEqual([]);
    expect(staleAcknowledgements(custom.app)).toEqual([]);
  });

  it("sets every field of the functions' TvmConfig: each function loads exactly the configured settings, none falls back to a default", () => {
    const expected = resolveSettings(CUSTOM_SETTINGS);
    // The route functions (the stack's clean-up function reads no TvmConfig).
    const functions = Object.values(custom.json.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' &&
        /^TVM (GET|POST|DELETE) \//.test(String(resource.Properties?.Description)),
    );
    expect(functions).toHaveLength(ROUTES.length);
    for (const fn of functions) {
      const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      // References to resources become placeholders; Lambda itself sets AWS_REGION.
      const environment = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : (PLACEHOLDERS[name] ?? 'unresolved'),
        ]),
      );
      expect(Object.keys(variables)).toEqual(expect.arrayContaining([...RESOURCE_VARIABLES]));
      const config = loadConfig({ ...environment, AWS_REGION: 'eu-west-1' });
      for (const key of RUNTIME_SETTING_KEYS) expect([key, config[key]]).toEqual([key, expected[key]]);
    }
  });

  it('throttles the methods without their own limits (the CORS preflights) with the configured stage rate and burst', () => {
    assertHasResourceProperties(custom.template, 'AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 7, ThrottlingBurstLimit: 14 }),
      ]),
    });
  });

  it('sizes each route’s method throttle for the configured expected load and credential lifetime', () => {
    const throttles = routeThrottles(custom.stack.settings);
    // A small deployment: POST /token is sized for 20,000 users refreshing every 600 s, not for a million.
    expect(throttles.get('token')).not.toEqual(routeThrottles(DEFAULT_SETTINGS).get('token'));
    const stage = Object.values(custom.template.findResources('AWS::ApiGateway::Stage'))[0];
    const settings = stage?.Properties.MethodSettings as Record<string, unknown>[];
    for (const route of ROUTES) {
      const limits = throttles.get(route.name);
      expect(settings).toContainEqual(
        expect.objectContaining({
          HttpMethod: route.method,
          // API Gateway's method path: `/` then the resource path with each `/` as `~1`.
          ResourcePath: `/${route.path.replace(/\//g, '~1')}`,
          ThrottlingRateLimit: limits?.ratePerSecond,
          ThrottlingBurstLimit: limits?.burst,
        }),
      );
    }
  });

  it('passes durations, bcrypt cost and lockout to the functions, props taking precedence over context', () => {
    const routeFunctions = Object.values(
      custom.template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^TVM (GET|POST|DELETE) /') },
      }),
    );
    expect(routeFunctions).toHaveLength(ROUTES.length);
    for (const routeFunction of routeFunctions) {
      expect(routeFunction.Properties.Environment.Variables).toMatchObject({
        CREDENTIAL_SECONDS: '900',
        BCRYPT_COST: '11',
        LOCKOUT_THRESHOLD: '3',
        ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:5173',
      });
    }
  });

  it('allows CORS from exactly the configured origins on the bucket', () => {
    assertHasResourceProperties(custom.template, 'AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [Match.objectLike({ AllowedOrigins: ['https://app.example.com', 'http://localhost:5173'] })],
      },
    });
  });

  it('leaves the account-wide API Gateway CloudWatch role alone when told to', () => {
    assertResourceCount(custom.template, 'AWS::ApiGateway::Account', 0);
  });

  it('sets the log retention on every log group', () => {
    assertAllResourcesProperties(custom.template, 'AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('settings validation', () => {
  it('fills in the documented defaults, with passkeys off in the default stage (prod) while the relying party is the sandbox’s', () => {
    expect(resolveSettings()).toEqual({ ...DEFAULT_SETTINGS, passkeys: false });
    expect(resolveSettings({ stage: 'dev' })).toEqual({ ...DEFAULT_SETTINGS, stage: 'dev' });
  });

  it('turns WAF on by default in every stage but dev, and either way when told', () => {
    expect(DEFAULT_SETTINGS.waf).toBe(true);
    expect(resolveSettings({ stage: 'prod' }).waf).toBe(true);
    expect(resolveSettings({ stage: 'staging' }).waf).toBe(true);
    expect(resolveSettings({ stage: 'dev' }).waf).toBe(false);
    expect(resolveSettings({ stage: 'dev', waf: 'true' }).waf).toBe(true);
    expect(resolveSettings({ stage: 'prod', waf: false }).waf).toBe(false);
  });

  it.each([
    ['stage', 'Prod!', /"stage"/],
    ['stage', 'a-very-long-stage-name', /at most 16/],
    ['credentialSeconds', 600, /from 900 to 3600/],
    ['credentialSeconds', '7200', /from 900 to 3600/],
    ['bcryptCost', 9, /from 10 to 15/],
    ['bcryptCost', '12.5', /whole number/],
    ['lockoutThreshold', 0, /from 1 to 100/],
    ['lockoutMinutes', 'ten', /whole number/],
    ['throttlingRateLimit', -1, /from 1 to 10000/],
    ['throttlingBurstLimit', 6000, /from 1 to 5000/],
    ['waf', 'yes', /true or false/],
    ['wafRateLimit', 5, /from 10 to/],
    ['wafAllRoutesRateLimit', 9, /from 10 to/],
    ['logRetentionDays', 42, /retention periods/],
    ['allowedOrigins', 'http://evil.example.com', /not an origin/],
    ['allowedOrigins', 'https://app.example.com/', /not an origin/],
    ['allowedOrigins', '*,https://app.example.com', /cannot be combined/],
    ['allowedOrigins', '', /at least one origin/],
    ['oidcProviders', '[{"name":"dev","issuer":"http://127.0.0.1:9000","audiences":["app"]}]', /https issuers/],
    ['oidcProviders', '[{"name":"g","issuer":"http://accounts.example.com","audiences":["app"]}]', /https/],
  ])('refuses %s = %j with a message naming the key', (key, value, message) => {
    const attempt = () => resolveSettings({ [key]: value });
    expect(attempt).toThrow(InvalidSettingError);
    expect(attempt).toThrow(message);
  });

  it('accepts allowedOrigins as a JSON array from -c, as the docs say', () => {
    expect(
      resolveSettings({ allowedOrigins: '["https://app.example.com", "https://admin.example.com"]' }).allowedOrigins,
    ).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(() => resolveSettings({ allowedOrigins: '["https://app.example.com"' })).toThrow(/not valid JSON/);
  });

  it("knows exactly CloudWatch Logs' retention periods, as CDK lists them", () => {
    const cdkValues = Object.values(RetentionDays).filter((value): value is number => typeof value === 'number');
    expect([...LOG_RETENTION_DAYS].sort((a, b) => a - b)).toEqual([...new Set(cdkValues)].sort((a, b) => a - b));
  });

  it('refuses an unknown setting', () => {
    expect(() => resolveSettings({ bcryptCosts: 12 } as never)).toThrow(/Unknown TVM setting "bcryptCosts"/);
  });

  it('stops the synth with the message when a context value is bad', () => {
    expect(() => synthesiseTvm({ context: { credentialSeconds: '5000' }, bundle: false })).toThrow(
      /Invalid TVM setting "credentialSeconds": "5000"/,
    );
  });
});

/**
 * Configuration: the dev stage, the WAF flag, settings from context and props, and the
 * synth-time errors for bad values. Bundling is skipped here: the code is the same as in
 * tvm-stack.test.ts, only the infrastructure varies.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Match } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ROUTES } from '../../lambda/contract/routes';
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
});

describe('the waf setting', () => {
  let withWaf: SynthesisedTvm;
  beforeAll(() => {
    withWaf = synthesiseTvm({ context: { waf: 'true', wafRateLimit: '200' }, bundle: false });
  }, 60_000);

  it('passes cdk-nag with no unacknowledged finding (the web ACL satisfies APIG3)', () => {
    expect(unacknowledgedFindings(withWaf.app)).toEqual([]);
    expect(staleAcknowledgements(withWaf.app)).toEqual([]);
  });

  it('attaches a web ACL with a per-IP rate-based rule on every route that checks a password or reset code to the API stage', () => {
    assertHasResourceProperties(withWaf.template, 'AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: {
            Block: {
              CustomResponse: Match.objectLike({
                ResponseCode: 429,
                ResponseHeaders: [
                  { Name: 'Retry-After', Value: '300' },
                  { Name: 'Access-Control-Allow-Origin', Value: '*' },
                ],
              }),
            },
          },
          Statement: {
            RateBasedStatement: Match.objectLike({
              AggregateKeyType: 'IP',
              Limit: 200,
              ScopeDownStatement: {
                OrStatement: {
                  Statements: [
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/register',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/login',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/password',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/password/reset',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/mfa/totp',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/mfa/totp/confirm',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/login/mfa',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/mfa/passkeys/options',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/login/passkey/options',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/login/passkey',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    Match.objectLike({
                      ByteMatchStatement: Match.objectLike({
                        SearchString: '/account',
                        PositionalConstraint: 'ENDS_WITH',
                      }),
                    }),
                    // Sign-in with a provider: the nonce, the ID token check and the link.
                    ...['/login/oidc/nonce', '/login/oidc', '/identities'].map((path) =>
                      Match.objectLike({
                        ByteMatchStatement: Match.objectLike({ SearchString: path, PositionalConstraint: 'ENDS_WITH' }),
                      }),
                    ),
                  ],
                },
              },
            }),
          },
        }),
      ],
    });
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

  it('throttles the stage with the configured rate and burst', () => {
    assertHasResourceProperties(custom.template, 'AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 14 })],
    });
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

import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ERROR } from '../lambda/contract/error-codes';

/** Props of {@link ApiFirewall}. */
export interface ApiFirewallProps {
  /** ARN of the API Gateway stage to protect (`RestApi.deploymentStage.stageArn`). */
  readonly stageArn: string;
  /** Paths whose requests count toward the per-IP limit, e.g. `/login`; matched as path suffixes. */
  readonly rateLimitedPaths: readonly string[];
  /** Requests one IP may send to those paths per 5-minute window before it is blocked (WAF minimum 10). */
  readonly requestsPerFiveMinutes: number;
  /** Prefix of the CloudWatch metric names. */
  readonly metricPrefix: string;
  /**
   * `Access-Control-Allow-Origin` for the block response, so a browser app can read the 429
   * (only a single origin or `*` can be stated statically).
   * @default no CORS header
   */
  readonly corsAllowOrigin?: string;
}

/**
 * An AWS WAF web ACL on the API stage with one per-IP rate-based rule on the password routes.
 * The TVM's own lockout protects each account; this stops one address from spraying many
 * accounts or flooding bcrypt (the most expensive work the API does). Blocked requests get
 * the TVM's 429 error shape. Costs about US$6 a month (US$5 per web ACL plus US$1 per rule)
 * plus US$0.60 per million requests inspected.
 */
export class ApiFirewall extends Construct {
  /** The web ACL. */
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    if (props.rateLimitedPaths.length === 0) throw new Error('ApiFirewall needs at least one rate-limited path.');
    // WAF sees the stage in the URI (/v1/login), so paths are matched as suffixes.
    const pathStatements: CfnWebACL.StatementProperty[] = props.rateLimitedPaths.map((path) => ({
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'ENDS_WITH',
        searchString: path,
        textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
      },
    }));
    const scopeDown: CfnWebACL.StatementProperty =
      pathStatements.length === 1 && pathStatements[0]
        ? pathStatements[0]
        : { orStatement: { statements: pathStatements } };

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'TVM API: per-IP rate limit on the password routes.',
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName: `${props.metricPrefix}-web-acl`,
      },
      customResponseBodies: {
        TooManyRequests: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            error: {
              code: ERROR.too_many_attempts,
              message: 'Too many requests from this address. Try again in a few minutes.',
            },
          }),
        },
      },
      rules: [
        {
          name: 'PasswordRoutesPerIpRateLimit',
          priority: 0,
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: 'TooManyRequests',
                responseHeaders: [
                  { name: 'Retry-After', value: '300' },
                  ...(props.corsAllowOrigin
                    ? [{ name: 'Access-Control-Allow-Origin', value: props.corsAllowOrigin }]
                    : []),
                ],
              },
            },
          },
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
              limit: props.requestsPerFiveMinutes,
              scopeDownStatement: scopeDown,
            },
          },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            sampledRequestsEnabled: true,
            metricName: `${props.metricPrefix}-password-routes-rate-limit`,
          },
        },
      ],
    });

    new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

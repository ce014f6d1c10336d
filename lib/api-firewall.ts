import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ERROR } from '../lambda/contract/error-codes';

/** Props of {@link ApiFirewall}. */
export interface ApiFirewallProps {
  /** ARN of the API Gateway stage to protect (`RestApi.deploymentStage.stageArn`). */
  readonly stageArn: string;
  /**
   * The route paths whose requests count toward the tighter per-IP limit, as the route table
   * writes them (`/login`, `/sessions/{id}`); see {@link wafPathStatement}.
   */
  readonly rateLimitedPaths: readonly string[];
  /** Requests one IP may send to those paths per 5-minute window before it is blocked (WAF minimum 10). */
  readonly requestsPerFiveMinutes: number;
  /** Requests one IP may send to any path per 5-minute window before it is blocked: the ceiling on everything. */
  readonly allPathsRequestsPerFiveMinutes: number;
  /** Prefix of the CloudWatch metric names. */
  readonly metricPrefix: string;
  /**
   * `Access-Control-Allow-Origin` for the block response, so a browser app can read the 429
   * (only a single origin or `*` can be stated statically).
   * @default no CORS header
   */
  readonly corsAllowOrigin?: string;
}

/** Seconds a blocked address is asked to wait: the rate rules count over five-minute windows. */
export const WAF_RETRY_AFTER_SECONDS = 300;

/** The window both rate rules count over, in seconds. */
const EVALUATION_WINDOW_SECONDS = 300;

/** Regular-expression characters that a literal path segment must escape. */
const REGEX_SPECIAL = /[.*+?^$()[\]\\|]/g;

/**
 * The WAF statement matching requests to one route path. WAF sees the stage in the URI
 * (`/v1/login`), so a path is matched as a suffix: a fixed path with an ENDS_WITH byte match,
 * a path with parameters (`/sessions/{id}`) with a regular expression in which each parameter
 * is one non-empty segment.
 */
export function wafPathStatement(path: string): CfnWebACL.StatementProperty {
  const textTransformations = [{ priority: 0, type: 'LOWERCASE' }];
  if (!path.includes('{')) {
    return {
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'ENDS_WITH',
        searchString: path.toLowerCase(),
        textTransformations,
      },
    };
  }
  const pattern = path
    .split('/')
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.toLowerCase().replace(REGEX_SPECIAL, '\\$&')))
    .join('/');
  return {
    regexMatchStatement: {
      fieldToMatch: { uriPath: {} },
      regexString: `${pattern}$`,
      textTransformations,
    },
  };
}

/**
 * An AWS WAF web ACL on the API stage with two per-IP rate-based rules: a tight one on the
 * routes that check secrets (the route table's `checksSecret`) and a broad ceiling on every
 * path. The TVM's own lockout protects each account, and API Gateway's per-method throttles
 * bound each route for everyone together; these stop one address from spraying many accounts,
 * flooding bcrypt (the most expensive work the API does) or spending a route's throttle that
 * everyone shares. Blocked requests get the TVM's 429 error shape (`rate_limited`) with
 * Retry-After. Costs about US$7 a month (US$5 per web ACL plus US$1 per rule) plus US$0.60 per
 * million requests inspected.
 */
export class ApiFirewall extends Construct {
  /** The web ACL. */
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const paths = [...new Set(props.rateLimitedPaths)];
    if (paths.length === 0) throw new Error('ApiFirewall needs at least one rate-limited path.');
    const pathStatements = paths.map(wafPathStatement);
    const scopeDown: CfnWebACL.StatementProperty =
      pathStatements.length === 1 && pathStatements[0]
        ? pathStatements[0]
        : { orStatement: { statements: pathStatements } };

    const block: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: 'TooManyRequests',
          responseHeaders: [
            { name: 'Retry-After', value: String(WAF_RETRY_AFTER_SECONDS) },
            ...(props.corsAllowOrigin ? [{ name: 'Access-Control-Allow-Origin', value: props.corsAllowOrigin }] : []),
          ],
        },
      },
    };
    const visibility = (name: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${props.metricPrefix}-${name}`,
    });

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'TVM API: per-IP rate limits, tight on the routes that check secrets, broad on every path.',
      visibilityConfig: visibility('web-acl'),
      customResponseBodies: {
        TooManyRequests: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            error: {
              code: ERROR.rate_limited,
              message: 'Too many requests from this address. Try again in a few minutes.',
            },
          }),
        },
      },
      rules: [
        {
          name: 'SecretRoutesPerIpRateLimit',
          priority: 0,
          action: block,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              evaluationWindowSec: EVALUATION_WINDOW_SECONDS,
              limit: props.requestsPerFiveMinutes,
              scopeDownStatement: scopeDown,
            },
          },
          visibilityConfig: visibility('secret-routes-rate-limit'),
        },
        {
          name: 'AllRoutesPerIpRateLimit',
          priority: 1,
          action: block,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              evaluationWindowSec: EVALUATION_WINDOW_SECONDS,
              limit: props.allPathsRequestsPerFiveMinutes,
            },
          },
          visibilityConfig: visibility('all-routes-rate-limit'),
        },
      ],
    });

    new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

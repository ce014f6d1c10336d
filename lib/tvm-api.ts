import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  type MethodDeploymentOptions,
  RestApi,
  type JsonSchema,
  type Model,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMMON_PASSWORDS_FILE, COMMON_PASSWORDS_PACKAGE_FILE } from '../lambda/adapters/common-passwords';
import { FUNCTION_TIMEOUT_SECONDS } from '../lambda/contract/limits';
import { API_CORS, gatewayResponseAllowOrigin } from '../lambda/contract/cors';
import { ERROR, type ErrorCode } from '../lambda/contract/error-codes';
import {
  ROUTES,
  THROTTLED_MESSAGE,
  queriesSessionIndex,
  tableActionsFor,
  type BodySchema,
  type RouteDefinition,
} from '../lambda/contract/routes';
import { TABLE_LAYOUT } from '../lambda/adapters/dynamo/table-layout';
import { settingsEnvironment } from '../lambda/platform/settings';
import { CUT_OFF_WORKER_VARIABLE } from '../lambda/platform/config';
import { isDisposableStage, ownsApiGatewayAccount, type TvmSettings } from './settings';
import { routeThrottles, throttleOf } from './throttles';
import type { VendingRole } from './vending-role';

/** The repository root: route entries and the lockfile are relative to it. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Well inside API Gateway's 29 s integration limit; a cost-15 hash (about 2.8 s) still fits. */
const FUNCTION_TIMEOUT = Duration.seconds(FUNCTION_TIMEOUT_SECONDS);

/** The newest Node.js runtime aws-cdk-lib knows; esbuild targets the same version. */
export const RUNTIME = Runtime.NODEJS_24_X;

/**
 * Copies the common-password list (1.7 MB gzip) beside the bundle of each function that sets
 * passwords; the others never carry it.
 */
const commonPasswordListHook: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => [
    `cp "${path.join(inputDir, 'node_modules', COMMON_PASSWORDS_PACKAGE_FILE)}" "${path.join(outputDir, COMMON_PASSWORDS_FILE)}"`,
  ],
};
const ESBUILD_TARGET = 'node24';

/** How every function of the stack is bundled. */
export const BUNDLING: BundlingOptions = {
  minify: true,
  sourceMap: true,
  // The source map's mappings are enough for stack traces; embedding sources only adds size.
  sourcesContent: false,
  target: ESBUILD_TARGET,
  format: OutputFormat.CJS,
  // The AWS SDK goes into the bundle: production then runs the SDK of package-lock.json, the
  // one every test ran (the Lambda runtime's own copy moves with AWS's releases, and the 503 on
  // a slow backend needs a recent client option). ESM entry points first, so esbuild can
  // tree-shake it: about 450 KB instead of 665 KB. docs/benchmarks.md has the measurement.
  bundleAwsSDK: true,
  mainFields: ['module', 'main'],
};

/** The API Gateway stage name; environments are separate stacks, so one stage per API. */
export const API_STAGE_NAME = 'v1';

/** Props of {@link TvmApi}. */
export interface TvmApiProps {
  /** Holds users, sessions and lockout counters; every function reads and writes it. */
  readonly table: ITable;
  /** The users' file bucket, reported to apps in `storage.bucket`. */
  readonly bucket: IBucket;
  /** Validated stack settings (durations, bcrypt cost, lockout, throttling, origins, logs). */
  readonly settings: TvmSettings;
  /**
   * Routes to serve; one resource, method and function each.
   * @default ROUTES from lambda/contract/routes.ts
   */
  readonly routes?: readonly RouteDefinition[];
}

/**
 * The REST API and its functions: one NodejsFunction per route of the shared route table,
 * each with its own execution role derived from its route's entry (least privilege per route,
 * not per group of routes). Call {@link connectVendingRole} once the vending role exists (it
 * trusts {@link vendingFunctionRoles}, so it is made after this construct), and
 * {@link connectCutOffWorker} once the worker exists.
 */
export class TvmApi extends Construct {
  /** The REST API. */
  readonly api: RestApi;
  /**
   * Each route's function's own execution role, by route name: exactly its route's table
   * actions, STS on the vending role only where the route vends, Lambda invoke on the cut-off
   * worker only where it revokes shares, and its own log group.
   */
  readonly functionRoles: ReadonlyMap<RouteDefinition['name'], Role>;
  /** Each route's function, by route name. */
  readonly functions: ReadonlyMap<RouteDefinition['name'], NodejsFunction>;
  /** The API's access log group (JSON lines, one per request). */
  readonly accessLogGroup: LogGroup;
  /**
   * The stage's execution log group, `API-Gateway-Execution-Logs_<api-id>/<stage>`. API
   * Gateway would create it itself, with no retention and outside the stack; made here first,
   * it gets the configured retention and goes with the stack like the other log groups.
   */
  readonly executionLogGroup: LogGroup;
  private readonly routes: readonly RouteDefinition[];
  private vendingRoleConnected = false;
  private cutOffWorkerConnected = false;

  constructor(scope: Construct, id: string, props: TvmApiProps) {
    super(scope, id);
    const { settings } = props;
    this.routes = props.routes ?? ROUTES;
    const removalPolicy = isDisposableStage(settings) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    const both = this.routes.filter((route) => route.cutsOffShares === true && route.vendsCredentials);
    if (both.length > 0)
      throw new Error(
        `Routes ${both.map((route) => route.name).join(', ')} both vend and revoke shares: not supported.`,
      );
    const roles = new Map<RouteDefinition['name'], Role>();
    for (const route of this.routes) roles.set(route.name, this.executionRole(route, props.table));
    this.functionRoles = roles;

    const functions = new Map<RouteDefinition['name'], NodejsFunction>();
    for (const route of this.routes) {
      functions.set(route.name, this.routeFunction(route, props, removalPolicy));
    }
    this.functions = functions;

    const ownsAccountSetting = ownsApiGatewayAccount(settings);
    if (!ownsAccountSetting)
      Annotations.of(this).addInfo(
        settings.apiGatewayAccountStage === 'none'
          ? "apiGatewayAccountStage=none: the region's API Gateway CloudWatch role must already be set, or the stage cannot turn on its logs."
          : `The region's API Gateway CloudWatch role is set by the ${settings.apiGatewayAccountStage} stack (apiGatewayAccountStage); deploy that stack first in this account and Region, or set -c apiGatewayAccountStage=${settings.stage}.`,
      );
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: settings.logRetentionDays as RetentionDays,
      removalPolicy,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: `tvm-${settings.stage}`,
      description: 'Token Vending Machine: register, log in and get short-lived S3 credentials.',
      endpointTypes: [EndpointType.REGIONAL],
      // Access logs need the region's API Gateway CloudWatch role, one setting per account and
      // Region: only the owning stage's stack sets it (others would overwrite it), and keeps it
      // on deletion (other APIs rely on it).
      cloudWatchRole: ownsAccountSetting,
      ...(ownsAccountSetting ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: API_STAGE_NAME,
        // The stage-wide default applies to each method without its own (the CORS preflights);
        // every route's method has its own, from the route table (lib/throttles.ts).
        throttlingRateLimit: settings.throttlingRateLimit,
        throttlingBurstLimit: settings.throttlingBurstLimit,
        methodOptions: methodThrottles(this.routes, settings),
        tracingEnabled: true,
        ...METHOD_LOGGING,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: [...settings.allowedOrigins],
        allowMethods: [...API_CORS.allowMethods],
        allowHeaders: [...API_CORS.allowHeaders],
        exposeHeaders: [...API_CORS.exposeHeaders],
        maxAge: Duration.seconds(API_CORS.maxAgeSeconds),
      },
    });
    this.executionLogGroup = new LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${API_STAGE_NAME}`,
      retention: settings.logRetentionDays,
      removalPolicy,
    });
    // The stage turns execution logging on; the group must exist before it does.
    this.api.deploymentStage.node.addDependency(this.executionLogGroup);
    // The stack states its own ApiUrl output; the RestApi's automatic one would duplicate it.
    this.api.node.tryRemoveChild('Endpoint');
    if (ownsAccountSetting) {
      Validations.of(this.api.node.findChild('CloudWatchRole')).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The role API Gateway itself assumes to write logs of every API in the region; AWS maintains this service-role policy for exactly that purpose and nothing else.',
      });
    }

    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-headers',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    for (const route of this.routes) {
      const handler = functions.get(route.name);
      if (!handler) throw new Error(`No function for route ${route.name}`);
      const model = route.body ? this.bodyModel(route, route.body) : undefined;
      this.api.root.resourceForPath(route.path).addMethod(
        route.method,
        // No test-invoke permission: the console's test button is not worth a second invoke grant.
        new LambdaIntegration(handler, { proxy: true, allowTestInvoke: false }),
        {
          operationName: route.name,
          authorizationType: AuthorizationType.NONE,
          requestValidator: validator,
          ...(model ? { requestModels: { 'application/json': model } } : {}),
          ...(route.auth === 'bearer' ? { requestParameters: { 'method.request.header.Authorization': true } } : {}),
        },
      );
    }
    this.addErrorResponses(settings.allowedOrigins);

    Validations.of(this.api).acknowledge({ id: 'AwsSolutions-APIG4', reason: authorizationReason(this.routes) });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'The TVM is its own identity provider (users, bcrypt hashes and sessions in DynamoDB); there is no Cognito user pool.',
    });

    this.node.addValidation({
      validate: () => [
        ...(this.vendingRoleConnected
          ? []
          : ['TvmApi: call connectVendingRole() so the functions know the vending role.']),
        ...(this.cutOffWorkerConnected || !this.routes.some((route) => route.cutsOffShares === true)
          ? []
          : ['TvmApi: call connectCutOffWorker() so the functions that revoke shares can ask the worker to apply it.']),
      ],
    });
  }

  /** The functions' stage URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1/`. */
  get url(): string {
    return this.api.url;
  }

  /** What {@link url} serves, for the stack's output: every route of the table. */
  get urlDescription(): string {
    return apiUrlDescription(this.routes);
  }

  /** The execution roles of the functions that vend credentials: the vending role trusts exactly these. */
  get vendingFunctionRoles(): Role[] {
    return this.routes.filter((route) => route.vendsCredentials).map((route) => this.roleOf(route));
  }

  /**
   * Gives every function the vending role's ARN (configuration requires it) and lets only the
   * roles of the functions that vend assume it.
   */
  connectVendingRole(vendingRole: VendingRole): void {
    if (this.vendingRoleConnected) throw new Error('connectVendingRole() was already called.');
    for (const role of this.vendingFunctionRoles) vendingRole.grantVending(role);
    for (const handler of this.functions.values()) handler.addEnvironment('VENDING_ROLE_ARN', vendingRole.role.roleArn);
    this.vendingRoleConnected = true;
  }

  /**
   * Lets only the functions that revoke shares invoke the cut-off worker (the deletion worker's
   * function, the only one that writes the vending role's cut-off list), and tells them its name.
   */
  connectCutOffWorker(worker: IFunction): void {
    if (this.cutOffWorkerConnected) throw new Error('connectCutOffWorker() was already called.');
    this.cutOffWorkerConnected = true;
    for (const route of this.routes.filter((candidate) => candidate.cutsOffShares === true)) {
      this.roleOf(route).addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'InvokeCutOffWorker',
          actions: ['lambda:InvokeFunction'],
          resources: [worker.functionArn],
        }),
      );
      this.functions.get(route.name)?.addEnvironment(CUT_OFF_WORKER_VARIABLE, worker.functionName);
    }
  }

  /** The execution role a route's function runs with. */
  private roleOf(route: RouteDefinition): Role {
    const role = this.functionRoles.get(route.name);
    if (!role) throw new Error(`No execution role for route ${route.name}`);
    return role;
  }

  /**
   * A route's own execution role: its route's table actions on the table (Query on the
   * sessions index only if it lists sessions). No AWSLambdaBasicExecutionRole: its logs rights
   * reach every log group in the account; the function's own log group is granted instead.
   */
  private executionRole(route: RouteDefinition, table: ITable): Role {
    const role = new Role(this, `${pascalCase(route.name)}FunctionRole`, {
      description: `TVM ${routeLabel(route)}: execution role of its function alone.`,
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    const actions = tableActionsFor([route]);
    if (actions.length > 0)
      role.addToPrincipalPolicy(new PolicyStatement({ sid: 'UserTable', actions, resources: [table.tableArn] }));
    if (queriesSessionIndex([route])) {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'SessionsByOwnerIndex',
          actions: ['dynamodb:Query'],
          resources: [`${table.tableArn}/index/${TABLE_LAYOUT.sessionsByOwnerIndex.name}`],
        }),
      );
    }
    return role;
  }

  private routeFunction(route: RouteDefinition, props: TvmApiProps, removalPolicy: RemovalPolicy): NodejsFunction {
    const { settings } = props;
    const id = `${pascalCase(route.name)}Function`;
    const role = this.roleOf(route);
    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: settings.logRetentionDays as RetentionDays,
      removalPolicy,
    });
    logGroup.grantWrite(role);
    return new NodejsFunction(this, id, {
      description: `TVM ${route.method} ${route.path}`,
      entry: path.join(PROJECT_ROOT, route.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: route.memoryMb,
      timeout: FUNCTION_TIMEOUT,
      role,
      logGroup,
      environment: {
        TABLE_NAME: props.table.tableName,
        BUCKET_NAME: props.bucket.bucketName,
        // Every runtime setting of the settings table, so no function falls back to a default.
        ...settingsEnvironment(settings),
        POWERTOOLS_SERVICE_NAME: 'tvm',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: route.setsPassword ? { ...BUNDLING, commandHooks: commonPasswordListHook } : BUNDLING,
    });
  }

  private bodyModel(route: RouteDefinition, body: BodySchema): Model {
    return this.api.addModel(`${pascalCase(route.name)}Body`, {
      modelName: `${pascalCase(route.name)}Body`,
      contentType: 'application/json',
      description: `The JSON body of ${route.method} ${route.path}`,
      schema: toApiGatewaySchema(route.name, body),
    });
  }

  /**
   * Errors API Gateway answers itself (validation, throttling, WAF) in the TVM's error shape,
   * `{error: {code, message}}`, so clients parse one format.
   */
  private addErrorResponses(allowedOrigins: readonly string[]): void {
    // Static headers: one origin (or "*") can be named, a list cannot (lambda/contract/cors.ts).
    const allowOrigin = gatewayResponseAllowOrigin(allowedOrigins);
    const cors: Record<string, string> =
      allowOrigin !== undefined ? { 'Access-Control-Allow-Origin': `'${allowOrigin}'` } : {};
    const noStore = { 'Cache-Control': "'no-store'" };
    const json = (code: ErrorCode, message: string): Record<string, string> => ({
      'application/json': `{"error":{"code":"${code}","message":${message}}}`,
    });
    this.api.addGatewayResponse('InvalidBody', {
      type: ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      responseHeaders: { ...cors, ...noStore },
      templates: json(
        ERROR.invalid_request,
        '"The body must be a JSON object with the documented fields, types and lengths, and no others."',
      ),
    });
    this.api.addGatewayResponse('MissingAuthorization', {
      type: ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '401',
      responseHeaders: { ...cors, ...noStore, 'WWW-Authenticate': "'Bearer'" },
      templates: json(ERROR.invalid_credentials, '"Send the session token as Authorization: Bearer <token>."'),
    });
    this.api.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      responseHeaders: { ...cors, ...noStore, 'Retry-After': "'1'" },
      templates: json(ERROR.rate_limited, JSON.stringify(THROTTLED_MESSAGE)),
    });
    this.api.addGatewayResponse('Default4xx', {
      type: ResponseType.DEFAULT_4XX,
      responseHeaders: { ...cors, ...noStore },
      templates: json(ERROR.invalid_request, '$context.error.messageString'),
    });
    this.api.addGatewayResponse('Default5xx', {
      type: ResponseType.DEFAULT_5XX,
      responseHeaders: { ...cors, ...noStore, 'Retry-After': "'2'" },
      templates: json(ERROR.service_unavailable, '"The service is unavailable. Try again shortly."'),
    });
  }
}

/**
 * Metrics on, execution logs of errors only, and never request or response bodies: those carry
 * passwords and credentials. Stated for the stage and again for each method with its own
 * throttle, since a method's settings replace the stage's.
 */
const METHOD_LOGGING = {
  metricsEnabled: true,
  loggingLevel: MethodLoggingLevel.ERROR,
  dataTraceEnabled: false,
} as const satisfies MethodDeploymentOptions;

/**
 * Each route's method settings: its throttle (API Gateway applies a stage's limits per method,
 * so each route gets the limits its traffic needs), with the stage's logging.
 */
export function methodThrottles(
  routes: readonly RouteDefinition[],
  settings: TvmSettings,
): Record<string, MethodDeploymentOptions> {
  const throttles = routeThrottles(settings, routes);
  return Object.fromEntries(
    routes.map((route) => {
      const limits = throttleOf(throttles, route);
      return [
        `${route.path}/${route.method}`,
        { ...METHOD_LOGGING, throttlingRateLimit: limits.ratePerSecond, throttlingBurstLimit: limits.burst },
      ];
    }),
  );
}

/**
 * One JSON object per request. No headers, so the Authorization header never reaches a log;
 * no validation text, which API Gateway does not escape and would break the JSON.
 */
export function accessLogFormat(): AccessLogFormat {
  const fields = JSON.stringify({
    requestId: AccessLogField.contextRequestId(),
    extendedRequestId: AccessLogField.contextExtendedRequestId(),
    time: AccessLogField.contextRequestTime(),
    ip: AccessLogField.contextIdentitySourceIp(),
    userAgent: AccessLogField.contextIdentityUserAgent(),
    method: AccessLogField.contextHttpMethod(),
    resourcePath: AccessLogField.contextResourcePath(),
    status: AccessLogField.contextStatus(),
    protocol: AccessLogField.contextProtocol(),
    responseLength: AccessLogField.contextResponseLength(),
    responseLatency: AccessLogField.contextResponseLatency(),
    integrationLatency: AccessLogField.contextIntegrationLatency(),
    integrationStatus: AccessLogField.contextIntegrationStatus(),
    errorType: AccessLogField.contextErrorResponseType(),
    wafStatus: AccessLogField.contextWafResponseCode(),
    xrayTraceId: AccessLogField.contextXrayTraceId(),
  });
  // messageString is already a quoted, escaped JSON string, so it goes in without quotes.
  return AccessLogFormat.custom(`${fields.slice(0, -1)},"error":${AccessLogField.contextErrorMessageString()}}`);
}

/** The route table's draft-4 body schema as API Gateway's JsonSchema type. */
export function toApiGatewaySchema(name: string, body: BodySchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [property, schema] of Object.entries(body.properties)) {
    properties[property] = {
      type: JsonSchemaType.STRING,
      ...(schema.minLength !== undefined ? { minLength: schema.minLength } : {}),
      ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
    };
  }
  return {
    schema: JsonSchemaVersion.DRAFT4,
    title: `${pascalCase(name)}Body`,
    type: JsonSchemaType.OBJECT,
    required: [...(body.required ?? [])],
    additionalProperties: body.additionalProperties,
    properties,
  };
}

/** A route as a client calls it, e.g. `POST /login`. */
function routeLabel(route: RouteDefinition): string {
  return `${route.method} ${route.path}`;
}

/** The description of the stack's `ApiUrl` output: the base URL, and every route it serves. */
export function apiUrlDescription(routes: readonly RouteDefinition[]): string {
  return `Base URL of the TVM API; append a route's path: ${routes.map(routeLabel).join(', ')}.`;
}

/**
 * Why the API's methods use no API Gateway authorizer (cdk-nag AwsSolutions-APIG4), naming the
 * routes from the route table so the reason cannot drift from what is deployed.
 */
export function authorizationReason(routes: readonly RouteDefinition[]): string {
  const open = routes.filter((route) => route.auth === 'none').map(routeLabel);
  const bearer = routes.filter((route) => route.auth === 'bearer').map(routeLabel);
  return (
    `The routes without auth (${open.join(', ')}) are how a caller gets a session (registering, logging in, a second factor or passkey ` +
    'sign-in, a password reset), so they cannot require one. ' +
    `The bearer routes (${bearer.join(', ')}) require an Authorization header (enforced by the request validator) holding a ` +
    'session token the function checks against its hash in DynamoDB. OPTIONS is the CORS preflight.'
  );
}

function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

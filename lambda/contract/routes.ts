/**
 * The one route table. The CDK stack makes one API Gateway resource, method and function per
 * entry; the local sandbox serves the same handlers from it; each handler finds its entry by
 * name, and the shared middleware reads the entry's `auth` and `body`. Nobody keeps another list.
 */
import {
  MfaLoginBody,
  OidcLoginBody,
  IdentityLinkBody,
  LinkCreateBody,
  LoginBody,
  PasskeyAddBody,
  PasskeyLoginBody,
  PasswordChangeBody,
  PasswordResetBody,
  RegisterBody,
  ShareCreateBody,
  StepUpBody,
  IdentityStepUpBody,
  TotpConfirmBody,
  type BodySchema,
} from './bodies';

export type { BodySchema } from './bodies';

/** One API route. */
export interface RouteDefinition {
  /** Stable identifier, used for function and construct names (see {@link RouteName}). */
  readonly name: string;
  readonly method: 'POST' | 'GET' | 'DELETE';
  readonly path: string;
  /** The handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /**
   * `bearer`: needs `Authorization: Bearer <session token>`; the stack makes API Gateway require
   * the header, and the function's middleware hands the token to the handler.
   */
  readonly auth: 'none' | 'bearer';
  /** The body's one declaration (lambda/contract/bodies.ts), for routes that take a JSON body. */
  readonly body?: BodySchema;
  /**
   * The function's memory, in MB. Lambda allots CPU in proportion to memory and gives one full
   * vCPU at 1,769 MB. bcrypt runs on the event loop and is pure CPU: cost 12 takes about 350 ms
   * on a full vCPU and about 2.5 s at 256 MB, so a route that may check or set a password gets
   * exactly one full vCPU ({@link PASSWORD_MEMORY_MB}; more memory would add a second vCPU that
   * single-threaded bcrypt cannot use). Lambda bills GB-seconds, so 1,769 MB for 0.35 s costs
   * about what 256 MB for 2.5 s does: seven times faster logins for the same price. The others
   * only call DynamoDB and STS: {@link LIGHT_MEMORY_MB} keeps their cold start (AWS SDK
   * initialisation) short.
   */
  readonly memoryMb: number;
  /** Whether the function calls STS AssumeRole on the vending role. */
  readonly vendsCredentials: boolean;
  /**
   * Whether the route checks a password, a code or a step-up, or writes a challenge for anyone:
   * the WAF rate-limits these per IP (lib/api-firewall.ts).
   */
  readonly checksSecret: boolean;
  /** Whether the route sets a password: only these functions carry and load the common-password list. */
  readonly setsPassword: boolean;
  /** The DynamoDB actions the function needs on the table (and its index), for least privilege. */
  readonly tableActions: readonly TableAction[];
  /**
   * Whether the function revokes shares: only these may invoke the cut-off worker (which alone
   * writes the vending role's cut-off list) and are told its name. Default false.
   */
  readonly cutsOffShares?: boolean;
  /**
   * API Gateway's throttle for this route's method (a token bucket shared by every caller;
   * the sandbox applies the same one): {@link SIZED_FOR_EXPECTED_LOAD} for the routes that only
   * call DynamoDB and STS, sized from the usage profile's peak at the `expectedMonthlyUsers`
   * setting (lib/throttles.ts), or fixed limits for the routes that may run bcrypt, whose
   * cost a flood would multiply (docs/deploying.md#throttles).
   */
  readonly throttle: RouteThrottle;
}

/** A throttle's limits: the steady rate, and the bucket a burst may spend at once. */
export interface ThrottleLimits {
  /** Requests per second, refilled continuously. */
  readonly ratePerSecond: number;
  /** Requests admitted at once from a full bucket. */
  readonly burst: number;
}

/** The message of the 429 a throttled request gets, from API Gateway (lib/tvm-api.ts) and the sandbox alike. */
export const THROTTLED_MESSAGE = 'Too many requests. Try again shortly.';

/** A route's throttle: sized from the expected load, or fixed (see {@link RouteDefinition.throttle}). */
export type RouteThrottle = typeof SIZED_FOR_EXPECTED_LOAD | ThrottleLimits;

/** The throttle of a route sized from the usage profile's peak at `expectedMonthlyUsers`. */
export const SIZED_FOR_EXPECTED_LOAD = 'expectedLoad';

/**
 * POST /login: fixed, since every request may run bcrypt. At least ten times the profile's
 * peak of password logins at the default `expectedMonthlyUsers` (test/api/route-throttles.unit.test.ts
 * checks it), and a bound on what a flood of distinct usernames costs.
 */
export const LOGIN_THROTTLE: ThrottleLimits = { ratePerSecond: 25, burst: 50 };
/**
 * Every other route that may run bcrypt (a registration, a password change or reset, a
 * step-up): rare by nature, so low; together with {@link LOGIN_THROTTLE} they bound how many
 * bcrypt checks a second a flood can buy.
 */
export const PASSWORD_ROUTE_THROTTLE: ThrottleLimits = { ratePerSecond: 5, burst: 10 };

/** DynamoDB actions a function may be granted. */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  /** A Query on the sessions-by-owner index (granted on the index's ARN only). */
  | 'Query'
  /** A Query on the table itself, within one user's partition (their shares and links). */
  | 'QueryPartition';

/** Memory of a function that may run bcrypt: one full vCPU (see {@link RouteDefinition.memoryMb}). */
export const PASSWORD_MEMORY_MB = 1769;
/** Memory of a function that only calls DynamoDB and STS (see {@link RouteDefinition.memoryMb}). */
export const LIGHT_MEMORY_MB = 512;

/** A bearer route's first read: the session and the user its token names, in one BatchGetItem. */
const READ_SESSION: TableAction = 'BatchGetItem';

const REGISTER_ACTIONS: readonly TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
/** A login also ends the user's sessions over the cap, which it finds with a Query on the sessions-by-owner index. */
const LOGIN_ACTIONS: readonly TableAction[] = [...REGISTER_ACTIONS, 'Query'];
const SESSION_ACTIONS: readonly TableAction[] = [
  READ_SESSION,
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
];

/** Reads and conditional updates of a user's factors, their attempt counter and the audit trail (docs/mfa.md). */
const MFA_ACTIONS: readonly TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
/** The same, for a signed-in user's factor changes. */
const MFA_SESSION_ACTIONS: readonly TableAction[] = [READ_SESSION, ...MFA_ACTIONS];
/** The same, for a login's second step, which ends sessions over the cap as a login does. */
const MFA_LOGIN_ACTIONS: readonly TableAction[] = [...MFA_ACTIONS, 'Query'];

/** Creating and revoking shares and links: the caller's own partition, the other party's, the owner's counters and the audit trail. */
const SHARING_ACTIONS: readonly TableAction[] = [READ_SESSION, 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
/** The same, for a create: when the owner's count says "full", their records are counted again (a Query of their partition). */
const SHARING_CREATE_ACTIONS: readonly TableAction[] = [...SHARING_ACTIONS, 'QueryPartition'];

/** Every route the TVM serves, with its literal types (names, auth, body declarations). */
const ROUTE_TABLE = [
  {
    name: 'register',
    method: 'POST',
    path: '/register',
    entry: 'lambda/handlers/register.ts',
    auth: 'none',
    body: RegisterBody,
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: true,
    tableActions: REGISTER_ACTIONS,
  },
  {
    name: 'login',
    method: 'POST',
    path: '/login',
    entry: 'lambda/handlers/login.ts',
    auth: 'none',
    body: LoginBody,
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: LOGIN_THROTTLE,
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    tableActions: LOGIN_ACTIONS,
  },
  {
    name: 'token',
    method: 'POST',
    path: '/token',
    entry: 'lambda/handlers/token.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: true,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'UpdateItem', 'PutItem'],
  },
  {
    name: 'logout',
    method: 'POST',
    path: '/logout',
    entry: 'lambda/handlers/logout.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'DeleteItem', 'PutItem'],
  },
  {
    name: 'password',
    method: 'POST',
    path: '/password',
    entry: 'lambda/handlers/password.ts',
    auth: 'bearer',
    body: PasswordChangeBody,
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: true,
    tableActions: SESSION_ACTIONS,
  },
  {
    name: 'passwordReset',
    method: 'POST',
    path: '/password/reset',
    entry: 'lambda/handlers/password-reset.ts',
    auth: 'none',
    body: PasswordResetBody,
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: true,
    // As a login's: it also ends the user's other sessions, found with a Query.
    tableActions: LOGIN_ACTIONS,
  },
  {
    name: 'sessionsList',
    method: 'GET',
    path: '/sessions',
    entry: 'lambda/handlers/sessions-list.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'Query'],
  },
  {
    name: 'sessionRevoke',
    method: 'DELETE',
    path: '/sessions/{id}',
    entry: 'lambda/handlers/session-revoke.ts',
    auth: 'bearer',
    // Ending another session takes a step-up, which may check a password.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    // Ending another session takes a step-up (docs/mfa.md), checked under the lockouts.
    checksSecret: true,
    setsPassword: false,
    tableActions: SESSION_ACTIONS,
  },
  {
    name: 'mfaStatus',
    method: 'GET',
    path: '/mfa',
    entry: 'lambda/handlers/mfa-status.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem'],
  },
  {
    name: 'totpStart',
    method: 'POST',
    path: '/mfa/totp',
    entry: 'lambda/handlers/mfa-totp-start.ts',
    auth: 'bearer',
    body: StepUpBody,
    // A step-up: it may check a password. The other authenticator-app routes check codes, which cost nothing.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'totpConfirm',
    method: 'POST',
    path: '/mfa/totp/confirm',
    entry: 'lambda/handlers/mfa-totp-confirm.ts',
    auth: 'bearer',
    body: TotpConfirmBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'totpRemove',
    method: 'DELETE',
    path: '/mfa/totp',
    entry: 'lambda/handlers/mfa-totp-remove.ts',
    auth: 'bearer',
    body: StepUpBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'loginMfa',
    method: 'POST',
    path: '/login/mfa',
    entry: 'lambda/handlers/login-mfa.ts',
    auth: 'none',
    body: MfaLoginBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_LOGIN_ACTIONS,
  },
  {
    name: 'passkeyOptions',
    method: 'POST',
    path: '/mfa/passkeys/options',
    entry: 'lambda/handlers/mfa-passkey-options.ts',
    auth: 'bearer',
    body: StepUpBody,
    // The step-up may check a password.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'passkeyAdd',
    method: 'POST',
    path: '/mfa/passkeys',
    entry: 'lambda/handlers/mfa-passkey-add.ts',
    auth: 'bearer',
    body: PasskeyAddBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'passkeyRemove',
    method: 'DELETE',
    path: '/mfa/passkeys/{id}',
    entry: 'lambda/handlers/mfa-passkey-remove.ts',
    auth: 'bearer',
    // The step-up may check a password.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    // A step-up body, read by the handler.
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'passkeyLoginOptions',
    method: 'POST',
    path: '/login/passkey/options',
    entry: 'lambda/handlers/login-passkey-options.ts',
    auth: 'none',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    // Writes a short-lived challenge for anyone: rate-limited per IP with the secret-checking routes.
    checksSecret: true,
    setsPassword: false,
    tableActions: ['PutItem'],
  },
  {
    name: 'passkeyLogin',
    method: 'POST',
    path: '/login/passkey',
    entry: 'lambda/handlers/login-passkey.ts',
    auth: 'none',
    body: PasskeyLoginBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_LOGIN_ACTIONS,
  },
  {
    name: 'accountDelete',
    method: 'DELETE',
    path: '/account',
    entry: 'lambda/handlers/account-delete.ts',
    auth: 'bearer',
    // An account without a password confirms with a fresh ID token of a linked identity.
    body: IdentityStepUpBody,
    // The step-up may check a password.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    // A step-up: the password, or the account's second factor.
    checksSecret: true,
    setsPassword: false,
    // The step-up's reads and writes, DynamoDB's clock (a GetItem), the queued request (Put,
    // Delete when the commit loses a race) and the commit (one UpdateItem). No Query: the
    // worker lists the queue (lib/deletion-worker.ts).
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'shareCreate',
    method: 'POST',
    path: '/shares',
    entry: 'lambda/handlers/share-create.ts',
    auth: 'bearer',
    body: ShareCreateBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: SHARING_CREATE_ACTIONS,
  },
  {
    name: 'sharesList',
    method: 'GET',
    path: '/shares',
    entry: 'lambda/handlers/shares-list.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'QueryPartition'],
  },
  {
    name: 'shareDelete',
    method: 'DELETE',
    path: '/shares/{id}',
    entry: 'lambda/handlers/share-delete.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: SHARING_ACTIONS,
    // The cut-off entry (DynamoDB's clock, an UpdateItem), then an Invoke of the cut-off worker.
    cutsOffShares: true,
  },
  {
    name: 'shareCredentials',
    method: 'POST',
    path: '/shares/{id}/credentials',
    entry: 'lambda/handlers/share-credentials.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: true,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'UpdateItem', 'PutItem'],
  },
  {
    name: 'linkCreate',
    method: 'POST',
    path: '/links',
    entry: 'lambda/handlers/link-create.ts',
    auth: 'bearer',
    body: LinkCreateBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: SHARING_CREATE_ACTIONS,
  },
  {
    name: 'linksList',
    method: 'GET',
    path: '/links',
    entry: 'lambda/handlers/links-list.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'QueryPartition'],
  },
  {
    name: 'linkDelete',
    method: 'DELETE',
    path: '/links/{id}',
    entry: 'lambda/handlers/link-delete.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: SHARING_ACTIONS,
  },
  {
    name: 'linkOpen',
    method: 'GET',
    path: '/l/{id}',
    entry: 'lambda/handlers/link-open.ts',
    auth: 'none',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    // It presigns the GET with credentials vended for that one object (docs/api.md#shares-and-links).
    vendsCredentials: true,
    checksSecret: false,
    setsPassword: false,
    tableActions: ['GetItem', 'BatchGetItem', 'UpdateItem', 'PutItem'],
  },
  {
    name: 'oidcNonce',
    method: 'POST',
    path: '/login/oidc/nonce',
    entry: 'lambda/handlers/oidc-nonce.ts',
    auth: 'none',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    // Writes a short-lived nonce for anyone: rate-limited per IP with the secret-checking routes.
    checksSecret: true,
    setsPassword: false,
    tableActions: ['PutItem'],
  },
  {
    name: 'loginOidc',
    method: 'POST',
    path: '/login/oidc',
    entry: 'lambda/handlers/login-oidc.ts',
    auth: 'none',
    body: OidcLoginBody,
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    // A login's (ending sessions over the cap), a registration's (the new account and its
    // name hold) and the nonce's single-use delete and the identity link.
    tableActions: LOGIN_ACTIONS,
  },
  {
    name: 'identitiesList',
    method: 'GET',
    path: '/identities',
    entry: 'lambda/handlers/identities-list.ts',
    auth: 'bearer',
    memoryMb: LIGHT_MEMORY_MB,
    throttle: SIZED_FOR_EXPECTED_LOAD,
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: [READ_SESSION, 'GetItem', 'QueryPartition'],
  },
  {
    name: 'identityLink',
    method: 'POST',
    path: '/identities',
    entry: 'lambda/handlers/identity-link.ts',
    auth: 'bearer',
    body: IdentityLinkBody,
    // The step-up may check a password.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'identityUnlink',
    method: 'DELETE',
    path: '/identities/{id}',
    entry: 'lambda/handlers/identity-unlink.ts',
    auth: 'bearer',
    // The step-up may check a password.
    memoryMb: PASSWORD_MEMORY_MB,
    throttle: PASSWORD_ROUTE_THROTTLE,
    vendsCredentials: false,
    // A step-up body, read by the handler.
    checksSecret: true,
    setsPassword: false,
    tableActions: [...MFA_SESSION_ACTIONS, 'QueryPartition'],
  },
] as const satisfies readonly RouteDefinition[];

/** Every route the TVM serves. */
export const ROUTES: readonly RouteDefinition[] = ROUTE_TABLE;

/** The name of a route of the table. */
export type RouteName = (typeof ROUTE_TABLE)[number]['name'];

/** The table's entry named `N`, with its literal types (its `auth`, its body's declaration). */
export type RouteNamed<N extends RouteName> = Extract<(typeof ROUTE_TABLE)[number], { readonly name: N }>;

/** The route table's entry named `name`. */
export function routeNamed<N extends RouteName>(name: N): RouteNamed<N> {
  const route = ROUTE_TABLE.find((candidate) => candidate.name === name);
  if (route === undefined) throw new Error(`No route named ${name}`);
  return route as RouteNamed<N>;
}

/**
 * The DynamoDB item actions a set of routes needs on the table itself, from the route table,
 * sorted: every action they list but `Query`, which the functions run only on the
 * sessions-by-owner index (see {@link queriesSessionIndex}); `QueryPartition` (a Query of one
 * user's own partition) becomes `Query` on the table.
 */
export function tableItemActions(routes: readonly RouteDefinition[]): TableAction[] {
  return [
    ...new Set(
      routes
        .flatMap((route) => route.tableActions)
        .filter((action) => action !== 'Query')
        .map((action): TableAction => (action === 'QueryPartition' ? 'Query' : action)),
    ),
  ].sort();
}

/**
 * The same as IAM actions (`dynamodb:GetItem`, ...), each named one by one, for the table ARN
 * alone. `Query` is never granted on the table: it is granted separately on the index's ARN.
 */
export function tableActionsFor(routes: readonly RouteDefinition[]): string[] {
  return tableItemActions(routes).map((action) => `dynamodb:${action}`);
}

/** Whether any of the routes lists a user's sessions (a Query on the sessions-by-owner index). */
export function queriesSessionIndex(routes: readonly RouteDefinition[]): boolean {
  return routes.some((route) => route.tableActions.includes('Query'));
}

/** The distinct paths of the routes that check a secret: the optional WAF rate-limits these per IP. */
export function secretCheckingPaths(routes: readonly RouteDefinition[]): string[] {
  return [...new Set(routes.filter((route) => route.checksSecret).map((route) => route.path))];
}

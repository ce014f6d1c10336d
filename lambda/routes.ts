/**
 * The one route table. The CDK stack makes one API Gateway resource, method and function per
 * entry; the local sandbox serves the same handlers from it. Neither keeps its own list.
 */
import {
  CHALLENGE_TOKEN_CHARACTERS,
  DEVICE_MAX_CHARACTERS,
  DEVICE_TOKEN_CHARACTERS,
  PASSKEY_NAME_MAX_CHARACTERS,
  PASSKEY_RESPONSE_MAX_CHARACTERS,
  PASSWORD_MAX_BYTES,
  RESET_CODE_CHARACTERS,
  RECOVERY_CODE_CHARACTERS,
  RECOVERY_CODE_INPUT_MAX_CHARACTERS,
  RESET_CODE_INPUT_MAX_CHARACTERS,
  TOTP_CODE_INPUT_MAX_CHARACTERS,
  TOTP_DIGITS,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
} from './core/limits';

/** A JSON Schema (draft 4, as API Gateway request models use) for a request body. */
export interface BodySchema {
  readonly type: 'object';
  readonly required: readonly string[];
  readonly additionalProperties: false;
  readonly properties: Readonly<Record<string, { readonly type: 'string'; readonly minLength?: number; readonly maxLength?: number }>>;
}

/** One API route. */
export interface RouteDefinition {
  /** Stable identifier, used for function and construct names. */
  readonly name:
    | 'register'
    | 'login'
    | 'token'
    | 'logout'
    | 'password'
    | 'passwordReset'
    | 'sessionsList'
    | 'sessionRevoke'
    | MfaRouteName
    | 'accountDelete';
  readonly method: 'POST' | 'GET' | 'DELETE';
  readonly path: string;
  /** The handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** `bearer`: needs `Authorization: Bearer <session token>`. */
  readonly auth: 'none' | 'bearer';
  /** The body model, for routes that take a JSON body. */
  readonly body?: BodySchema;
  /** Whether the function calls STS AssumeRole on the vending role. */
  readonly vendsCredentials: boolean;
  /** Whether the route checks a password or reset code: the optional WAF rate-limits these per IP. */
  readonly checksSecret: boolean;
  /** Whether the route sets a password: only these functions carry and load the common-password list. */
  readonly setsPassword: boolean;
  /** The DynamoDB actions the function needs on the table (and its index), for least privilege. */
  readonly tableActions: readonly TableAction[];
}

/** DynamoDB actions a function may be granted. */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/** A bearer route's first read: the session and the user its token names, in one BatchGetItem. */
const READ_SESSION: TableAction = 'BatchGetItem';

const REGISTER_ACTIONS: readonly TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
/** A login also ends the user's sessions over the cap, which it finds with a Query on the sessions-by-owner index. */
const LOGIN_ACTIONS: readonly TableAction[] = [...REGISTER_ACTIONS, 'Query'];
const SESSION_ACTIONS: readonly TableAction[] = [READ_SESSION, 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];

/** The second-factor routes (docs/mfa.md). */
type MfaRouteName = 'mfaStatus' | 'totpStart' | 'totpConfirm' | 'totpRemove' | 'loginMfa' | 'passkeyOptions' | 'passkeyAdd' | 'passkeyRemove' | 'passkeyLoginOptions' | 'passkeyLogin';

/** Reads and conditional updates of a user's factors, their attempt counter and the audit trail. */
const MFA_ACTIONS: readonly TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
/** The same, for a signed-in user's factor changes. */
const MFA_SESSION_ACTIONS: readonly TableAction[] = [READ_SESSION, ...MFA_ACTIONS];
/** The same, for a login's second step, which ends sessions over the cap as a login does. */
const MFA_LOGIN_ACTIONS: readonly TableAction[] = [...MFA_ACTIONS, 'Query'];
const totpCodeProperty = { type: 'string', minLength: TOTP_DIGITS, maxLength: TOTP_CODE_INPUT_MAX_CHARACTERS } as const;
const recoveryCodeProperty = { type: 'string', minLength: RECOVERY_CODE_CHARACTERS, maxLength: RECOVERY_CODE_INPUT_MAX_CHARACTERS } as const;
const passkeyResponseProperty = { type: 'string', minLength: 2, maxLength: PASSKEY_RESPONSE_MAX_CHARACTERS } as const;
const challengeProperty = { type: 'string', minLength: CHALLENGE_TOKEN_CHARACTERS, maxLength: CHALLENGE_TOKEN_CHARACTERS } as const;
/** The second-factor proofs of a step-up; a passkey answers a `POST /login/passkey/options` challenge (docs/mfa.md). */
const stepUpFactorProperties = { code: totpCodeProperty, recoveryCode: recoveryCodeProperty, passkey: passkeyResponseProperty, challenge: challengeProperty } as const;
const stepUpBody = {
  type: 'object',
  required: [],
  additionalProperties: false,
  properties: { currentPassword: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_BYTES }, ...stepUpFactorProperties },
} as const;

const usernameProperty = { type: 'string', minLength: USERNAME_MIN_LENGTH, maxLength: USERNAME_MAX_LENGTH } as const;
// A schema counts characters, and a character is at least one UTF-8 byte, so the byte limit
// bounds the characters too; the handler checks the bytes after normalisation.
const passwordProperty = { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_BYTES } as const;

// A device label: the handler trims and checks it is printable.
const deviceProperty = { type: 'string', minLength: 1, maxLength: DEVICE_MAX_CHARACTERS } as const;

/** Every route the TVM serves. */
export const ROUTES: readonly RouteDefinition[] = [
  {
    name: 'register',
    method: 'POST',
    path: '/register',
    entry: 'lambda/handlers/register.ts',
    auth: 'none',
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: true,
    tableActions: REGISTER_ACTIONS,
    body: {
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
      properties: { username: usernameProperty, password: passwordProperty, device: deviceProperty },
    },
  },
  {
    name: 'login',
    method: 'POST',
    path: '/login',
    entry: 'lambda/handlers/login.ts',
    auth: 'none',
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    tableActions: LOGIN_ACTIONS,
    body: {
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
      properties: {
        username: usernameProperty,
        password: passwordProperty,
        device: deviceProperty,
        deviceToken: { type: 'string', minLength: DEVICE_TOKEN_CHARACTERS, maxLength: DEVICE_TOKEN_CHARACTERS },
      },
    },
  },
  {
    name: 'token',
    method: 'POST',
    path: '/token',
    entry: 'lambda/handlers/token.ts',
    auth: 'bearer',
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
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: true,
    tableActions: SESSION_ACTIONS,
    body: {
      type: 'object',
      required: ['currentPassword', 'newPassword'],
      additionalProperties: false,
      // With a second factor, also one of its proofs (the step-up fields; docs/mfa.md).
      properties: { currentPassword: passwordProperty, newPassword: passwordProperty, ...stepUpFactorProperties },
    },
  },
  {
    name: 'passwordReset',
    method: 'POST',
    path: '/password/reset',
    entry: 'lambda/handlers/password-reset.ts',
    auth: 'none',
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: true,
    // As a login's: it also ends the user's other sessions, found with a Query.
    tableActions: LOGIN_ACTIONS,
    body: {
      type: 'object',
      required: ['username', 'resetCode', 'newPassword'],
      additionalProperties: false,
      properties: {
        username: usernameProperty,
        resetCode: { type: 'string', minLength: RESET_CODE_CHARACTERS, maxLength: RESET_CODE_INPUT_MAX_CHARACTERS },
        newPassword: passwordProperty,
        // Required by the handler when the account has a second factor (docs/mfa.md).
        code: totpCodeProperty,
        recoveryCode: recoveryCodeProperty,
      },
    },
  },
  {
    name: 'sessionsList',
    method: 'GET',
    path: '/sessions',
    entry: 'lambda/handlers/sessions-list.ts',
    auth: 'bearer',
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
    vendsCredentials: false,
    // Ending another session takes a step-up (docs/mfa.md), checked under the lockouts; the
    // WAF matches fixed path suffixes, and this path has a parameter.
    checksSecret: false,
    setsPassword: false,
    tableActions: SESSION_ACTIONS,
  },
  {
    name: 'mfaStatus',
    method: 'GET',
    path: '/mfa',
    entry: 'lambda/handlers/mfa-status.ts',
    auth: 'bearer',
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
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
    body: stepUpBody,
  },
  {
    name: 'totpConfirm',
    method: 'POST',
    path: '/mfa/totp/confirm',
    entry: 'lambda/handlers/mfa-totp-confirm.ts',
    auth: 'bearer',
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
    body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: totpCodeProperty } },
  },
  {
    name: 'totpRemove',
    method: 'DELETE',
    path: '/mfa/totp',
    entry: 'lambda/handlers/mfa-totp-remove.ts',
    auth: 'bearer',
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
    body: stepUpBody,
  },
  {
    name: 'loginMfa',
    method: 'POST',
    path: '/login/mfa',
    entry: 'lambda/handlers/login-mfa.ts',
    auth: 'none',
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_LOGIN_ACTIONS,
    body: {
      type: 'object',
      required: ['challenge'],
      additionalProperties: false,
      properties: { challenge: challengeProperty, code: totpCodeProperty, recoveryCode: recoveryCodeProperty, passkey: passkeyResponseProperty },
    },
  },
  {
    name: 'passkeyOptions',
    method: 'POST',
    path: '/mfa/passkeys/options',
    entry: 'lambda/handlers/mfa-passkey-options.ts',
    auth: 'bearer',
    vendsCredentials: false,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
    body: stepUpBody,
  },
  {
    name: 'passkeyAdd',
    method: 'POST',
    path: '/mfa/passkeys',
    entry: 'lambda/handlers/mfa-passkey-add.ts',
    auth: 'bearer',
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
    body: {
      type: 'object',
      required: ['credential'],
      additionalProperties: false,
      properties: { credential: passkeyResponseProperty, name: { type: 'string', minLength: 1, maxLength: PASSKEY_NAME_MAX_CHARACTERS } },
    },
  },
  {
    name: 'passkeyRemove',
    method: 'DELETE',
    path: '/mfa/passkeys/{id}',
    entry: 'lambda/handlers/mfa-passkey-remove.ts',
    auth: 'bearer',
    vendsCredentials: false,
    // A step-up body, read by the handler; the WAF matches fixed path suffixes only.
    checksSecret: false,
    setsPassword: false,
    tableActions: MFA_SESSION_ACTIONS,
  },
  {
    name: 'passkeyLoginOptions',
    method: 'POST',
    path: '/login/passkey/options',
    entry: 'lambda/handlers/login-passkey-options.ts',
    auth: 'none',
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
    vendsCredentials: true,
    checksSecret: true,
    setsPassword: false,
    tableActions: MFA_LOGIN_ACTIONS,
    body: {
      type: 'object',
      required: ['challenge', 'credential'],
      additionalProperties: false,
      properties: { challenge: challengeProperty, credential: passkeyResponseProperty },
    },
  },
  {
    name: 'accountDelete',
    method: 'DELETE',
    path: '/account',
    entry: 'lambda/handlers/account-delete.ts',
    auth: 'bearer',
    vendsCredentials: false,
    // A step-up: the password, or the account's second factor.
    checksSecret: true,
    setsPassword: false,
    // The step-up's reads and writes, DynamoDB's clock (a GetItem), the queued request (Put,
    // Delete when the commit loses a race) and the commit (one UpdateItem). No Query: the
    // worker lists the queue (lib/deletion-worker.ts).
    tableActions: MFA_SESSION_ACTIONS,
    body: stepUpBody,
  },
];

/**
 * The DynamoDB item actions a set of routes needs on the table itself, from the route table,
 * sorted: every action they list but `Query`, which the functions run only on the
 * sessions-by-owner index (see {@link queriesSessionIndex}).
 */
export function tableItemActions(routes: readonly RouteDefinition[]): TableAction[] {
  return [...new Set(routes.flatMap((route) => route.tableActions).filter((action) => action !== 'Query'))].sort();
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

/**
 * The one route table. The CDK stack makes one API Gateway resource, method and function per
 * entry; the local sandbox serves the same handlers from it. Neither keeps its own list.
 */
import {
  DEVICE_MAX_CHARACTERS,
  DEVICE_TOKEN_CHARACTERS,
  PASSWORD_MAX_BYTES,
  RESET_CODE_CHARACTERS,
  RESET_CODE_INPUT_MAX_CHARACTERS,
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
  readonly name: 'register' | 'login' | 'token' | 'logout' | 'password' | 'passwordReset' | 'sessionsList' | 'sessionRevoke';
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
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

const LOGIN_ACTIONS: readonly TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
const SESSION_ACTIONS: readonly TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];

const usernameProperty = { type: 'string', minLength: USERNAME_MIN_LENGTH, maxLength: USERNAME_MAX_LENGTH } as const;
// A schema counts characters, and a character is at least one UTF-8 byte, so the byte limit
// bounds the characters too; the handler checks the bytes after normalisation.
const passwordProperty = { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_BYTES } as const;

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
    tableActions: LOGIN_ACTIONS,
    body: {
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
      properties: { username: usernameProperty, password: passwordProperty },
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
        device: { type: 'string', minLength: 1, maxLength: DEVICE_MAX_CHARACTERS },
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
    tableActions: ['GetItem', 'UpdateItem', 'PutItem'],
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
    tableActions: ['GetItem', 'DeleteItem', 'PutItem'],
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
      properties: { currentPassword: passwordProperty, newPassword: passwordProperty },
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
    tableActions: SESSION_ACTIONS,
    body: {
      type: 'object',
      required: ['username', 'resetCode', 'newPassword'],
      additionalProperties: false,
      properties: {
        username: usernameProperty,
        resetCode: { type: 'string', minLength: RESET_CODE_CHARACTERS, maxLength: RESET_CODE_INPUT_MAX_CHARACTERS },
        newPassword: passwordProperty,
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
    tableActions: ['GetItem', 'Query'],
  },
  {
    name: 'sessionRevoke',
    method: 'DELETE',
    path: '/sessions/{id}',
    entry: 'lambda/handlers/session-revoke.ts',
    auth: 'bearer',
    vendsCredentials: false,
    checksSecret: false,
    setsPassword: false,
    tableActions: ['GetItem', 'Query', 'DeleteItem', 'PutItem'],
  },
];

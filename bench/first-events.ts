/**
 * First events for each route of lambda/contract/routes.ts that take the route's success path against
 * a sandbox's current state (creating what they need there: a fresh session, a reset code, a
 * second session to revoke), as API Gateway proxy events. Used by the cold starts and the
 * round-trip count of `npm run bench`.
 */
import { ROUTES, type RouteDefinition } from '../lambda/contract/routes';
import type { AccountAdmin } from '../lambda/operator/account-admin';
import type { Username } from '../lambda/accounts/username';

/** The password of every benchmark user. */
export const PASSWORD = 'correct horse battery staple';

/** An API Gateway proxy event for `route`. */
export function proxyEvent(
  route: RouteDefinition,
  body: unknown,
  token?: string,
  pathValues: Record<string, string> = {},
): Record<string, unknown> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathValues[name] ?? 'bench'));
  const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => [
    match[1] as string,
    pathValues[match[1] as string] ?? 'bench',
  ]);
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: parameters.length > 0 ? Object.fromEntries(parameters) : null,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      httpMethod: route.method,
      path,
      stage: 'v1',
      requestId: 'bench',
      requestTimeEpoch: Date.now(),
      resourceId: route.name,
      resourcePath: route.path,
      protocol: 'HTTP/1.1',
      authorizer: null,
      identity: { sourceIp: '127.0.0.1', userAgent: 'bench' },
    },
  };
}

export async function postJson(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function sessionToken(apiUrl: string, username: string): Promise<string> {
  const { status, json } = await postJson(`${apiUrl}/login`, { username, password: PASSWORD });
  if (status !== 200) throw new Error(`login ${username}: ${status}`);
  return (json.session as { token: string }).token;
}

/**
 * The answer each function's first event must get: the success path, never a refusal. The
 * second-factor routes (docs/mfa.md) are not measured yet: their success paths need a TOTP
 * code or a WebAuthn answer made for each event. The sharing routes act as bench-owner and
 * bench-grantee; each share or link they need is created through the API just before.
 */
export const EXPECTED_FIRST_STATUS: Partial<Record<RouteDefinition['name'], number>> = {
  register: 201,
  login: 200,
  token: 200,
  logout: 204,
  password: 200,
  passwordReset: 200,
  sessionsList: 200,
  sessionRevoke: 204,
  shareCreate: 201,
  sharesList: 200,
  shareCredentials: 200,
  shareDelete: 204,
  linkCreate: 201,
  linksList: 200,
  linkDelete: 204,
  linkOpen: 302,
};

/** The routes the benchmarks measure: those with a first event. */
export const MEASURED_ROUTES = ROUTES.filter((route) => EXPECTED_FIRST_STATUS[route.name] !== undefined);

/** Users the cold starts act as, one per purpose, so no event spoils another's state. */
export const COLD_USERS = [
  'bench-login',
  'bench-token',
  'bench-logout',
  'bench-password',
  'bench-reset',
  'bench-list',
  'bench-sessions',
  // Sharing: the owner gives, the grantee vends.
  'bench-owner',
  'bench-grantee',
] as const;

/** The file every benchmark share and link names, in bench-owner's folder (it need not exist). */
const SHARED_FILE = 'bench/shared.txt';

/** Creates a share of bench-owner's `bench/` folder with bench-grantee through the API; returns its id. */
async function benchShare(apiUrl: string): Promise<string> {
  const owner = await sessionToken(apiUrl, 'bench-owner');
  const { status, json } = await postJson(
    `${apiUrl}/shares`,
    { path: 'bench/', grantee: 'bench-grantee', access: 'read' },
    owner,
  );
  if (status !== 201) throw new Error(`share: ${status}`);
  return json.id as string;
}

/** Creates a link to bench-owner's shared file through the API; returns its id. */
async function benchLink(apiUrl: string): Promise<string> {
  const { status, json } = await postJson(
    `${apiUrl}/links`,
    { path: SHARED_FILE },
    await sessionToken(apiUrl, 'bench-owner'),
  );
  if (status !== 201) throw new Error(`link: ${status}`);
  return json.id as string;
}

/**
 * A first event that takes the route's success path against the sandbox's current state,
 * creating what it needs there (a fresh session, a reset code, a second session to revoke).
 */
export async function coldEvent(
  route: RouteDefinition,
  apiUrl: string,
  admin: AccountAdmin,
  serial: number,
): Promise<Record<string, unknown>> {
  switch (route.name) {
    case 'register':
      return proxyEvent(route, { username: `bench-r${serial}`, password: PASSWORD });
    case 'login':
      return proxyEvent(route, { username: 'bench-login', password: PASSWORD });
    case 'token':
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-token'));
    case 'logout':
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-logout'));
    case 'password':
      return proxyEvent(
        route,
        { currentPassword: PASSWORD, newPassword: PASSWORD },
        await sessionToken(apiUrl, 'bench-password'),
      );
    case 'passwordReset': {
      const { code } = await admin.issueResetCode('bench-reset' as Username);
      return proxyEvent(route, { username: 'bench-reset', resetCode: code, newPassword: PASSWORD });
    }
    case 'sessionsList':
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-list'));
    case 'sessionRevoke': {
      const caller = await sessionToken(apiUrl, 'bench-sessions');
      const other = await sessionToken(apiUrl, 'bench-sessions');
      const listed = await fetch(`${apiUrl}/sessions`, { headers: { authorization: `Bearer ${other}` } });
      const { sessions } = (await listed.json()) as { sessions: { id: string; current: boolean }[] };
      const id = sessions.find((session) => session.current)?.id;
      if (!id) throw new Error('no current session to revoke');
      // Ending another device's session takes a step-up: the current password.
      return proxyEvent(route, { currentPassword: PASSWORD }, caller, { id });
    }
    case 'shareCreate':
      return proxyEvent(
        route,
        { path: 'bench/', grantee: 'bench-grantee', access: 'read' },
        await sessionToken(apiUrl, 'bench-owner'),
      );
    case 'sharesList':
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-grantee'));
    case 'shareCredentials': {
      const id = await benchShare(apiUrl);
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-grantee'), { id });
    }
    case 'shareDelete': {
      const id = await benchShare(apiUrl);
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-owner'), { id });
    }
    case 'linkCreate':
      return proxyEvent(route, { path: SHARED_FILE }, await sessionToken(apiUrl, 'bench-owner'));
    case 'linksList':
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-owner'));
    case 'linkDelete': {
      const id = await benchLink(apiUrl);
      return proxyEvent(route, undefined, await sessionToken(apiUrl, 'bench-owner'), { id });
    }
    case 'linkOpen':
      return proxyEvent(route, undefined, undefined, { id: await benchLink(apiUrl) });
    default:
      throw new Error(`no cold-start event for ${route.name}`);
  }
}

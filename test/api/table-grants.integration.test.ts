/**
 * Least privilege that still works: each function's IAM policy grants exactly the DynamoDB
 * actions its route lists (lambda/contract/routes.ts, `tableActions`), and STS AssumeRole only to the
 * routes that vend credentials, so a call a handler makes but its route does not list is an
 * AccessDenied (a 503) on AWS.
 * Every route's success path runs here against dynalite with the SDK clients recording what
 * they send, and each call must be one its route grants. The passkey routes need a WebAuthn
 * authenticator (test/web/mfa-passkey.browser.test.ts) and are not run here.
 */
import '../support/handler-env';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { join } from 'node:path';
import { accountAdmin } from '../../admin/operations';
import { ROUTES, type RouteDefinition, type TableAction } from '../../lambda/contract/routes';
import { totpCode } from '../../lambda/second-factor/totp';
import { parseUsername } from '../../lambda/accounts/username';
import { bearerPost, bodyOf, jsonPost, lambdaContext, type Handler } from '../support/api-events';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { LocalProvider, mintToken, signingKey, type SigningKey } from '../support/local-oidc-provider';

const TABLE = 'tvm-grants-users';
const PASSWORD = 'correct horse battery';
const sts = mockClient(STSClient);
// DELETE /shares/{id} asks the cut-off worker to run (an asynchronous Invoke, no table action).
const lambda = mockClient(LambdaClient);
const context = lambdaContext();
let dynamo: TestDynamoDb;
// A provider for the sign-in-with-a-provider routes, configured before any handler loads.
const idp = new LocalProvider();
let idpKey: SigningKey;

/** The table action each command class needs, document-level and low-level names alike. */
const ACTION_OF: Record<string, TableAction> = {
  Get: 'GetItem',
  GetItem: 'GetItem',
  BatchGet: 'BatchGetItem',
  BatchGetItem: 'BatchGetItem',
  Put: 'PutItem',
  PutItem: 'PutItem',
  Update: 'UpdateItem',
  UpdateItem: 'UpdateItem',
  Delete: 'DeleteItem',
  DeleteItem: 'DeleteItem',
  Query: 'Query',
  QueryTable: 'QueryPartition',
};

let sent: string[] = [];
let assumedRole = false;
type Send = (this: unknown, command: { constructor: { name: string } }, ...rest: unknown[]) => Promise<unknown>;
for (const client of [DynamoDBDocumentClient, DynamoDBClient] as unknown as { prototype: { send: Send } }[]) {
  const original = client.prototype.send;
  client.prototype.send = function recordingSend(this: unknown, command, ...rest) {
    const name = command.constructor.name.replace(/Command$/, '');
    // A Query on the table itself (a user's partition) is granted apart from one on the sessions index.
    const onTable = name === 'Query' && (command as { input?: { IndexName?: string } }).input?.IndexName === undefined;
    sent.push(onTable ? 'QueryTable' : name);
    return original.call(this, command, ...rest);
  };
}
// STS too (over the mock): only the functions that vend credentials get sts:AssumeRole.
const mockedStsSend = (STSClient as unknown as { prototype: { send: Send } }).prototype.send;
(STSClient as unknown as { prototype: { send: Send } }).prototype.send = function recordingStsSend(
  this: unknown,
  command,
  ...rest
) {
  if (command.constructor.name === 'AssumeRoleCommand') assumedRole = true;
  return mockedStsSend.call(this, command, ...rest);
};

const route = (name: RouteDefinition['name']) => ROUTES.find((candidate) => candidate.name === name) as RouteDefinition;
const handlers = new Map<string, Handler>();

/** Runs `name`'s handler on `event`, expects `status`, and returns the answer with the actions it sent. */
async function call(name: RouteDefinition['name'], event: APIGatewayProxyEvent, status: number) {
  const definition = route(name);
  let handler = handlers.get(name);
  if (!handler) {
    handler = ((await import(join('..', '..', definition.entry))) as { handler: Handler }).handler;
    handlers.set(name, handler);
  }
  sent = [];
  assumedRole = false;
  const result = await handler({ ...event, httpMethod: definition.method }, context);
  expect({ name, status: result.statusCode }).toEqual({ name, status });
  const actions = [...new Set(sent.map((command) => ACTION_OF[command] ?? `unknown command ${command}`))];
  return { result, actions };
}

const exercised = new Map<RouteDefinition['name'], string[]>();
const assumedRoleIn = new Set<RouteDefinition['name']>();
async function expectGranted(name: RouteDefinition['name'], event: APIGatewayProxyEvent, status: number) {
  const { result, actions } = await call(name, event, status);
  exercised.set(name, actions);
  expect({
    name,
    notGranted: actions.filter((action) => !route(name).tableActions.includes(action as TableAction)),
  }).toEqual({ name, notGranted: [] });
  // The functions that do not vend credentials run under a role with no STS rights at all.
  if (assumedRole) {
    assumedRoleIn.add(name);
    expect({ name, vendsCredentials: route(name).vendsCredentials }).toEqual({ name, vendsCredentials: true });
  }
  return result;
}

const withBody = (
  event: APIGatewayProxyEvent,
  body: unknown,
  pathParameters?: Record<string, string>,
): APIGatewayProxyEvent => ({
  ...event,
  headers: { ...event.headers, 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
  pathParameters: pathParameters ?? null,
});

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  process.env.TABLE_NAME = TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  await idp.start();
  idpKey = await signingKey('k1');
  idp.keys = [idpKey];
  process.env.OIDC_PROVIDERS = JSON.stringify([{ name: 'dev', issuer: idp.issuer, audiences: ['tvm'] }]);
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: 'ASIAGRANTS',
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  delete process.env.OIDC_PROVIDERS;
  await idp.stop();
  sts.restore();
  lambda.restore();
  await dynamo.stop();
});

it('every DynamoDB call of the account routes is one its route grants', async () => {
  const username = `grants-${Date.now().toString(36)}`;
  const registered = await expectGranted('register', jsonPost('/register', { username, password: PASSWORD }), 201);
  const first = bodyOf<{ session: { token: string } }>(registered).session.token;
  const login = await expectGranted(
    'login',
    jsonPost('/login', { username, password: PASSWORD, device: 'Phone' }),
    200,
  );
  const second = bodyOf<{ session: { token: string } }>(login).session.token;
  await expectGranted('token', bearerPost('/token', first), 200);
  const listed = await expectGranted('sessionsList', bearerPost('/sessions', first), 200);
  const other = bodyOf<{ sessions: { id: string; current: boolean }[] }>(listed).sessions.find(
    (session) => !session.current,
  )?.id as string;
  await expectGranted(
    'sessionRevoke',
    withBody(bearerPost(`/sessions/${other}`, first), { currentPassword: PASSWORD }, { id: other }),
    204,
  );
  expect(second).not.toBe(first);
  await expectGranted('mfaStatus', bearerPost('/mfa', first), 200);
  await expectGranted('totpStart', withBody(bearerPost('/mfa/totp', first), { currentPassword: PASSWORD }), 200);
  const changed = await expectGranted(
    'password',
    withBody(bearerPost('/password', first), {
      currentPassword: PASSWORD,
      newPassword: 'battery staple horse correct',
    }),
    200,
  );
  const third = bodyOf<{ session: { token: string } }>(changed).session.token;
  const admin = accountAdmin(
    { dynamo: dynamo.client, tableName: TABLE },
    { info: () => undefined, warn: () => undefined, error: () => undefined },
  );
  const { code } = await admin.issueResetCode(parseUsername(username));
  await expectGranted(
    'passwordReset',
    jsonPost('/password/reset', { username, resetCode: code, newPassword: 'staple horse correct battery' }),
    200,
  );
  await expectGranted('logout', bearerPost('/logout', third), 401);
  const fresh = await call('login', jsonPost('/login', { username, password: 'staple horse correct battery' }), 200);
  await expectGranted(
    'logout',
    bearerPost('/logout', bodyOf<{ session: { token: string } }>(fresh.result).session.token),
    204,
  );
  // The bearer routes read the session and its user in one BatchGetItem: the grant that needs.
  for (const name of [
    'token',
    'sessionsList',
    'sessionRevoke',
    'mfaStatus',
    'totpStart',
    'password',
    'logout',
  ] as const) {
    expect({ name, actions: exercised.get(name) }).toEqual({ name, actions: expect.arrayContaining(['BatchGetItem']) });
  }
  // The STS check above saw the vending routes vend (it is not vacuous).
  expect([...assumedRoleIn].sort()).toEqual(['login', 'passwordReset', 'register', 'token']);
});

it('every DynamoDB call of the TOTP routes, and of a login finished with a second factor, is one its route grants', async () => {
  const username = `grants-mfa-${Date.now().toString(36)}`;
  const registered = await call('register', jsonPost('/register', { username, password: PASSWORD }), 201);
  const token = bodyOf<{ session: { token: string } }>(registered.result).session.token;
  const started = await expectGranted(
    'totpStart',
    withBody(bearerPost('/mfa/totp', token), { currentPassword: PASSWORD }),
    200,
  );
  const { secret } = bodyOf<{ secret: string }>(started);
  const confirmed = await expectGranted(
    'totpConfirm',
    withBody(bearerPost('/mfa/totp/confirm', token), { code: totpCode(secret, Date.now()) }),
    200,
  );
  const { recoveryCodes } = bodyOf<{ recoveryCodes: string[] }>(confirmed);
  const login = await expectGranted('login', jsonPost('/login', { username, password: PASSWORD }), 200);
  const { challenge } = bodyOf<{ challenge: { token: string } }>(login);
  await expectGranted(
    'loginMfa',
    jsonPost('/login/mfa', { challenge: challenge.token, recoveryCode: recoveryCodes[0] }),
    200,
  );
  await expectGranted('totpRemove', withBody(bearerPost('/mfa/totp', token), { recoveryCode: recoveryCodes[1] }), 204);
  for (const name of ['totpConfirm', 'totpRemove'] as const) {
    expect({ name, actions: exercised.get(name) }).toEqual({ name, actions: expect.arrayContaining(['BatchGetItem']) });
  }
});

it('every DynamoDB call of DELETE /account is one its route grants, and it vends nothing', async () => {
  const username = `grants-del-${Date.now().toString(36)}`;
  const registered = await call('register', jsonPost('/register', { username, password: PASSWORD }), 201);
  const token = bodyOf<{ session: { token: string } }>(registered.result).session.token;
  const answer = await expectGranted(
    'accountDelete',
    withBody(bearerPost('/account', token), { currentPassword: PASSWORD }),
    202,
  );
  expect(bodyOf<{ deletion: { status: string } }>(answer).deletion.status).toBe('pending');
  expect(exercised.get('accountDelete')).toEqual(
    expect.arrayContaining(['BatchGetItem', 'GetItem', 'PutItem', 'UpdateItem']),
  );
  expect(assumedRoleIn.has('accountDelete')).toBe(false);
});

it('every DynamoDB call of the sharing routes is one its route grants, and only the share credentials and link routes vend', async () => {
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  const suffix = Date.now().toString(36);
  const tokenOf = async (username: string) =>
    bodyOf<{ session: { token: string } }>(
      (await call('register', jsonPost('/register', { username, password: PASSWORD }), 201)).result,
    ).session.token;
  const [alice, bob] = [await tokenOf(`share-a-${suffix}`), await tokenOf(`share-b-${suffix}`)];
  assumedRoleIn.clear();
  const share = bodyOf<{ id: string }>(
    await expectGranted(
      'shareCreate',
      withBody(bearerPost('/shares', alice), { path: 'photos/', grantee: `share-b-${suffix}`, access: 'read' }),
      201,
    ),
  );
  await expectGranted('sharesList', { ...bearerPost('/shares', bob), body: null }, 200);
  await expectGranted(
    'shareCredentials',
    { ...bearerPost(`/shares/${share.id}/credentials`, bob), pathParameters: { id: share.id } },
    200,
  );
  const link = bodyOf<{ id: string }>(
    await expectGranted('linkCreate', withBody(bearerPost('/links', alice), { path: 'photos/a.jpg' }), 201),
  );
  await expectGranted('linksList', { ...bearerPost('/links', alice), body: null }, 200);
  await expectGranted(
    'linkOpen',
    { ...jsonPost(`/l/${link.id}`, null), body: null, pathParameters: { id: link.id } },
    302,
  );
  await expectGranted(
    'linkDelete',
    { ...bearerPost(`/links/${link.id}`, alice), pathParameters: { id: link.id } },
    204,
  );
  await expectGranted(
    'shareDelete',
    { ...bearerPost(`/shares/${share.id}`, bob), pathParameters: { id: share.id } },
    204,
  );
  expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  expect(exercised.get('sharesList')).toEqual(expect.arrayContaining(['QueryPartition']));
  expect([...assumedRoleIn].sort()).toEqual(['linkOpen', 'shareCredentials']);
});

it('every DynamoDB call of the sign-in-with-a-provider routes is one its route grants', async () => {
  const token = async (sub: string) => {
    const answer = await expectGranted('oidcNonce', jsonPost('/login/oidc/nonce', ''), 200);
    return mintToken(idpKey, idp.issuer, 'tvm', { sub, nonce: bodyOf<{ nonce: string }>(answer).nonce });
  };
  const created = await expectGranted(
    'loginOidc',
    jsonPost('/login/oidc', { provider: 'dev', idToken: await token('grants-sub'), username: 'grants-oidc' }),
    201,
  );
  const session = bodyOf<{ session: { token: string } }>(created).session.token;
  await expectGranted(
    'loginOidc',
    jsonPost('/login/oidc', { provider: 'dev', idToken: await token('grants-sub') }),
    200,
  );
  await expectGranted('identitiesList', bearerPost('/identities', session), 200);
  const linked = await expectGranted(
    'identityLink',
    withBody(bearerPost('/identities', session), {
      provider: 'dev',
      idToken: await token('grants-second'),
      stepUpProvider: 'dev',
      stepUpIdToken: await token('grants-sub'),
    }),
    201,
  );
  await expectGranted(
    'identityUnlink',
    withBody(
      bearerPost('/identities', session),
      { provider: 'dev', idToken: await token('grants-sub') },
      {
        id: bodyOf<{ id: string }>(linked).id,
      },
    ),
    204,
  );
});

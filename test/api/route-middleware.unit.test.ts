/**
 * The shared middleware takes what each handler gets from the handler's route entry: a route
 * with a body declaration has its body checked against it before any domain code runs, and a
 * `bearer` route gets the session token from the Authorization header. Every route of the
 * table, through its own handler module, with aws-sdk-client-mock standing in for the backends.
 */
import '../support/handler-env';
import * as path from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ROUTES, type RouteDefinition } from '../../lambda/contract/routes';
import { bodyOf, jsonPost, lambdaContext } from '../support/api-events';

const sts = mockClient(STSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const context = lambdaContext();

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

async function handlerOf(route: RouteDefinition): Promise<Handler> {
  const module = (await import(path.join(__dirname, '..', '..', route.entry))) as { handler: Handler };
  return module.handler;
}

function eventFor(route: RouteDefinition, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  const pathParameters = route.path.includes('{id}') ? { id: 'AAAAAAAAAAAAAAAAAAAAAA' } : null;
  return { ...jsonPost(route.path, body, headers), httpMethod: route.method, pathParameters };
}

beforeEach(() => {
  dynamo.reset();
  sts.reset();
  // Any backend call fails loudly: these requests must be answered before one is made.
  dynamo.onAnyCommand().rejects(new Error('no backend call expected'));
  sts.onAnyCommand().rejects(new Error('no backend call expected'));
});

const withBodies = ROUTES.filter((route) => route.body !== undefined);
const bearer = ROUTES.filter((route) => route.auth === 'bearer');

describe.each(withBodies.map((route) => [`${route.method} ${route.path}`, route] as const))(
  '%s (a body declaration)',
  (_label, route) => {
    it('refuses an unknown field with a 400 naming it, before any backend call', async () => {
      const handler = await handlerOf(route);
      const result = await handler(eventFor(route, { admin: 'true' }, { Authorization: 'Bearer x' }), context);
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toEqual({
        error: {
          code: 'invalid_request',
          field: 'admin',
          message: `Unexpected field "admin"; allowed: ${Object.keys(route.body!.properties).join(', ')}.`,
        },
      });
      expect(dynamo.calls()).toHaveLength(0);
      expect(sts.calls()).toHaveLength(0);
    });
  },
);

describe.each(bearer.map((route) => [`${route.method} ${route.path}`, route] as const))(
  '%s (auth: bearer)',
  (_label, route) => {
    it('answers 401 invalid_credentials to a request with no bearer token, before any backend call', async () => {
      const handler = await handlerOf(route);
      // A body the route accepts, so only the missing token is wrong: most take a step-up (the password).
      const stepUp = { currentPassword: 'a long enough password' };
      const bodies: Record<string, unknown> = {
        password: { currentPassword: 'a long enough password', newPassword: 'another long password' },
        totpConfirm: { code: '123456' },
        passkeyAdd: { credential: '{}' },
        shareCreate: { path: 'photos/', grantee: 'bob', access: 'read' },
        linkCreate: { path: 'photos/a.jpg' },
        identityLink: { provider: 'dev', idToken: 'a.b.c', currentPassword: 'a long enough password' },
      };
      const withoutToken =
        route.name in bodies
          ? bodies[route.name]
          : route.body !== undefined || route.method === 'DELETE'
            ? stepUp
            : null;
      const result = await handler(eventFor(route, withoutToken), context);
      expect(result.statusCode).toBe(401);
      expect(bodyOf(result)).toMatchObject({ error: { code: 'invalid_credentials' } });
      expect(dynamo.calls()).toHaveLength(0);
    });
  },
);

/**
 * `GET /l/{id}` as the function answers it, with aws-sdk-client-mock standing in for DynamoDB
 * and STS: a 302 whose Location is a presigned GET of exactly the linked key, never cached; the
 * AssumeRole it makes; the TVM's error shape for a link that cannot be opened. And the API base
 * URL the link routes put in front of `/l/<id>`.
 */
import '../support/handler-env';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LINK_URL_SECONDS } from '../../lambda/contract/limits';
import { apiBaseUrl, type ParsedEvent } from '../../lambda/handlers/http';
import { handler as linkOpen } from '../../lambda/handlers/link-open';
import { linkSessionTag } from '../../lambda/sharing/link-service';
import { newGrantId } from '../../lambda/sharing/requests';
import { bodyOf, jsonPost, lambdaContext } from '../support/api-events';

const sts = mockClient(STSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const context = lambdaContext();
const LINK_ID = newGrantId();

function openEvent(id: string): APIGatewayProxyEvent {
  const event = jsonPost(`/l/${id}`, null, {});
  return {
    ...event,
    httpMethod: 'GET',
    resource: '/l/{id}',
    body: null,
    headers: {},
    pathParameters: { id },
    requestContext: {
      ...event.requestContext,
      identity: { ...event.requestContext.identity, sourceIp: '198.51.100.7' },
    },
  };
}

function backends(link: Record<string, unknown> | undefined, owner: Record<string, unknown> | undefined): void {
  dynamo.reset();
  sts.reset();
  dynamo.on(GetCommand).resolves({});
  if (link) dynamo.on(GetCommand, { Key: { pk: `LINK#${LINK_ID}`, sk: 'LINK' } }).resolves({ Item: link });
  if (owner) dynamo.on(GetCommand, { Key: { pk: 'USER#alice', sk: 'PROFILE' } }).resolves({ Item: owner });
  dynamo.on(UpdateCommand).resolves({});
  dynamo.on(PutCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLEEXAMPLE01',
      SecretAccessKey: 'secret',
      SessionToken: 'session-token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
}

const linkItem = (overrides: Record<string, unknown> = {}) => ({
  pk: `LINK#${LINK_ID}`,
  sk: 'LINK',
  id: LINK_ID,
  owner: 'alice',
  ownerUserId: 'user-id-1',
  path: 'photos/a.jpg',
  createdAt: Date.now() - 1000,
  ...overrides,
});
const aliceItem = (overrides: Record<string, unknown> = {}) => ({
  username: 'alice',
  userId: 'user-id-1',
  passwordHash: 'x',
  createdAt: 1,
  disabled: false,
  sessionGeneration: 0,
  ...overrides,
});

describe('GET /l/{id}', () => {
  it('answers 302 to a presigned GET of exactly alice/photos/a.jpg, valid LINK_URL_SECONDS, with no-store', async () => {
    backends(linkItem(), aliceItem());
    const result = await linkOpen(openEvent(LINK_ID), context);
    expect(result.statusCode).toBe(302);
    expect(result.headers?.['Cache-Control']).toBe('no-store');
    expect(result.headers?.['Referrer-Policy']).toBe('no-referrer');
    const location = new URL(String(result.headers?.Location));
    expect(location.hostname).toBe('tvm-test-files.s3.eu-west-1.amazonaws.com');
    expect(decodeURIComponent(location.pathname)).toBe('/alice/photos/a.jpg');
    expect(location.searchParams.get('X-Amz-Expires')).toBe(String(LINK_URL_SECONDS));
    expect(location.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAEXAMPLEEXAMPLE01\//);
    expect(result.body).toBe('');
    const assume = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(assume?.SourceIdentity).toBe('alice');
    expect(assume?.Tags).toContainEqual({ Key: 'share', Value: linkSessionTag(LINK_ID) });
    expect(JSON.stringify(assume)).not.toContain(LINK_ID);
    expect(JSON.parse(String(assume?.Policy)).Statement[0]).toMatchObject({
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: 'arn:aws:s3:::tvm-test-files/alice/photos/a.jpg',
    });
  });

  it.each([
    ['an unknown link', undefined, aliceItem()],
    ['an ended link', linkItem({ expiresAt: Date.now() - 1 }), aliceItem()],
    ['a link whose owner is disabled', linkItem(), aliceItem({ disabled: true })],
    ['a link whose owner registered again', linkItem(), aliceItem({ userId: 'user-id-2' })],
    ['a link whose owner is gone', linkItem(), undefined],
  ])('answers 404 with the TVM error shape for %s, and calls no STS', async (_what, link, owner) => {
    backends(link, owner);
    const result = await linkOpen(openEvent(LINK_ID), context);
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'not_found', message: 'No such link, or it has ended.' } });
    expect(result.headers?.Location).toBeUndefined();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('answers 404 for an id of the wrong shape without reading the table', async () => {
    backends(linkItem(), aliceItem());
    const result = await linkOpen(openEvent('not-a-link'), context);
    expect(result.statusCode).toBe(404);
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('apiBaseUrl', () => {
  const event = (path: string, contextPath: string, headers: Record<string, string> = {}) =>
    ({
      path,
      headers,
      requestContext: { domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', path: contextPath },
    }) as unknown as ParsedEvent;

  it('is the execute-api domain with the stage, over https', () => {
    expect(apiBaseUrl(event('/links', '/prod/links'))).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
  });

  it('is the bare domain when the API is served at its root, over http only when the gateway says so', () => {
    expect(apiBaseUrl(event('/links', '/links', { 'x-forwarded-proto': 'http' }))).toBe(
      'http://abc123.execute-api.eu-west-1.amazonaws.com',
    );
  });
});

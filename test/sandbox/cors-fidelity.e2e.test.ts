/**
 * One CORS, deployed and local (issue 23, item 3): with the same allowed origin, the
 * sandbox's preflights and response headers are exactly what the synthesised template
 * configures, for the API (API Gateway's CORS method on every resource, its gateway
 * responses) and for the file bucket (its CorsConfiguration): the same methods, exposed
 * headers and max age, and nothing granted to any other origin.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_CORS } from '../../lambda/contract/cors';
import { ROUTES } from '../../lambda/contract/routes';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { synthesiseTvm, type TemplateJson } from '../stack/synth';
import { register, s3ClientFor, type VendResponse } from '../support/e2e';

// CDK's CloudFormation schema validation is slow to start and checked in tvm-stack.test.ts.
process.env.CDK_VALIDATION = 'false';

/** The one browser origin both the stack and the sandbox are configured with. */
const ORIGIN = 'https://files.example.com';
const STRANGER = 'https://evil.example';
const PASSWORD = 'correct horse battery staple';

let template: TemplateJson;
let sandbox: Sandbox;
let dataDir: string;
let alice: VendResponse;
const previousOrigins = process.env.ALLOWED_ORIGINS;

beforeAll(async () => {
  template = synthesiseTvm({ settings: { allowedOrigins: [ORIGIN] }, bundle: false }).json;
  process.env.ALLOWED_ORIGINS = ORIGIN;
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-cors-'));
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10 });
  alice = await register(sandbox.apiUrl, 'alice', PASSWORD);
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  if (previousOrigins === undefined) delete process.env.ALLOWED_ORIGINS;
  else process.env.ALLOWED_ORIGINS = previousOrigins;
  rmSync(dataDir, { recursive: true, force: true });
});

/** The resources of one type in the template. */
function resourcesOf(type: string): Record<string, unknown>[] {
  return Object.values(template.Resources)
    .filter((resource) => resource.Type === type)
    .map((resource) => resource.Properties ?? {});
}

/** A template header value (`'value'`, a static mapping expression) as it reaches the client. */
const unquoted = (value: unknown): string => String(value).replace(/^'(.*)'$/, '$1');

/** The headers a prefix of a response-parameter map sets, lower-cased, unquoted. */
function templateHeaders(parameters: Record<string, unknown>, prefix: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parameters).map(([name, value]) => [name.slice(prefix.length).toLowerCase(), unquoted(value)]),
  );
}

/** The CORS headers of an answer (Access-Control-* and Vary), lower-cased. */
function corsHeadersOf(response: Response): Record<string, string> {
  return Object.fromEntries(
    [...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'),
  );
}

/** A route's path with its parameters filled in. */
const concrete = (path: string): string => path.replace(/\{[^}]+\}/g, 'example');

describe('the API', () => {
  /** The CORS method's answer, as every resource's OPTIONS mock integration configures it. */
  function deployedPreflight(): { status: number; headers: Record<string, string> } {
    const answers = resourcesOf('AWS::ApiGateway::Method')
      .filter((method) => method.HttpMethod === 'OPTIONS')
      .map(
        (method) =>
          (
            method.Integration as {
              IntegrationResponses: { StatusCode: string; ResponseParameters: Record<string, unknown> }[];
            }
          ).IntegrationResponses[0],
      );
    expect(answers.length).toBeGreaterThan(0);
    const distinct = new Set(answers.map((answer) => JSON.stringify(answer)));
    expect(distinct.size).toBe(1);
    const [answer] = answers;
    if (!answer) throw new Error('no CORS method in the template');
    return {
      status: Number(answer.StatusCode),
      headers: templateHeaders(answer.ResponseParameters, 'method.response.header.'),
    };
  }

  test("every route's preflight in the sandbox answers exactly the template's CORS method", async () => {
    const deployed = deployedPreflight();
    expect(deployed.headers['access-control-allow-origin']).toBe(ORIGIN);
    for (const route of ROUTES) {
      const response = await fetch(`${sandbox.apiUrl}${concrete(route.path)}`, {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': route.method,
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
      expect({ route: route.name, status: response.status, headers: corsHeadersOf(response) }).toEqual({
        route: route.name,
        ...deployed,
      });
    }
  });

  test('the declared methods cover every route, so the preflight of a new method cannot be forgotten', () => {
    for (const route of ROUTES) expect(API_CORS.allowMethods).toContain(route.method);
  });

  test('a preflight from another origin is granted nothing', async () => {
    const response = await fetch(`${sandbox.apiUrl}/login`, {
      method: 'OPTIONS',
      headers: { Origin: STRANGER, 'Access-Control-Request-Method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  test("a body the model refuses carries the template's gateway-response CORS header", async () => {
    const invalidBody = resourcesOf('AWS::ApiGateway::GatewayResponse').find(
      (response) => response.ResponseType === 'BAD_REQUEST_BODY',
    );
    const deployed = templateHeaders(
      (invalidBody?.ResponseParameters ?? {}) as Record<string, unknown>,
      'gatewayresponse.header.',
    );
    const response = await fetch(`${sandbox.apiUrl}/register`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 42 }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('access-control-allow-origin')).toBe(deployed['access-control-allow-origin']);
    expect(deployed['access-control-allow-origin']).toBe(ORIGIN);
  });

  test("the functions' answers expose the headers the template's CORS method exposes", async () => {
    const response = await fetch(`${sandbox.apiUrl}/login`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('access-control-expose-headers')).toBe(
      deployedPreflight().headers['access-control-expose-headers'],
    );
  });
});

describe('the file bucket', () => {
  interface CorsRule {
    readonly AllowedHeaders: string[];
    readonly AllowedMethods: string[];
    readonly AllowedOrigins: string[];
    readonly ExposedHeaders: string[];
    readonly MaxAge: number;
  }

  /** The one CORS rule of the file bucket in the template. */
  function deployedRule(): CorsRule {
    const rules = resourcesOf('AWS::S3::Bucket').flatMap(
      (bucket) => (bucket.CorsConfiguration as { CorsRules: CorsRule[] } | undefined)?.CorsRules ?? [],
    );
    expect(rules).toHaveLength(1);
    const [rule] = rules;
    if (!rule) throw new Error('no CORS rule in the template');
    return rule;
  }

  const objectUrl = () => `${sandbox.s3Url}/${alice.storage.bucket}/${alice.storage.prefix}cors.txt`;
  const list = (header: string | null) =>
    (header ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);

  test("the gate's preflight answers the rule's origin, methods, exposed headers and max age", async () => {
    const rule = deployedRule();
    expect(rule.AllowedOrigins).toEqual([ORIGIN]);
    expect(rule.AllowedHeaders).toEqual(['*']);
    for (const method of rule.AllowedMethods) {
      const requested = 'authorization,content-type,x-amz-content-sha256,x-amz-date,x-amz-security-token';
      const response = await fetch(objectUrl(), {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': method,
          'Access-Control-Request-Headers': requested,
        },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(list(response.headers.get('access-control-allow-methods'))).toEqual(rule.AllowedMethods);
      // AllowedHeaders '*': whatever the browser asks for is allowed, as S3 echoes it.
      expect(response.headers.get('access-control-allow-headers')).toBe(requested);
      expect(list(response.headers.get('access-control-expose-headers'))).toEqual(rule.ExposedHeaders);
      expect(response.headers.get('access-control-max-age')).toBe(String(rule.MaxAge));
    }
  });

  test("a preflight the rule does not match (another origin, another method) is S3's 403", async () => {
    const stranger = await fetch(objectUrl(), {
      method: 'OPTIONS',
      headers: { Origin: STRANGER, 'Access-Control-Request-Method': 'GET' },
    });
    const patch = await fetch(objectUrl(), {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'PATCH' },
    });
    for (const response of [stranger, patch]) {
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>AccessForbidden</Code>');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  test("a GET from the origin exposes exactly the rule's headers; from another origin, none", async () => {
    const rule = deployedRule();
    const client = s3ClientFor(alice);
    await client.send(
      new PutObjectCommand({ Bucket: alice.storage.bucket, Key: `${alice.storage.prefix}cors.txt`, Body: 'hello' }),
    );
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: alice.storage.bucket, Key: `${alice.storage.prefix}cors.txt` }),
      { expiresIn: 300 },
    );
    const fromOrigin = await fetch(url, { headers: { Origin: ORIGIN } });
    expect(fromOrigin.status).toBe(200);
    expect(await fromOrigin.text()).toBe('hello');
    expect(fromOrigin.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(list(fromOrigin.headers.get('access-control-expose-headers'))).toEqual(rule.ExposedHeaders);
    expect(list(fromOrigin.headers.get('access-control-allow-methods'))).toEqual(rule.AllowedMethods);
    expect(fromOrigin.headers.get('access-control-max-age')).toBe(String(rule.MaxAge));
    const fromStranger = await fetch(url, { headers: { Origin: STRANGER } });
    expect(fromStranger.status).toBe(200);
    expect(corsHeadersOf(fromStranger)).toEqual({});
    client.destroy();
  });
});

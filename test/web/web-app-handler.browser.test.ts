import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH } from '../../lambda/contract/limits';
import { DEFAULT_SETTINGS } from '../../lambda/platform/settings';
import { createWebAppHandler } from '../../web/serve';

let server: Server;
let baseUrl: string;
let buildMs: number;

beforeAll(async () => {
  const handler = await createWebAppHandler({ apiUrl: 'https://api.example.com/prod' });
  buildMs = handler.buildMs;
  server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) response.writeHead(404).end('not the web app');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('createWebAppHandler', () => {
  it('builds the app in memory in well under the time a sandbox start can spare', () => {
    expect(buildMs).toBeLessThan(10_000);
  });

  it('states the username and password limits the TVM checks, from lambda/contract/limits.ts', async () => {
    const page = await (await fetch(`${baseUrl}/`)).text();
    expect(page).toContain(`${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} characters.`);
    expect(page).toContain(`At least ${DEFAULT_SETTINGS.passwordMinCharacters} characters.`);
    expect(page).not.toMatch(/%[A-Z_]+%/);
  });

  it('serves the page at / with the API URL and a content security policy', async () => {
    const response = await fetch(`${baseUrl}/`);
    const html = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('<meta name="tvm-api-url" content="https://api.example.com/prod" />');
    expect(response.headers.get('content-security-policy')).toMatch(
      /default-src 'self'.*connect-src 'self' https:\/\/api\.example\.com http:\/\/127\.0\.0\.1:\* http:\/\/localhost:\*;/,
    );
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves one minified script that bundles the S3 client for the browser, and the stylesheet', async () => {
    const script = await fetch(`${baseUrl}/app.js`);
    const body = await script.text();
    const style = await fetch(`${baseUrl}/app.css`);

    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(body).toContain('ListObjectsV2');
    expect(body).not.toMatch(/require\("(node:)?(fs|http|crypto)"\)/);
    expect(body.length).toBeLessThan(600 * 1024);
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('leaves API paths and non-GET requests to the API', async () => {
    expect((await fetch(`${baseUrl}/token`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${baseUrl}/../local/main.ts`)).status).toBe(404);
  });

  it('answers HEAD with headers and no body', async () => {
    const response = await fetch(`${baseUrl}/app.js`, { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(await response.text()).toBe('');
  });
});

/**
 * Serves the web app from the local sandbox: `startSandbox({ staticHandler: await
 * createWebAppHandler() })`. The app is built once, in memory, when the handler is created.
 * Imports nothing of local/ (bin/sandbox.ts hands the handler to the sandbox).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildWebApp, providersAttribute, type BuildWebAppOptions } from './build';
import { contentSecurityPolicy } from './csp';
import { webProvidersFrom } from './oidc-providers';

/** A provider as the TVM's `oidcProviders` setting holds it (lambda/platform/settings.ts). */
type ProviderSetting = { readonly name: string; readonly issuer: string; readonly audiences: readonly string[] };

/** Answers a request if it is for the web app; resolves false to let the API handle it. */
export type StaticHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/** Options of {@link createWebAppHandler}. */
export interface WebAppHandlerOptions extends Omit<BuildWebAppOptions, 'oidcProviders'> {
  /**
   * The S3 endpoint the page talks to directly, the only origin besides the API that CSP
   * `connect-src` allows: a URL, or a function read per request (the sandbox knows its S3
   * port only once started). Default: any loopback port.
   */
  readonly s3Endpoint?: string | (() => string | undefined);
  /**
   * The TVM's sign-in providers (its `oidcProviders` setting), offered on the page as "Sign in
   * with <name>" with the first audience as the page's client id, and allowed in CSP
   * `connect-src`: a list, or a function read per request (the sandbox's dev IdP has a port only
   * once started). Default: none.
   */
  readonly oidcProviders?: readonly ProviderSetting[] | (() => readonly ProviderSetting[] | undefined);
}

/** The placeholder web/index.html holds until the page is served with its providers. */
const PROVIDERS_PLACEHOLDER = Buffer.from('%TVM_OIDC_PROVIDERS%');

/** The same-origin page and assets; `/index.html` is an alias of `/`. */
const PATHS: Readonly<Record<string, string>> = {
  '/': '/',
  '/index.html': '/',
  '/app.js': '/app.js',
  '/app.css': '/app.css',
};

/**
 * Builds the app and returns the sandbox's static handler. It serves `GET`/`HEAD` of `/`,
 * `/index.html`, `/app.js` and `/app.css`, and leaves every other request to the API.
 */
export async function createWebAppHandler(
  options: WebAppHandlerOptions = {},
): Promise<StaticHandler & { readonly buildMs: number }> {
  // The providers are filled in per request, so the build leaves their placeholder.
  const { oidcProviders: _filledPerRequest, ...buildOptions } = options;
  const { assets, buildMs } = await buildWebApp(buildOptions);
  const providers = () =>
    webProvidersFrom(
      (typeof options.oidcProviders === 'function' ? options.oidcProviders() : options.oidcProviders) ?? [],
    );
  const policy = (oidcIssuers: readonly string[]) => {
    const s3Endpoint = typeof options.s3Endpoint === 'function' ? options.s3Endpoint() : options.s3Endpoint;
    return contentSecurityPolicy({
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      ...(s3Endpoint ? { s3Endpoint } : {}),
      oidcIssuers,
    });
  };
  const securityHeaders = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    // The bundle is rebuilt at every sandbox start; never serve a stale one.
    'cache-control': 'no-cache',
  };

  const handler = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    // The path as sent, query cut off and nothing decoded: only the exact asset paths match.
    const url = request.url ?? '/';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    const assetPath = PATHS[path];
    const asset = assetPath === undefined ? undefined : assets.get(assetPath);
    if (!asset) return false;
    const offered = providers();
    let body = asset.body;
    const at = assetPath === '/' ? body.indexOf(PROVIDERS_PLACEHOLDER) : -1;
    if (at >= 0) {
      const filled = Buffer.from(providersAttribute(offered));
      body = Buffer.concat([body.subarray(0, at), filled, body.subarray(at + PROVIDERS_PLACEHOLDER.length)]);
    }
    response.writeHead(200, {
      ...securityHeaders,
      'content-security-policy': policy(offered.map((provider) => provider.issuer)),
      'content-type': asset.contentType,
      'content-length': body.length,
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  };
  return Object.assign(handler, { buildMs });
}

/**
 * Builds the web app in memory with esbuild: `app.ts` (with the AWS SDK's browser build of
 * S3 and the client SDK) into one minified ES module, plus its stylesheet and page.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH } from '../lambda/contract/limits';
import { DEFAULT_SETTINGS, type RegistrationMode } from '../lambda/platform/settings';
import type { WebOidcProvider } from './oidc-providers';

/** One file of the built app. */
export interface WebAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The built app, keyed by URL path (`/`, `/app.js`, `/app.css`). */
export interface WebAppBuild {
  readonly assets: ReadonlyMap<string, WebAsset>;
  /** Wall-clock time of the build. */
  readonly buildMs: number;
}

/** Options of {@link buildWebApp}. */
export interface BuildWebAppOptions {
  /**
   * The TVM API URL the page calls, written into its `tvm-api-url` meta tag. Default: empty,
   * which makes the page call its own origin (the sandbox serves both).
   */
  readonly apiUrl?: string;
  /** Minify the script and stylesheet. Default true. */
  readonly minify?: boolean;
  /** The shortest password the TVM accepts, shown in the page's hint. Default: the setting's default. */
  readonly passwordMinCharacters?: number;
  /**
   * The sign-in providers the page offers, written into its `tvm-oidc-providers` meta tag.
   * Default: the placeholder is left for the server to fill per request (web/serve.ts); a page
   * served with it unfilled offers none.
   */
  readonly oidcProviders?: readonly WebOidcProvider[];
  /**
   * Who may sign up (the TVM's `registration` setting), written into the page's
   * `tvm-registration` meta tag: the page shows the invite field only for `invite` and no
   * sign-up for `closed`. Default: the setting's default.
   */
  readonly registration?: RegistrationMode;
  /**
   * Whether the TVM's passkey routes are on (its `passkeys` setting), written into the page's
   * `tvm-passkeys` meta tag; with `false` the page hides every passkey control. Default true.
   */
  readonly passkeys?: boolean;
}

/** The `tvm-oidc-providers` meta tag's content for `providers`: JSON, escaped for an attribute. */
export function providersAttribute(providers: readonly WebOidcProvider[]): string {
  return escapeAttribute(JSON.stringify(providers));
}

const WEB_DIR = __dirname;

/**
 * lib-storage pins the `buffer` polyfill 5.6, whose Buffer.concat copies a Uint8Array byte by
 * byte in JavaScript: 7 MiB per part blocked the page for 100-300 ms. Version 6 copies with
 * Uint8Array.set. The bundle takes the repository's buffer 6 for every import of `buffer`.
 */
const fastBufferPolyfill: Plugin = {
  name: 'fast-buffer-polyfill',
  setup(builder) {
    const buffer6 = require.resolve('buffer/', { paths: [WEB_DIR] });
    builder.onResolve({ filter: /^buffer\/?$/ }, () => ({ path: buffer6 }));
  },
};

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Bundles the app and returns its files, nothing written to disk. */
export async function buildWebApp(options: BuildWebAppOptions = {}): Promise<WebAppBuild> {
  const started = performance.now();
  const [result, html] = await Promise.all([
    build({
      entryPoints: { app: join(WEB_DIR, 'app.ts'), style: join(WEB_DIR, 'app.css') },
      outdir: 'out',
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      minify: options.minify ?? true,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [fastBufferPolyfill],
    }),
    readFile(join(WEB_DIR, 'index.html'), 'utf8'),
  ]);
  const assets = new Map<string, WebAsset>();
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.js'))
      assets.set('/app.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(file.contents) });
    if (file.path.endsWith('.css'))
      assets.set('/app.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(file.contents) });
  }
  // The page states the limits the TVM checks, from the one place they are written.
  const values: Record<string, string> = {
    TVM_API_URL: escapeAttribute(options.apiUrl ?? ''),
    TVM_PASSKEYS: options.passkeys === false ? 'off' : 'on',
    USERNAME_MIN_LENGTH: String(USERNAME_MIN_LENGTH),
    USERNAME_MAX_LENGTH: String(USERNAME_MAX_LENGTH),
    PASSWORD_MIN_CHARACTERS: String(options.passwordMinCharacters ?? DEFAULT_SETTINGS.passwordMinCharacters),
    ...(options.oidcProviders ? { TVM_OIDC_PROVIDERS: providersAttribute(options.oidcProviders) } : {}),
    TVM_REGISTRATION: options.registration ?? DEFAULT_SETTINGS.registration,
  };
  const page = Buffer.from(html.replace(/%([A-Z_]+)%/g, (whole, name: string) => values[name] ?? whole));
  assets.set('/', { contentType: 'text/html; charset=utf-8', body: page });
  return { assets, buildMs: performance.now() - started };
}

/**
 * The sandbox's command line: runs it in the foreground until Ctrl-C or SIGTERM. `npm start`
 * runs it through bin/sandbox.ts, which hands it the web app (local/ imports nothing of web/);
 * run directly (`tsx local/main.ts`), it serves the API, S3, STS, IAM and DynamoDB without the page.
 *
 * Environment: PORT (API, default 3000), S3_PORT (S3 endpoint, default 3001), TVM_DATA_DIR
 * (default `.tvm-local/`), TVM_LOG (`0` silences request logs), the functions' settings of
 * lambda/platform/settings.ts by their variables (BCRYPT_COST, SESSION_DAYS, ...),
 * TVM_FUNCTION_THREADS (function instances running the handlers, 1-8, default 2),
 * STS_ASSUME_ROLE_RATE (the local STS's account-wide AssumeRole calls a second, default 600), OIDC_PORT (the
 * dev identity provider, default 3002; OIDC_PROVIDERS adds providers beside its `dev`),
 * TVM_THROTTLES (`off` turns off the per-route throttles, for benchmarks of the handlers).
 */
import type { StaticHandler } from './api-gateway/api-server';
import { readRuntimeSettings } from '../lambda/platform/config';
import type { OidcProviderSetting, RegistrationMode } from '../lambda/platform/settings';
import { DEV_IDP_DEFAULT_PORT } from './oidc/server';
import { SandboxPortInUseError, startSandbox } from './sandbox';

/**
 * Builds the page the sandbox serves beside its API (web/serve's createWebAppHandler fits).
 * The seam between local/ and web/: the caller that knows both passes it in.
 */
export type WebAppFactory = (options: {
  /** The S3 gate's URL, read per request (known once the sandbox has started). */
  readonly s3Endpoint: () => string | undefined;
  /** The shortest password the functions accept, for the page's hint. */
  readonly passwordMinCharacters: number;
  /** Who may sign up (the functions' `registration` setting), for the page's sign-up form. */
  readonly registration: RegistrationMode;
  /** Whether the functions' passkey routes are on (`PASSKEYS`); the page hides passkeys when not. */
  readonly passkeys: boolean;
  /**
   * The OpenID Connect providers the functions accept (`dev` first; a provider's client id is
   * its first audience), read per request (known once the sandbox has started).
   */
  readonly oidcProviders: () => readonly OidcProviderSetting[] | undefined;
}) => Promise<StaticHandler>;

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    console.error(`${name} must be a port number from 0 to 65535, got "${raw}".`);
    process.exit(2);
  }
  return port;
}

/** An optional whole-number setting within [min, max]; anything else exits with a one-line error. */
function wholeNumberFrom(name: string, min: number, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    console.error(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
    process.exit(2);
  }
  return value;
}

/** Whether TVM_THROTTLES turns the per-route throttles off; anything but `on`, `off` or unset exits with a one-line error. */
function throttlesOff(): boolean {
  const raw = process.env.TVM_THROTTLES?.trim();
  if (raw === undefined || raw === '' || raw === 'on') return false;
  if (raw === 'off') return true;
  console.error(`TVM_THROTTLES must be on or off, got "${raw}".`);
  process.exit(2);
}

/** Runs the sandbox from the environment's settings, serving the page `webApp` builds if given. */
export async function runSandboxCli(webApp?: WebAppFactory): Promise<void> {
  const port = portFrom('PORT', 3000);
  const s3Port = portFrom('S3_PORT', 3001);
  const oidcPort = portFrom('OIDC_PORT', DEV_IDP_DEFAULT_PORT);
  const dataDir = process.env.TVM_DATA_DIR?.trim() || '.tvm-local';
  // The functions' settings (BCRYPT_COST, SESSION_DAYS, ALLOWED_ORIGINS, ...) are checked by
  // the same table the stack uses, so a bad one stops here with one line, not in a thread.
  let runtimeSettings: ReturnType<typeof readRuntimeSettings>;
  try {
    runtimeSettings = readRuntimeSettings(process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  const functionThreads = wholeNumberFrom('TVM_FUNCTION_THREADS', 1, 8);
  const accessLogRollSeconds = wholeNumberFrom('ACCESS_LOG_ROLL_SECONDS', 1, 3600);
  const noThrottles = throttlesOff();
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
  // The page may talk to this sandbox's S3 gate and nowhere else (CSP connect-src).
  const staticHandler = webApp
    ? await webApp({
        s3Endpoint: () => sandbox?.s3Url,
        passwordMinCharacters: runtimeSettings.passwordMinCharacters,
        registration: runtimeSettings.registration,
        passkeys: runtimeSettings.passkeys,
        oidcProviders: () => sandbox?.oidcProviders,
      })
    : undefined;
  try {
    sandbox = await startSandbox({
      port,
      s3Port,
      oidcPort,
      dataDir,
      log: process.env.TVM_LOG !== '0',
      ...(staticHandler ? { staticHandler } : {}),
      ...(functionThreads !== undefined ? { functionThreads } : {}),
      ...(accessLogRollSeconds !== undefined ? { accessLogRollMs: accessLogRollSeconds * 1000 } : {}),
      ...(noThrottles ? { routeThrottles: false } : {}),
    });
  } catch (error) {
    console.error(
      error instanceof SandboxPortInUseError
        ? error.message
        : `The sandbox could not start: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }

  const { apiUrl, webAppUrl, s3Url, bucket, region, devIdp, oidcProviders } = sandbox;
  console.log(
    [
      '',
      `TVM sandbox running (loopback only, Node.js ${process.version}). Ctrl-C stops it.`,
      staticHandler
        ? `  Web app     ${webAppUrl}  (the Personal File Store; at localhost, since passkeys refuse an IP address)`
        : '  Web app     not served (npm start serves it: bin/sandbox.ts)',
      `  API         ${apiUrl}`,
      `  S3 endpoint ${s3Url}  (bucket ${bucket}, region ${region}, path-style)`,
      `  Dev IdP     ${devIdp.issuer}  (OpenID Connect provider "dev", client id ${devIdp.clients[0]?.clientId}; POST ${devIdp.issuer}/rotate rotates its keys)`,
      `  Providers   ${oidcProviders.map((provider) => `${provider.name} (${provider.issuer})`).join(', ')}`,
      `  data        ${dataDir}`,
      '',
      'Quickstart (bash or zsh; register once, then log in and vend fresh credentials):',
      `  curl -s -X POST ${apiUrl}/register -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery staple"}'`,
      `  TOKEN=$(curl -s -X POST ${apiUrl}/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery staple"}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).session.token')`,
      `  curl -s -X POST ${apiUrl}/token -H "Authorization: Bearer $TOKEN"`,
      '',
      `Then use the credentials with the AWS CLI or SDK: endpoint ${s3Url}, path-style (docs/testing.md, "The local sandbox").`,
      '',
    ].join('\n'),
  );

  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // Ctrl-C reaches this process twice: from the terminal (the whole process group) and
      // relayed by npm/tsx. Only a later, deliberate second press forces the exit.
      if (Date.now() - stoppingSince < 2000) return;
      console.error(`Second ${signal}: exiting now.`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping the sandbox...`);
    // A hung close must not keep the terminal: give up after ten seconds.
    const deadline = setTimeout(() => {
      console.error('The sandbox did not stop within 10 s; exiting.');
      process.exit(1);
    }, 10_000);
    deadline.unref();
    sandbox.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('Error while stopping:', error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) void runSandboxCli();

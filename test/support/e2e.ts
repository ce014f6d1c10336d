/**
 * Shared pieces of the end-to-end tests: talking to the sandbox API over HTTP and building
 * S3 clients from vended credentials the way an app would.
 */
import { S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../local/sandbox';

/** What register and login return (the API contract). */
export interface VendResponse {
  readonly username: string;
  readonly session: { readonly token: string; readonly expiresAt: string };
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
    readonly expiration: string;
  };
  readonly storage: {
    readonly bucket: string;
    readonly prefix: string;
    readonly region: string;
    readonly endpoint?: string;
  };
}

/** POSTs JSON to the API and returns status and parsed body. */
export async function postJson(
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Registers a user and returns the vend response; fails the test on anything but 201. */
export async function register(apiUrl: string, username: string, password: string): Promise<VendResponse> {
  const { status, body } = await postJson(`${apiUrl}/register`, { username, password });
  if (status !== 201) throw new Error(`register ${username} answered ${status}: ${JSON.stringify(body)}`);
  return body as VendResponse;
}

/** Logs a user in and returns the vend response; fails the test on anything but 200. */
export async function login(apiUrl: string, username: string, password: string): Promise<VendResponse> {
  const { status, body } = await postJson(`${apiUrl}/login`, { username, password });
  if (status !== 200) throw new Error(`login ${username} answered ${status}: ${JSON.stringify(body)}`);
  return body as VendResponse;
}

/** An S3 client for vended credentials, configured as the README tells apps to. */
export function s3ClientFor(
  vended: Pick<VendResponse, 'credentials' | 'storage'>,
  extra: Partial<S3ClientConfig> = {},
): S3Client {
  const endpoint = vended.storage.endpoint;
  if (!endpoint) throw new Error('the sandbox must report storage.endpoint');
  return new S3Client({
    region: vended.storage.region,
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    credentials: {
      accessKeyId: vended.credentials.accessKeyId,
      secretAccessKey: vended.credentials.secretAccessKey,
      sessionToken: vended.credentials.sessionToken,
    },
    ...extra,
  });
}

/**
 * The S3 error code a promise rejects with, or `resolved` if it did not reject. HEAD
 * answers have no body, so S3 (and the sandbox) can only say 403: that is reported as
 * `HEAD 403`.
 */
export async function s3ErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (error instanceof S3ServiceException) {
      return error.name === 'Unknown' && error.$metadata.httpStatusCode !== undefined
        ? `HEAD ${error.$metadata.httpStatusCode}`
        : error.name;
    }
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  }
}

export { freePort } from '../../scripts/dev/free-port';

/** Whether something accepts connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** The value of `<Code>` in an S3 XML error body. */
export function xmlErrorCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

/**
 * Starts a sandbox (bcrypt cost 10) in a fresh data folder before the tests of the calling
 * file and removes both after them. TVM_DATA_DIR points at the folder, so `tvm-admin --local`
 * reaches this sandbox. `options` add to or override those. Returns a getter for the running sandbox.
 *
 * The routes' throttles are off unless `options.routeThrottles` turns them on: a test file
 * registers and calls far faster than a deployment's users would (test/api/api-throttle.e2e.test.ts
 * proves the throttles themselves).
 */
export function sandboxForThisFile(prefix: string, options: SandboxOptions = {}): () => Sandbox {
  let sandbox: Sandbox | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), prefix));
    process.env.TVM_DATA_DIR = dataDir;
    sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10, routeThrottles: false, ...options });
  }, 60_000);
  afterAll(async () => {
    await sandbox?.stop();
    delete process.env.TVM_DATA_DIR;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!sandbox) throw new Error('the sandbox is not running');
    return sandbox;
  };
}

/** What one in-process tvm-admin run printed. */
export interface AdminRun {
  readonly code: number;
  readonly out: string;
  /** Everything on stderr, the "acting on" line included. */
  readonly err: string;
  /** stderr without the "acting on" line: progress and errors. */
  readonly errors: string[];
}

/**
 * Runs `tvm-admin --local` in-process against the sandbox in TVM_DATA_DIR. `cutOffMarginMs`
 * shortens the cut-off margin (the functions' timeout plus a second by default) so a test
 * need not wait for it; the sandbox's /token calls take milliseconds.
 */
export async function runAdmin(args: readonly string[], options: { cutOffMarginMs?: number } = {}): Promise<AdminRun> {
  const { runCli } = await import('../../admin/cli');
  const { localTarget } = await import('../../admin/target');
  let out = '';
  let err = '';
  const code = await runCli(
    ['--local', ...args],
    { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) },
    async () => ({
      ...localTarget(),
      ...(options.cutOffMarginMs !== undefined ? { cutOffMarginMs: options.cutOffMarginMs } : {}),
    }),
  );
  const errors = err.split('\n').filter((line) => line !== '' && !line.startsWith('tvm-admin: acting on '));
  return { code, out, err, errors };
}

/** Resolves once this machine's clock has passed `iso` (a cut-off instant tvm-admin printed). */
export async function passInstant(iso: string): Promise<void> {
  const wait = Date.parse(iso) - Date.now() + 50;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

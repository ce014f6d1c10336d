/**
 * `npm start` as a user runs it: the sandbox and its web app in their own process (`npx tsx bin/sandbox.ts`),
 * stopped the way a terminal's Ctrl-C stops it (SIGINT to the whole process group).
 * Proves that data survives a restart, that nothing is left running and that a busy port
 * gives a one-line error.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, isListening, login, register, s3ClientFor, type VendResponse } from '../support/e2e';
import { loginOidc, signInAtIdp, tvmNonce } from '../support/oidc';

const REPOSITORY_ROOT = resolve(__dirname, '../..');
const PASSWORD = 'correct horse battery staple';

interface RunningSandbox {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  readonly s3Url: string;
  /** The dev identity provider's issuer. */
  readonly idpUrl: string;
  readonly ports: readonly number[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Spawns the sandbox in a new process group and waits for its banner. */
function spawnSandbox(env: Record<string, string>): {
  child: ChildProcess;
  exited: RunningSandbox['exited'];
  output: () => string;
} {
  const child = spawn('npx', ['tsx', 'bin/sandbox.ts'], {
    cwd: REPOSITORY_ROOT,
    // The dev IdP on any free port unless a test names one (its default, 3002, is shared by every run).
    env: { ...process.env, BCRYPT_COST: '10', TVM_LOG: '0', OIDC_PORT: '0', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close' waits for the output pipes too, which the sandbox (a grandchild) shares.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  );
  return { child, exited, output: () => output };
}

async function startSandboxProcess(
  dataDir: string,
  oidcPort?: number,
  env: Record<string, string> = {},
): Promise<RunningSandbox> {
  const [port, s3Port, idpPort] = [await freePort(), await freePort(), oidcPort ?? (await freePort())];
  const spawned = spawnSandbox({
    PORT: String(port),
    S3_PORT: String(s3Port),
    OIDC_PORT: String(idpPort),
    TVM_DATA_DIR: dataDir,
    ...env,
  });
  const deadline = Date.now() + 45_000;
  while (!spawned.output().includes('TVM sandbox running')) {
    if (spawned.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the sandbox did not start:\n${spawned.output()}`);
    await new Promise((wait) => setTimeout(wait, 100));
  }
  return {
    ...spawned,
    apiUrl: `http://127.0.0.1:${port}`,
    s3Url: `http://127.0.0.1:${s3Port}`,
    idpUrl: `http://127.0.0.1:${idpPort}`,
    ports: [port, s3Port, idpPort],
  };
}

/** Whether any process of the group is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends a signal to the whole process group (Ctrl-C in a terminal does this with SIGINT)
 * and waits until no process of the group is left. npx itself may die of the signal; the
 * sandbox must shut down and say so.
 */
async function signalGroupAndWait(sandbox: RunningSandbox, signal: NodeJS.Signals): Promise<void> {
  const pid = sandbox.child.pid as number;
  process.kill(-pid, signal);
  await sandbox.exited;
  const deadline = Date.now() + 15_000;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 100));
}

/** Linux: the listening TCP sockets (local address as `ip:port`) of every process in a process group. */
function listeningAddressesOfGroup(pgid: number): string[] {
  const inodes = new Set<string>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      // Field 5 of /proc/<pid>/stat is the process group; the command name (field 2) may contain spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode) inodes.add(inode);
      }
    } catch {
      // The process ended while being read.
    }
  }
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (state !== '0A' || !local || !inode || !inodes.has(inode)) continue;
      const [hexAddress = '', hexPort = ''] = local.split(':');
      const address =
        hexAddress.length === 8
          ? (hexAddress.match(/../g) ?? [])
              .reverse()
              .map((byte) => Number.parseInt(byte, 16))
              .join('.')
          : `[ipv6 ${hexAddress}]`;
      addresses.push(`${address}:${Number.parseInt(hexPort, 16)}`);
    }
  }
  return addresses;
}

let dataDir: string;
const started: RunningSandbox[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-e2e-process-'));
});

afterAll(() => {
  // Only if a test failed half-way: never leave a sandbox behind.
  for (const sandbox of started)
    if (sandbox.child.pid && groupAlive(sandbox.child.pid)) process.kill(-sandbox.child.pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test('a restart keeps users, files, issued credentials and provider sign-ins; Ctrl-C leaves no process and no port behind', async () => {
  // OIDC_PORT stays the same across the restart, as its default does: the dev IdP's issuer, and the identities linked to it, with it.
  const idpPort = await freePort();
  // A provider of the user's own, configured beside the dev IdP.
  const acme = { name: 'acme', issuer: 'https://login.acme.example', audiences: ['acme-app'] };
  const first = await startSandboxProcess(dataDir, idpPort, { OIDC_PROVIDERS: JSON.stringify([acme]) });
  started.push(first);
  // The quickstart works exactly as printed.
  const quickstart = first
    .output()
    .split('\n')
    .filter((line) => line.startsWith('  curl ') || line.startsWith('  TOKEN='))
    .join('\n');
  expect(quickstart.split('\n')).toHaveLength(3);
  // curl -s prints no newline: the /token answer is the last JSON object of the output.
  const printed = execFileSync('bash', ['-c', quickstart], { encoding: 'utf8' });
  const vended = JSON.parse(printed.slice(printed.lastIndexOf('{"credentials"'))) as VendResponse;
  expect(vended.credentials.accessKeyId).toMatch(/^ASIA/);
  expect(vended.storage).toMatchObject({ bucket: 'tvm-files', prefix: 'alice/', endpoint: first.s3Url });
  // API, S3 gate, s3rver, local STS and dynalite: every one on loopback, none anywhere else (read from Linux's /proc).
  const listening = listeningAddressesOfGroup(first.child.pid as number);
  expect(listening.length).toBeGreaterThanOrEqual(5);
  expect(listening.filter((address) => !/^127\.0\.0\.1:\d+$/.test(address))).toEqual([]);
  // The web app is served at the API's address, as the README says.
  const page = await fetch(`${first.apiUrl}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await page.text()).toContain('<script');
  const carol: VendResponse = await register(first.apiUrl, 'carol', PASSWORD);
  expect(carol.storage.endpoint).toBe(first.s3Url);
  const s3 = s3ClientFor(carol);
  await s3.send(new PutObjectCommand({ Bucket: carol.storage.bucket, Key: 'carol/diary.txt', Body: 'dear diary' }));
  s3.destroy();
  // "Sign in with dev": the banner names the dev IdP, and its sign-in page and token endpoint give a token the TVM takes.
  expect(first.output()).toContain(`  Dev IdP     ${first.idpUrl}  (OpenID Connect provider "dev", client id tvm-web;`);
  const devIdp = { issuer: first.idpUrl, clients: [{ clientId: 'tvm-web', redirectOrigins: [first.apiUrl] }] };
  const signInWithDev = async (username?: string) =>
    loginOidc(first.apiUrl, {
      provider: 'dev',
      idToken: await signInAtIdp(devIdp, { subject: 'dev-dana', nonce: await tvmNonce(first.apiUrl) }),
      ...(username !== undefined ? { username } : {}),
    });
  expect((await signInWithDev('dana')).status).toBe(201);
  expect(first.output()).toContain(`  Providers   dev (${first.idpUrl}), acme (https://login.acme.example)`);
  // The functions know acme: a token for it is checked (and refused), not an unknown provider's 400.
  expect((await loginOidc(first.apiUrl, { provider: 'acme', idToken: 'not.a.token' })).status).toBe(401);
  expect((await loginOidc(first.apiUrl, { provider: 'nobody', idToken: 'not.a.token' })).status).toBe(400);

  await signalGroupAndWait(first, 'SIGINT');
  expect(groupAlive(first.child.pid as number)).toBe(false);
  expect(first.output()).toContain('Stopped.');
  for (const port of first.ports) expect(await isListening(port)).toBe(false);
  // The sandbox runs on the Node.js major the stack deploys, with no SDK warning about an old Node.
  expect(first.output()).toMatch(/Node\.js v24\.\d+\.\d+/);
  expect(first.output()).not.toContain('NodeVersionSupportWarning');

  const second = await startSandboxProcess(dataDir, idpPort);
  started.push(second);
  const danaAgain = await loginOidc(second.apiUrl, {
    provider: 'dev',
    idToken: await signInAtIdp(
      { issuer: second.idpUrl, clients: [{ clientId: 'tvm-web', redirectOrigins: [second.apiUrl] }] },
      { subject: 'dev-dana', nonce: await tvmNonce(second.apiUrl) },
    ),
  });
  expect({ status: danaAgain.status, username: (danaAgain.body as VendResponse).username }).toEqual({
    status: 200,
    username: 'dana',
  });
  const again = await login(second.apiUrl, 'carol', PASSWORD);
  const s3Again = s3ClientFor(again);
  const diary = await s3Again.send(new GetObjectCommand({ Bucket: again.storage.bucket, Key: 'carol/diary.txt' }));
  expect(await diary.Body?.transformToString()).toBe('dear diary');
  s3Again.destroy();
  // Credentials vended before the restart stay valid until they expire, as in AWS.
  const oldCredentials = s3ClientFor({ ...carol, storage: { ...carol.storage, endpoint: second.s3Url } });
  await expect(
    oldCredentials.send(new GetObjectCommand({ Bucket: carol.storage.bucket, Key: 'carol/diary.txt' })),
  ).resolves.toBeDefined();
  oldCredentials.destroy();

  await signalGroupAndWait(second, 'SIGINT');
  expect(groupAlive(second.child.pid as number)).toBe(false);
  expect(second.output()).toContain('Stopped.');
  for (const port of second.ports) expect(await isListening(port)).toBe(false);
}, 120_000);

test('SIGTERM stops the sandbox cleanly too', async () => {
  const sandbox = await startSandboxProcess(dataDir);
  started.push(sandbox);
  await signalGroupAndWait(sandbox, 'SIGTERM');
  expect(groupAlive(sandbox.child.pid as number)).toBe(false);
  expect(sandbox.output()).toContain('SIGTERM: stopping the sandbox');
  expect(sandbox.output()).toContain('Stopped.');
  for (const port of sandbox.ports) expect(await isListening(port)).toBe(false);
}, 60_000);

test('a port already in use gives a one-line error and a non-zero exit', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
  const busy = (blocker.address() as { port: number }).port;
  try {
    const spawned = spawnSandbox({ PORT: String(busy), S3_PORT: String(await freePort()), TVM_DATA_DIR: dataDir });
    const exit = await spawned.exited;
    expect(exit.code).toBe(1);
    const errorLines = spawned
      .output()
      .split('\n')
      .filter((line) => line.includes(String(busy)));
    expect(errorLines).toEqual([
      `Port ${busy} on 127.0.0.1 (API) is already in use; stop what uses it or set PORT to another port.`,
    ]);
  } finally {
    await new Promise<void>((done) => blocker.close(() => done()));
  }
}, 60_000);

test('OIDC_PROVIDERS naming "dev", the dev IdP\'s own name, gives a one-line error and a non-zero exit', async () => {
  const spawned = spawnSandbox({
    PORT: String(await freePort()),
    S3_PORT: String(await freePort()),
    TVM_DATA_DIR: dataDir,
    OIDC_PROVIDERS: JSON.stringify([{ name: 'dev', issuer: 'https://accounts.example.com', audiences: ['x'] }]),
  });
  const exit = await spawned.exited;
  expect(exit.code).toBe(1);
  expect(
    spawned
      .output()
      .split('\n')
      .filter((line) => line.includes('OIDC_PROVIDERS')),
  ).toEqual([
    'The sandbox could not start: OIDC_PROVIDERS names a provider "dev": that name is the sandbox\'s own identity provider; choose another.',
  ]);
}, 60_000);

test.each([
  ['TVM_FUNCTION_THREADS', '0', 'TVM_FUNCTION_THREADS must be a whole number from 1 to 8, got "0".'],
  ['BCRYPT_COST', '9', 'BCRYPT_COST is invalid ("9"). It must be a whole number from 10 to 15.'],
  [
    'ALLOWED_ORIGINS',
    'http://evil.example',
    'ALLOWED_ORIGINS is invalid ("http://evil.example"). "http://evil.example" is not an origin: use https://host[:port] (lower case, no path or trailing slash); http only for localhost.',
  ],
])(
  'an invalid setting (%s=%s) gives a one-line error and exit 2, before anything starts',
  async (variable, value, message) => {
    const spawned = spawnSandbox({
      PORT: String(await freePort()),
      S3_PORT: String(await freePort()),
      TVM_DATA_DIR: dataDir,
      [variable]: value,
    });
    const exit = await spawned.exited;
    expect(exit.code).toBe(2);
    const errorLines = spawned
      .output()
      .split('\n')
      .filter((line) => line.includes(variable));
    expect(errorLines).toEqual([message]);
  },
  60_000,
);

/**
 * Every example under examples/ runs against a sandbox as a reader would run it, and every
 * example a document shows (a fenced block after `<!-- example: examples/<file> -->`) is that
 * file, word for word: the docs cannot drift from code that runs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startSandbox, type Sandbox } from '../../local/sandbox';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

let sandbox: Sandbox;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-examples-'));
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10 });
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Every Node.js on this machine: the project's pinned one (24, running jest) and any other
 * (the system's Node 20 here). The examples are plain ES modules with no loader, so each runs
 * as a reader on the oldest Node the client claims (`engines` in packages/client) would run it.
 */
const NODES = [process.execPath, '/usr/bin/node', '/usr/local/bin/node']
  .filter((node) => existsSync(node))
  .map((node) => ({ node, version: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() }))
  .filter((entry, index, all) => all.findIndex((other) => other.version === entry.version) === index);

/** Runs an example file with the sandbox's URL, as `bash file` or `node file` on each Node; resolves each run's stdout. */
async function runExample(file: string): Promise<string[]> {
  const path = join(ROOT, 'examples', file);
  const env = {
    ...process.env,
    TVM_API_URL: sandbox.apiUrl,
    PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
  };
  if (file.endsWith('.sh')) return [(await run('bash', [path], { cwd: ROOT, env, timeout: 60_000 })).stdout];
  const outputs: string[] = [];
  for (const { node } of NODES) outputs.push((await run(node, [path], { cwd: ROOT, env, timeout: 60_000 })).stdout);
  return outputs;
}

/** Each run's output meets `check`. */
async function eachRun(file: string, check: (out: string) => void): Promise<void> {
  const outputs = await runExample(file);
  expect(outputs.length).toBeGreaterThan(0);
  outputs.forEach(check);
}

/** Each `<!-- example: examples/x -->` marker in any page of docs/, with the fenced block after it. */
function documentedExamples(): Array<{ file: string; shown: string }> {
  const pages = readdirSync(join(ROOT, 'docs')).filter((file) => file.endsWith('.md'));
  return pages.flatMap((page) => examplesIn(readFileSync(join(ROOT, 'docs', page), 'utf8')));
}

function examplesIn(text: string): Array<{ file: string; shown: string }> {
  return [...text.matchAll(/<!-- example: examples\/([\w.-]+) -->\n```\w*\n([\s\S]*?)```\n/g)].map((match) => ({
    file: match[1] ?? '',
    shown: match[2] ?? '',
  }));
}

describe('examples', () => {
  it('run on the pinned Node.js and on every other Node.js this machine has, with no TypeScript loader', () => {
    expect(NODES.map((entry) => entry.version)).toContain(process.version);
    // The client claims Node 20 and later (packages/client/package.json): the examples use nothing newer.
    const claimed = (
      JSON.parse(readFileSync(join(ROOT, 'packages/client/package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    expect(claimed).toBe('>=20');
    for (const file of readdirSync(join(ROOT, 'examples')).filter((name) => name.endsWith('.mjs'))) {
      expect({ file, firstLine: readFileSync(join(ROOT, 'examples', file), 'utf8').split('\n')[0] }).toEqual({
        file,
        firstLine: '// @ts-check',
      });
    }
  });

  it('quickstart.sh registers alice (or logs her in) and prints her folder and when her credentials expire', async () => {
    await eachRun('quickstart.sh', (out) => expect(out).toMatch(/^alice\/ until \d{4}-\d\d-\d\dT/));
    // A second run meets the taken name and logs in instead.
    await eachRun('quickstart.sh', (out) => expect(out).toMatch(/^alice\/ until /));
  }, 60_000);

  it("credentials.mjs puts and lists a file with an ordinary S3Client on alice's credentials", async () => {
    await eachRun('credentials.mjs', (out) => {
      expect(out).toContain("[ 'alice/hello.txt' ]");
      expect(out).toMatch(/expires \d{4}-/);
    });
  }, 120_000);

  it('storage.mjs uploads in parts with progress, lists folders, downloads and deletes', async () => {
    await eachRun('storage.mjs', (out) => {
      expect(out).toContain(`${20 * 1024 * 1024} of ${20 * 1024 * 1024} bytes`);
      expect(out).toContain("folders [ 'notes/', 'videos/' ] files [ 'hello.txt' ]");
      expect(out).toContain("in notes/ [ 'notes/todo.txt (8 bytes)' ]");
      expect(out).toContain('todo.txt says buy milk');
      expect(out).toContain('clip.bin is gone: true');
    });
  }, 120_000);

  it('raw-credentials.mjs logs in with fetch and hands the credentials, expiration as a Date, to an S3Client', async () => {
    await eachRun('raw-credentials.mjs', (out) => expect(out).toContain("'alice/notes.txt'"));
  }, 120_000);

  it("offline-and-errors.mjs tells a wrong password apart and lists alice's folder", async () => {
    await eachRun('offline-and-errors.mjs', (out) => {
      expect(out).toContain('Wrong username or password: invalid_credentials');
      expect(out).toMatch(/alice has \d+ files at the top of her folder/);
    });
  }, 120_000);

  it('second-factor.mjs sets up an authenticator, then logs in with the password and a code, keeping the device token', async () => {
    await eachRun('second-factor.mjs', (out) => {
      expect(out).toContain('scan otpauth://totp/');
      expect(out).toContain('recovery codes to show once: 10');
      expect(out).toMatch(/second factor required: .*totp/);
      expect(out).toContain('signed in as carol');
      expect(out).toContain('device token kept: 43 characters');
      expect(out).toContain('authenticator set up: true');
    });
  }, 150_000);

  it('sharing.mjs shares a folder with bob read-only, bob reads it and cannot write, a link serves the file, and both revokes hold', async () => {
    await eachRun('sharing.mjs', (out) => {
      expect(out).toMatch(/shared photos\/ with bob until \d{4}-/);
      expect(out).toContain("bob sees [ 'cat.txt' ]");
      expect(out).toContain('cat.txt says a photo of a cat');
      expect(out).toContain('bob cannot write: ReadOnlyShareError');
      expect(out).toContain('the link serves: a photo of a cat');
      expect(out).toContain('revoked link answers 404');
      expect(out).toContain('after the revoke bob gets share_ended');
    });
  }, 150_000);

  it('every example file runs in a test above, and the docs show each one exactly as it is', () => {
    const files = readdirSync(join(ROOT, 'examples')).sort();
    expect(files).toEqual([
      'credentials.mjs',
      'offline-and-errors.mjs',
      'quickstart.sh',
      'raw-credentials.mjs',
      'second-factor.mjs',
      'sharing.mjs',
      'storage.mjs',
    ]);
    const shown = documentedExamples();
    expect(shown.map((example) => example.file).sort()).toEqual(expect.arrayContaining(files));
    for (const { file, shown: text } of shown) {
      expect({ file, text }).toEqual({ file, text: readFileSync(join(ROOT, 'examples', file), 'utf8') });
    }
  });
});

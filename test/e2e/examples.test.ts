/**
 * Every example under examples/ runs against a sandbox as a reader would run it, and every
 * example a document shows (a fenced block after `<!-- example: examples/<file> -->`) is that
 * file, word for word: the docs cannot drift from code that runs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** Runs an example file with the sandbox's URL, as `bash file` or `node --import tsx file`; resolves its stdout. */
async function runExample(file: string): Promise<string> {
  const path = join(ROOT, 'examples', file);
  const [command, args] = file.endsWith('.sh') ? ['bash', [path]] : [process.execPath, ['--import', 'tsx', path]];
  const { stdout } = await run(command, args, {
    cwd: ROOT,
    env: { ...process.env, TVM_API_URL: sandbox.apiUrl, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
    timeout: 60_000,
  });
  return stdout;
}

/** Each `<!-- example: examples/x -->` marker in any page of docs/, with the fenced block after it. */
function documentedExamples(): Array<{ file: string; shown: string }> {
  const pages = readdirSync(join(ROOT, 'docs')).filter((file) => file.endsWith('.md'));
  return pages.flatMap((page) => examplesIn(readFileSync(join(ROOT, 'docs', page), 'utf8')));
}

function examplesIn(text: string): Array<{ file: string; shown: string }> {
  return [...text.matchAll(/<!-- example: examples\/([\w.-]+) -->\n```\w*\n([\s\S]*?)```\n/g)].map((match) => ({ file: match[1] ?? '', shown: match[2] ?? '' }));
}

describe('examples', () => {
  it('quickstart.sh registers alice (or logs her in) and prints her folder and when her credentials expire', async () => {
    expect(await runExample('quickstart.sh')).toMatch(/^alice\/ until \d{4}-\d\d-\d\dT/);
    // A second run meets the taken name and logs in instead.
    expect(await runExample('quickstart.sh')).toMatch(/^alice\/ until /);
  }, 60_000);

  it('credentials.mts puts and lists a file with an ordinary S3Client on alice\'s credentials', async () => {
    const out = await runExample('credentials.mts');
    expect(out).toContain("[ 'alice/hello.txt' ]");
    expect(out).toMatch(/expires \d{4}-/);
  }, 60_000);

  it('storage.mts uploads in parts with progress, lists folders, downloads and deletes', async () => {
    const out = await runExample('storage.mts');
    expect(out).toContain(`${20 * 1024 * 1024} of ${20 * 1024 * 1024} bytes`);
    expect(out).toContain("folders [ 'notes/', 'videos/' ] files [ 'hello.txt' ]");
    expect(out).toContain("in notes/ [ 'notes/todo.txt (8 bytes)' ]");
    expect(out).toContain('todo.txt says buy milk');
    expect(out).toContain('clip.bin is gone: true');
  }, 60_000);

  it('raw-credentials.mts logs in with fetch and hands the credentials, expiration as a Date, to an S3Client', async () => {
    expect(await runExample('raw-credentials.mts')).toContain("'alice/notes.txt'");
  }, 60_000);

  it('offline-and-errors.mts tells a wrong password apart and lists alice\'s folder', async () => {
    const out = await runExample('offline-and-errors.mts');
    expect(out).toContain('Wrong username or password: invalid_credentials');
    expect(out).toMatch(/alice has \d+ files at the top of her folder/);
  }, 60_000);

  it('every example file runs in a test above, and the docs show each one exactly as it is', () => {
    const files = readdirSync(join(ROOT, 'examples')).sort();
    expect(files).toEqual(['credentials.mts', 'offline-and-errors.mts', 'quickstart.sh', 'raw-credentials.mts', 'storage.mts']);
    const shown = documentedExamples();
    expect(shown.map((example) => example.file).sort()).toEqual(expect.arrayContaining(files));
    for (const { file, shown: text } of shown) {
      expect({ file, text }).toEqual({ file, text: readFileSync(join(ROOT, 'examples', file), 'utf8') });
    }
  });
});

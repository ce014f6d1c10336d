/**
 * `tvm-admin` runs on the project's pinned Node.js (24) even when a script or a shell starts
 * bin/tvm-admin.cjs with an older `node` first on the PATH (these machines have Node 20).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

test('bin/tvm-admin.cjs started by the system node runs the CLI itself on the pinned Node.js 24', () => {
  const systemNode =
    ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => existsSync(candidate)) ?? process.execPath;
  const folder = mkdtempSync(join(tmpdir(), 'tvm-admin-node-'));
  try {
    // Every node process the command starts records its version and arguments.
    const recorder = join(folder, 'record.cjs');
    const record = join(folder, 'versions.txt');
    writeFileSync(
      recorder,
      `require('node:fs').appendFileSync(${JSON.stringify(record)}, process.version + ' ' + process.argv.join(' ') + '\\n');`,
    );
    // No sandbox runs on this data folder, so the command fails at once with its one-line error.
    const run = spawnSync(systemNode, [join(ROOT, 'bin', 'tvm-admin.cjs'), '--local', 'users', 'list'], {
      cwd: ROOT,
      env: {
        PATH: '/usr/bin:/bin',
        TVM_DATA_DIR: join(folder, 'data'),
        HOME: process.env.HOME ?? '/tmp',
        NODE_OPTIONS: `--require ${recorder}`,
      },
      encoding: 'utf8',
    });
    expect(run.stderr).toMatch(/^tvm-admin: /m);
    const cli = readFileSync(record, 'utf8')
      .split('\n')
      .filter((line) => line.includes('tvm-admin.ts'));
    expect(cli.length).toBeGreaterThan(0);
    for (const line of cli) expect(line).toMatch(/^v24\./);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

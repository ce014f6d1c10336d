/**
 * jest's global setup: the tests import `@serverless-tvm/client` as an app does, from the
 * package's built files, so they are rebuilt first when any source file is newer.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PACKAGE = resolve(__dirname, '../../packages/client');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtMtimeMs(): number {
  try {
    return Math.min(
      ...['index.cjs', 'index.mjs', 'types/index.d.ts'].map((file) => statSync(join(PACKAGE, 'dist', file)).mtimeMs),
    );
  } catch {
    return 0;
  }
}

export default function buildClientIfStale(): void {
  const sources = Math.max(newestMtimeMs(join(PACKAGE, 'src')), statSync(join(PACKAGE, 'build.mjs')).mtimeMs);
  if (sources <= builtMtimeMs()) return;
  execFileSync(process.execPath, [join(PACKAGE, 'build.mjs')], { stdio: 'inherit' });
}

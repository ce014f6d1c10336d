#!/usr/bin/env node
// `npm exec --no -- tvm-admin` (or ./bin/tvm-admin.cjs) lands here: run the TypeScript entry through tsx, passing every argument on,
// on the project's pinned Node.js (node_modules/.bin/node) whichever `node` started this file.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const pinnedNode = join(__dirname, '..', 'node_modules', '.bin', 'node');
const node = existsSync(pinnedNode) ? pinnedNode : process.execPath;
const tsxCli = require.resolve('tsx/cli');
const result = spawnSync(node, [tsxCli, join(__dirname, 'tvm-admin.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

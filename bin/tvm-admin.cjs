#!/usr/bin/env node
// `npx tvm-admin` lands here: run the TypeScript entry through tsx, passing every argument on.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const result = spawnSync(tsx, [join(__dirname, 'tvm-admin.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);

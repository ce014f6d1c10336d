// Builds the package into dist/: an ES module and a CommonJS file per entry point (bundled
// with esbuild, the AWS SDK left to the app), and type declarations (tsc).
import { execFileSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
// Built aside and swapped in at the end, so a test run reading dist/ never sees it half-built.
const staging = join(here, `dist.building-${process.pid}`);
rmSync(staging, { recursive: true, force: true });

const entryPoints = { index: join(here, 'src/index.ts'), storage: join(here, 'src/storage/index.ts') };
const common = {
  entryPoints,
  outdir: staging,
  bundle: true,
  // Browsers, React Native and Node alike: no Node built-ins (a test checks it).
  platform: 'neutral',
  target: 'es2022',
  // The AWS SDK is the app's own (peer dependencies), never a second copy in this package.
  external: ['@aws-sdk/*'],
  logLevel: 'warning',
};

/**
 * The storage entry reaches the core only through `../index`, which stays an import of the
 * core's own built file: one copy of every class, so `instanceof LoginRequiredError` holds
 * whichever entry threw it.
 */
const coreAsSibling = (file) => ({
  name: 'core-as-sibling',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/index$/ }, (args) =>
      args.importer.includes(`${join('src', 'storage')}`) ? { path: `./${file}`, external: true } : undefined,
    );
  },
});

await Promise.all([
  build({ ...common, format: 'esm', outExtension: { '.js': '.mjs' }, plugins: [coreAsSibling('index.mjs')] }),
  build({ ...common, format: 'cjs', outExtension: { '.js': '.cjs' }, plugins: [coreAsSibling('index.cjs')] }),
]);
const tsc = join(here, '../../node_modules/typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json'), '--outDir', join(staging, 'types')], {
  stdio: 'inherit',
});
const previous = `${dist}.previous-${process.pid}`;
rmSync(previous, { recursive: true, force: true });
try {
  renameSync(dist, previous);
} catch {
  // No previous build.
}
renameSync(staging, dist);
rmSync(previous, { recursive: true, force: true });

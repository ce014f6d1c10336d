import { relative, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(__dirname, '../..');

describe('the client package', () => {
  it('bundles for a platform without Node from packages/client/src files alone: no server code, no Node built-ins, no dependencies', async () => {
    const result = await build({
      entryPoints: [resolve(ROOT, 'packages/client/src/index.ts')],
      bundle: true,
      write: false,
      // 'neutral' resolves no Node built-ins: importing one would fail the build.
      platform: 'neutral',
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
    });

    const inputs = Object.keys(result.metafile.inputs).map((input) => relative(ROOT, resolve(ROOT, input)));
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.filter((input) => !input.startsWith('packages/client/src/'))).toEqual([]);
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/\b(require|process|Buffer)\b/);
  });
});

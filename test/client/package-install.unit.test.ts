/**
 * The client package as an app meets it: `npm pack`, installed from the tarball into an empty
 * project, imported from ES modules, CommonJS and TypeScript. Every exported class of the
 * sources must come out of both builds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const PACKAGE = join(ROOT, 'packages/client');
const NAME = '@serverless-tvm/client';

let app: string;
let tarball: string;

/** `export class X` in every source file, by entry point (`.` or `./storage`). */
function exportedClasses(): Record<'.' | './storage', string[]> {
  const classesIn = (dir: string): string[] =>
    readdirSync(dir)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) =>
        [...readFileSync(join(dir, file), 'utf8').matchAll(/^export class (\w+)/gm)].map((match) => match[1] ?? ''),
      );
  return { '.': classesIn(join(PACKAGE, 'src')).sort(), './storage': classesIn(join(PACKAGE, 'src/storage')).sort() };
}

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8' });
}

/** What a script run in the app prints: the exported names and class identity checks. */
const probe = (load: string): string => `
${load}
const names = (module) => Object.keys(module).filter((key) => key !== 'default').sort();
const classes = (module) => names(module).filter((key) => typeof module[key] === 'function' && /^class\\b/.test(Function.prototype.toString.call(module[key])));
const tvm = new core.TvmClient({ baseUrl: 'https://tvm.example.com/v1', fetch: async () => new Response('{}') });
console.log(JSON.stringify({
  core: classes(core),
  storage: classes(storage),
  coreNames: names(core),
  storageNames: names(storage),
  loginRequiredIsClientError: new core.LoginRequiredError() instanceof core.TvmClientError,
  // The storage entry uses the core's own classes, not a second copy.
  sharedClasses: storage.isWorthWaitingFor(new core.NetworkError()),
  storageOfClient: new storage.TvmStorage({ client: tvm }).connectivity === tvm.connectivity,
}));
`;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'tvm-client-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: PACKAGE, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(app, packed[0]?.filename ?? '');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'an-app', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: app,
    encoding: 'utf8',
  });
  // The AWS SDK is a peer dependency: the app brings its own. This one is the repository's.
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@aws-sdk'), join(app, 'node_modules/@aws-sdk'));
}, 120_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the packed client package', () => {
  it('holds only the built files, the manifest and the readme, and depends on nothing at run time', () => {
    const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listed.filter((file) => !file.startsWith('package/dist/'))).toEqual([
      'package/README.md',
      'package/package.json',
    ]);
    expect(listed).toEqual(
      expect.arrayContaining([
        'package/dist/index.mjs',
        'package/dist/index.cjs',
        'package/dist/storage.mjs',
        'package/dist/storage.cjs',
        'package/dist/types/index.d.ts',
      ]),
    );
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', NAME, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest['dependencies']).toBeUndefined();
    expect(Object.keys(manifest['peerDependencies'] as object).sort()).toEqual([
      '@aws-sdk/client-s3',
      '@aws-sdk/lib-storage',
    ]);
  });

  it('imports from an ES module and from CommonJS with every exported class of the sources, the same names in both', () => {
    const esm = JSON.parse(
      node([
        '--input-type=module',
        '-e',
        probe(`import * as core from '${NAME}'; import * as storage from '${NAME}/storage';`),
      ]),
    ) as Record<string, unknown>;
    const cjs = JSON.parse(
      node(['-e', probe(`const core = require('${NAME}'); const storage = require('${NAME}/storage');`)]),
    ) as Record<string, unknown>;
    const expected = exportedClasses();
    expect(expected['.']).toEqual(expect.arrayContaining(['TvmClient', 'LoginRequiredError', 'Connectivity']));
    expect(expected['./storage']).toEqual(expect.arrayContaining(['TvmStorage', 'AbortedError', 'FileTooLargeError']));
    for (const loaded of [esm, cjs]) {
      expect(loaded).toMatchObject({
        core: expected['.'],
        storage: expected['./storage'],
        loginRequiredIsClientError: true,
        sharedClasses: true,
        storageOfClient: true,
      });
    }
    expect(esm['coreNames']).toEqual(cjs['coreNames']);
    expect(esm['storageNames']).toEqual(cjs['storageNames']);
  });

  it('type-checks an app written in TypeScript, as an ES module and as CommonJS', () => {
    const source = (load: string): string => `${load}
const tvm = new TvmClient({ baseUrl: 'https://tvm.example.com/v1' });
export async function firstUpload(): Promise<Date> {
  const session = await tvm.login('alice', 'correct horse battery staple');
  const expiration: Date = session.credentials.expiration;
  const storage = new TvmStorage({ client: tvm });
  await storage.upload('notes.txt', 'hello', { onProgress: ({ loadedBytes }) => console.log(loadedBytes) }).done;
  const page = await storage.list({ folder: '' });
  page.files.forEach((file) => console.log(file.name, file.sizeBytes));
  try {
    await tvm.token();
  } catch (error) {
    if (error instanceof LoginRequiredError) return new Date();
  }
  return expiration;
}
`;
    writeFileSync(
      join(app, 'esm.mts'),
      source(`import { LoginRequiredError, TvmClient } from '${NAME}';\nimport { TvmStorage } from '${NAME}/storage';`),
    );
    writeFileSync(
      join(app, 'cjs.cts'),
      source(`import { LoginRequiredError, TvmClient } from '${NAME}';\nimport { TvmStorage } from '${NAME}/storage';`),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    expect(() => node([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')])).not.toThrow();
  });
});

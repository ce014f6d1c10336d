/**
 * The import graph of the shipped code has no cycles, and the domain stays free of AWS: a
 * capability folder never imports an adapter, a handler or the AWS SDK, and the platform and
 * the contract, which every capability builds on, import no capability folder. Read with the
 * TypeScript compiler's own import scanner (`ts.preProcessFile`), type-only imports included:
 * a cycle through types is still a knot a reader has to untie.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const SCANNED = ['lambda', 'lib', 'local', 'admin', 'web', 'packages/client/src'];
/** The domain: pure logic and its ports, tested without mocks. */
const DOMAIN = [
  'lambda/accounts',
  'lambda/sessions',
  'lambda/credentials',
  'lambda/second-factor',
  'lambda/platform',
  'lambda/contract',
];
const FORBIDDEN_IN_DOMAIN = ['lambda/adapters', 'lambda/handlers'];
/** What every capability builds on: the API contract and the shared platform. */
const FOUNDATION = ['lambda/platform', 'lambda/contract'];
/** The capability folders, which build on the foundation and never the other way round. */
const CAPABILITIES = ['lambda/accounts', 'lambda/sessions', 'lambda/credentials', 'lambda/second-factor'];

const posix = (path: string) => path.split(sep).join('/');

function sourceFiles(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') found.push(...sourceFiles(path));
    } else if (/\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** A relative specifier as a file of the repository, or undefined (a package, or a non-source file such as JSON). */
function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

interface Module {
  readonly file: string;
  readonly imports: string[];
  readonly packages: string[];
}

function scan(): Map<string, Module> {
  const modules = new Map<string, Module>();
  for (const folder of SCANNED) {
    for (const path of sourceFiles(join(ROOT, folder))) {
      const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
      const file = posix(relative(ROOT, path));
      const imports: string[] = [];
      const packages: string[] = [];
      for (const { fileName } of importedFiles) {
        const target = resolveRelative(path, fileName);
        if (target) imports.push(posix(relative(ROOT, target)));
        else if (!fileName.startsWith('.')) packages.push(fileName);
      }
      modules.set(file, { file, imports, packages });
    }
  }
  return modules;
}

/** The strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(modules: Map<string, Module>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of modules.get(file)?.imports ?? []) {
      if (!modules.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || modules.get(file)!.imports.includes(file)) found.push(component.sort());
  };
  for (const file of [...modules.keys()].sort()) if (!index.has(file)) visit(file);
  return found;
}

const inFolder = (file: string, folder: string) => file.startsWith(`${folder}/`);

describe('the import graph of lambda/, lib/, local/, admin/, web/ and packages/client/src', () => {
  const modules = scan();

  it('is read whole: every scanned folder contributes modules, and imports resolve', () => {
    for (const folder of SCANNED) expect([...modules.keys()].some((file) => inFolder(file, folder))).toBe(true);
    // A sample edge proves resolution works: the composition root imports the session service.
    expect(modules.get('lambda/services.ts')?.imports).toContain('lambda/sessions/session-service.ts');
  });

  it('has no import cycle', () => {
    expect(cycles(modules)).toEqual([]);
  });

  it('finds a cycle when there is one (the detector is not blind)', () => {
    const knot = new Map<string, Module>([
      ['a.ts', { file: 'a.ts', imports: ['b.ts'], packages: [] }],
      ['b.ts', { file: 'b.ts', imports: ['c.ts'], packages: [] }],
      ['c.ts', { file: 'c.ts', imports: ['a.ts'], packages: [] }],
      ['d.ts', { file: 'd.ts', imports: ['a.ts', 'd.ts'], packages: [] }],
    ]);
    expect(cycles(knot)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  });

  it('keeps the domain folders free of adapters, handlers and the AWS SDK', () => {
    const offences: string[] = [];
    for (const module of modules.values()) {
      if (!DOMAIN.some((folder) => inFolder(module.file, folder))) continue;
      for (const target of module.imports)
        if (FORBIDDEN_IN_DOMAIN.some((folder) => inFolder(target, folder)))
          offences.push(`${module.file} imports ${target}`);
      for (const name of module.packages)
        if (name.startsWith('@aws-sdk/')) offences.push(`${module.file} imports ${name}`);
    }
    expect(offences).toEqual([]);
    // Each domain folder exists, so the rule is not vacuous.
    for (const folder of DOMAIN) expect([...modules.keys()].some((file) => inFolder(file, folder))).toBe(true);
  });

  it('keeps lambda/platform and lambda/contract free of the capability folders', () => {
    const offences: string[] = [];
    for (const module of modules.values()) {
      if (!FOUNDATION.some((folder) => inFolder(module.file, folder))) continue;
      for (const target of module.imports)
        if (CAPABILITIES.some((folder) => inFolder(target, folder))) offences.push(`${module.file} imports ${target}`);
    }
    expect(offences).toEqual([]);
    // Each capability folder is in the domain list, so the other rules cover it too.
    for (const folder of CAPABILITIES) expect(DOMAIN).toContain(folder);
  });
});

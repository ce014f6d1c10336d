/**
 * Every function bundles the second-factor code, but only passkey ceremonies need the WebAuthn
 * library: loading a handler must not evaluate it (a fresh process per handler, as a cold
 * start), and the first ceremony must load it.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/** Loads `entry` in a fresh Node, then runs `after` (a module path exporting `run`), and counts the WebAuthn modules resolved before and after. */
function loadedWebAuthnModules(entry: string, after?: string): { atLoad: number; afterRun: number } {
  const script = `
    const seen = new Set();
    // Sees require() and import() alike, whichever loads the library.
    require('node:module').registerHooks({
      resolve(specifier, context, next) {
        const resolved = next(specifier, context);
        if (resolved.url.includes('@simplewebauthn')) seen.add(resolved.url);
        return resolved;
      },
    });
    require(${JSON.stringify(join(ROOT, 'test/support/handler-env.ts'))});
    const count = () => seen.size;
    require(${JSON.stringify(join(ROOT, entry))});
    const atLoad = count();
    (async () => {
      ${after ? `await require(${JSON.stringify(join(ROOT, after))}).run();` : ''}
      console.log(JSON.stringify({ atLoad, afterRun: count() }));
    })();
  `;
  const output = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(output.trim().split('\n').pop() as string) as { atLoad: number; afterRun: number };
}

it.each(['lambda/handlers/token.ts', 'lambda/handlers/login.ts', 'lambda/handlers/register.ts'])(
  '%s loads without evaluating @simplewebauthn',
  (entry) => {
    expect(loadedWebAuthnModules(entry).atLoad).toBe(0);
  },
);

it('the first passkey ceremony loads it', () => {
  const { atLoad, afterRun } = loadedWebAuthnModules(
    'lambda/handlers/mfa-passkey-options.ts',
    'test/support/first-passkey-ceremony.ts',
  );
  expect(atLoad).toBe(0);
  expect(afterRun).toBeGreaterThan(0);
});

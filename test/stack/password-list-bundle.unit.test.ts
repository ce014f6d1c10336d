import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { COMMON_PASSWORDS_FILE } from '../../lambda/adapters/common-passwords';
import { ROUTES } from '../../lambda/contract/routes';
import { synthesiseTvm } from './synth';

describe('the common-password list in the function bundles (issue 14 item 2)', () => {
  it('is copied beside the bundle of exactly the functions that set passwords, and of no other', () => {
    const { app } = synthesiseTvm();
    const outdir = app.outdir;
    const bundles = readdirSync(outdir)
      .filter((name) => name.startsWith('asset.') && existsSync(path.join(outdir, name, 'index.js')))
      .map((name) => path.join(outdir, name));
    const withList = bundles.filter((dir) => existsSync(path.join(dir, COMMON_PASSWORDS_FILE)));
    expect(withList).toHaveLength(ROUTES.filter((route) => route.setsPassword).length);
    expect(
      ROUTES.filter((route) => route.setsPassword)
        .map((route) => route.name)
        .sort(),
    ).toEqual(['password', 'passwordReset', 'register']);
    for (const dir of withList) expect(statSync(path.join(dir, COMMON_PASSWORDS_FILE)).size).toBeGreaterThan(1_000_000);
    expect(bundles.length).toBeGreaterThan(withList.length);
  }, 120_000);
});

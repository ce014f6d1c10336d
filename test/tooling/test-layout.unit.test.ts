/**
 * The test layout holds: tests are grouped by subject (test/<subject>/) and jest's projects
 * (jest.config.js) pick each tier by the suffix of a file's name (`name.<tier>.test.ts`). A test
 * file named outside that scheme would match no project, and `npm test` would skip it silently.
 */
import { readdirSync } from 'node:fs';
import { join, matchesGlob, relative, sep } from 'node:path';
import jestConfig from '../../jest.config.js';

const ROOT = join(__dirname, '..', '..');
const TEST = join(ROOT, 'test');

interface TierProject {
  readonly displayName: string;
  readonly testMatch: readonly string[];
}

// jest's Config type leaves a project's fields untyped; jest.config.js sets these two on each.
const projects = (jestConfig as unknown as { projects: TierProject[] }).projects;

/** The tiers (jest projects) whose testMatch selects the file at `file` (an absolute path). */
function tiersOf(file: string): string[] {
  return projects
    .filter((project) => project.testMatch.some((glob) => matchesGlob(file, glob.replace('<rootDir>', ROOT))))
    .map((project) => project.displayName);
}

/** Every `*.test.ts` under test/, as paths relative to test/. */
const testFiles = (readdirSync(TEST, { recursive: true }) as string[])
  .filter((name) => name.endsWith('.test.ts'))
  .sort();

describe('the test layout', () => {
  it('has the five tiers as jest projects', () => {
    expect(projects.map((project) => project.displayName)).toEqual(['unit', 'integration', 'e2e', 'browser', 'slow']);
  });

  it('tells a tier-less or misnamed file from a well-named one (so the check below can fail)', () => {
    expect(tiersOf(join(TEST, 'accounts', 'username.test.ts'))).toEqual([]);
    expect(tiersOf(join(TEST, 'accounts', 'username.unti.test.ts'))).toEqual([]);
    expect(tiersOf(join(TEST, 'accounts', 'username.unit.test.ts'))).toEqual(['unit']);
    expect(tiersOf(join(TEST, 'web', 'account.browser.test.ts'))).toEqual(['browser']);
  });

  it('runs every test file under test/ in exactly one tier', () => {
    expect(testFiles.length).toBeGreaterThan(100);
    const offenders = testFiles
      .map((file) => ({ file, tiers: tiersOf(join(TEST, file)) }))
      .filter(({ tiers }) => tiers.length !== 1)
      .map(({ file, tiers }) => `${file}: ${tiers.length === 0 ? 'no tier' : tiers.join(' and ')}`);
    expect(offenders).toEqual([]);
  });

  it('keeps every test file one folder below test/, in its subject (so relative imports read the same everywhere)', () => {
    const misplaced = testFiles.filter((file) => file.split(sep).length !== 2 || file.startsWith(`support${sep}`));
    expect(misplaced).toEqual([]);
    expect(relative(TEST, __filename)).toBe(join('tooling', 'test-layout.unit.test.ts'));
  });
});

/**
 * Runs before the tests (`npm test`): makes sure the Debian packages the tests drive are on
 * this machine (test/system-packages.json lists them, with a file each one provides).
 * As root it installs what is missing with apt-get, saying so in one line; otherwise it
 * stops with one line naming the exact command to run. Nothing happens when all are there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A package the tests need, and a file whose presence shows it is installed. */
export interface SystemPackage {
  readonly package: string;
  readonly provides: string;
  readonly for: string;
}

/** What to do about the packages. */
export type SystemPackagePlan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly packages: readonly string[]; readonly message: string }
  | { readonly action: 'refuse'; readonly message: string };

/** Decides, from which files exist and who we are, whether to install or to stop. */
export function planSystemPackages(
  required: readonly SystemPackage[],
  exists: (file: string) => boolean,
  machine: { readonly isRoot: boolean; readonly hasApt: boolean },
): SystemPackagePlan {
  const missing = [...new Set(required.filter((entry) => !exists(entry.provides)).map((entry) => entry.package))];
  if (missing.length === 0) return { action: 'none' };
  const list = missing.join(' ');
  if (!machine.hasApt) {
    return {
      action: 'refuse',
      message: `The tests need these Debian packages, and this machine has no apt-get: ${list}. Install them by hand, then run npm test again.`,
    };
  }
  if (!machine.isRoot) {
    return {
      action: 'refuse',
      message: `The tests need Debian packages that are missing: ${list}. Run: sudo apt-get update && sudo apt-get install -y ${list}`,
    };
  }
  return {
    action: 'install',
    packages: missing,
    message: `Installing the Debian packages the tests need (once): ${list}`,
  };
}

/** The list in test/system-packages.json. */
export function requiredSystemPackages(root = join(__dirname, '..')): SystemPackage[] {
  return JSON.parse(readFileSync(join(root, 'test', 'system-packages.json'), 'utf8')) as SystemPackage[];
}

function main(): void {
  const required = requiredSystemPackages();
  const plan = planSystemPackages(required, existsSync, {
    isRoot: process.getuid?.() === 0,
    hasApt: existsSync('/usr/bin/apt-get'),
  });
  if (plan.action === 'none') return;
  if (plan.action === 'refuse') {
    console.error(plan.message);
    process.exit(1);
  }
  console.log(plan.message);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('apt-get', ['install', '-y', '-qq', ...plan.packages], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join(' / ') ?? '';
    console.error(`apt-get could not install ${plan.packages.join(' ')}: ${stderr || (error as Error).message}`);
    process.exit(1);
  }
  const still = required.filter((entry) => !existsSync(entry.provides));
  if (still.length > 0) {
    console.error(
      `apt-get finished, but these files are still missing: ${still.map((entry) => `${entry.provides} (${entry.package})`).join(', ')}.`,
    );
    process.exit(1);
  }
}

if (require.main === module) main();

/** The test command's system-package step: installs what is missing as root, else names the command. */
import { planSystemPackages, requiredSystemPackages, type SystemPackage } from '../../scripts/system-packages';

const CHROMIUM: SystemPackage = { package: 'chromium', provides: '/usr/bin/chromium', for: 'browser tests' };
const RCLONE: SystemPackage = { package: 'rclone', provides: '/usr/bin/rclone', for: 'S3 client tests' };
const onlyChromium = (file: string) => file === '/usr/bin/chromium';

test('does nothing when every package is present', () => {
  expect(planSystemPackages([CHROMIUM], () => true, { isRoot: false, hasApt: true })).toEqual({ action: 'none' });
});

test('as root, installs exactly the missing packages with one line saying which', () => {
  expect(planSystemPackages([CHROMIUM, RCLONE], onlyChromium, { isRoot: true, hasApt: true })).toEqual({
    action: 'install',
    packages: ['rclone'],
    message: 'Installing the Debian packages the tests need (once): rclone',
  });
});

test('without root, stops with one line naming the exact command to run', () => {
  const plan = planSystemPackages([CHROMIUM, RCLONE], () => false, { isRoot: false, hasApt: true });
  expect(plan).toEqual({
    action: 'refuse',
    message:
      'The tests need Debian packages that are missing: chromium rclone. Run: sudo apt-get update && sudo apt-get install -y chromium rclone',
  });
});

test('without apt-get, says which packages to install by hand', () => {
  const plan = planSystemPackages([RCLONE], () => false, { isRoot: true, hasApt: false });
  expect(plan.action).toBe('refuse');
  expect(plan.action === 'refuse' && plan.message).toContain('rclone');
});

test('the list names, for every package, a file it installs and why the tests need it', () => {
  const required = requiredSystemPackages();
  expect(required.map((entry) => entry.package)).toContain('chromium');
  for (const entry of required) {
    expect(entry.provides).toMatch(/^\//);
    expect(entry.for.length).toBeGreaterThan(5);
  }
});

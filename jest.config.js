/**
 * The test tiers, as jest projects: `npm run test:<tier>` runs one, `npm test` runs them all.
 * A tier is a set of folders under test/; a new test goes into the folder of its tier.
 */
const TIERS = {
  // Pure logic, handlers with fakes, the synthesised stack, the client against a fake, tvm-admin with mocks.
  unit: ['unit', 'handlers', 'stack', 'client', 'admin'],
  // dynalite and the IAM policy engine, in process.
  integration: ['integration', 'proof'],
  // The sandbox, with the AWS SDK and real S3 clients, faults and fuzzing over HTTP.
  e2e: ['e2e', 'faults', 'fuzz', 'clients'],
  // Debian's Chromium driven by playwright-core.
  browser: ['browser'],
  // Statistical timing measurements, many samples each.
  slow: ['slow'],
};

/** @type {import('jest').Config} */
const base = {
  testEnvironment: 'node',
  transform: {
    // middy ships ESM only; swc turns it (and our TypeScript) into CommonJS for jest.
    '^.+\\.(t|j|mj)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
  // The client package is consumed from its build, as an app would; rebuilt here when stale.
  globalSetup: '<rootDir>/test/support/build-client.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  projects: Object.entries(TIERS).map(([name, folders]) => ({
    ...base,
    displayName: name,
    roots: ['<rootDir>/test'],
    testMatch: folders.map((folder) => `<rootDir>/test/${folder}/**/*.test.ts`),
  })),
};

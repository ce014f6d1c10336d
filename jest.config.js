/**
 * The test tiers, as jest projects: `npm run test:<tier>` runs one, `npm test` runs them all.
 * Tests are grouped by subject (test/accounts, test/s3, ...); a file's tier is the suffix of its
 * name: `name.<tier>.test.ts`. test/tooling/test-layout.unit.test.ts fails on a test file that
 * no tier (or more than one) would run.
 */
const TIERS = [
  // Pure logic, handlers with fakes, the synthesised stack, the client against a fake, tvm-admin with mocks.
  'unit',
  // dynalite and the IAM policy engine, in process.
  'integration',
  // The sandbox, with the AWS SDK and real S3 clients, faults and fuzzing over HTTP.
  'e2e',
  // Debian's Chromium driven by playwright-core.
  'browser',
  // Statistical timing measurements, many samples each.
  'slow',
];

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
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
  // The client package is consumed from its build, as an app would; rebuilt here when stale.
  globalSetup: '<rootDir>/test/support/build-client.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  projects: TIERS.map((tier) => ({
    ...base,
    displayName: tier,
    roots: ['<rootDir>/test'],
    testMatch: [`<rootDir>/test/**/*.${tier}.test.ts`],
  })),
};

/**
 * The end-to-end helpers (sandbox, HTTP, S3 clients) live in test/e2e/helpers.ts; this re-export
 * lets the e2e tests of this subject import them as './helpers', as they did before the tests were
 * grouped by subject, so moving them changed none of their lines.
 */
export * from '../e2e/helpers';

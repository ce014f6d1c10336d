/**
 * Environment for tests that import handler modules: imported first, so it is in place before
 * the handlers read their configuration at module load. Backends are replaced by
 * aws-sdk-client-mock or pointed at dynalite by the test itself.
 */
process.env.TABLE_NAME ??= 'tvm-test-users';
process.env.BUCKET_NAME ??= 'tvm-test-files';
process.env.VENDING_ROLE_ARN ??= 'arn:aws:iam::123456789012:role/tvm-vending';
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIATESTTESTTESTTEST';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test-secret';
// The minimum cost keeps tests quick; the default (12) is checked by the config tests.
process.env.BCRYPT_COST ??= '10';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_DEV ??= 'false';
// The cut-off worker's name: the stack gives it to the share-revoking function alone, which
// needs it at start; these tests load every handler in one process, as the sandbox does.
process.env.CUT_OFF_WORKER_FUNCTION ??= 'tvm-cut-off-worker';

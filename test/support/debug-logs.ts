/** Imported before handler-env by tests that read the logs: every level is written. */
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';

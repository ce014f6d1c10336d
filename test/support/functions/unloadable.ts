/** A test function whose module fails at load, as a handler with a missing setting does. */
export {};
throw new Error('TABLE_NAME is not set.');

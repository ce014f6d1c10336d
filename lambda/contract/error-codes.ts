/**
 * The stable, machine-readable codes the API sends in `{error: {code}}`, stated once. The
 * error classes (lambda/platform/errors.ts), the responses API Gateway and the WAF answer
 * themselves (lib/), and the sandbox's own answers (local/) take them from here; the client's
 * `ApiErrorCode` (packages/client, which may not import server code) is checked against this
 * list by test/api/error-codes.unit.test.ts.
 */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_credentials',
  'username_taken',
  'not_found',
  'too_many_attempts',
  'second_factor_required',
  'already_enrolled',
  'limit_reached',
  'username_required',
  'registration_closed',
  'invite_required',
  'rate_limited',
  'passkeys_not_configured',
  'service_unavailable',
  'internal_error',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The codes by themselves, derived from the list: `ERROR.not_found` reads as the code it is,
 * and a misspelt one does not compile.
 */
export const ERROR = Object.freeze(Object.fromEntries(ERROR_CODES.map((code) => [code, code]))) as {
  readonly [C in ErrorCode]: C;
};

/** The one message of every refused ID token or identity (docs/api.md#sign-in-with-a-provider): which check failed is not told. */
export const INVALID_ID_TOKEN_MESSAGE =
  'The sign-in with the provider could not be verified. Sign in with the provider again.';

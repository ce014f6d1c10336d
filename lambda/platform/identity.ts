/**
 * The name every capability, the audit trail and the adapters key a user by. Only
 * lambda/accounts/username.ts makes one (parseUsername, isUsername): the rules are the
 * accounts', the type is shared, so it lives here where the platform can use it too.
 */

/** A username that passed parseUsername (lambda/accounts/username.ts): lower case and on the allowlist. */
export type Username = string & { readonly __brand: 'Username' };

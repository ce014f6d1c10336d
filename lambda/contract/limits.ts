/**
 * Every request limit of the TVM, stated once. The parsers in each capability's requests.ts check them, the
 * route table's body schemas (API Gateway's request models, and the sandbox's validator)
 * are built from them, and the docs quote them; nothing else writes these numbers.
 */

/** Shortest username: AssumeRole's RoleSessionName and SourceIdentity need at least 2 characters. */
export const USERNAME_MIN_LENGTH = 2;
/** Longest username: it must fit RoleSessionName and SourceIdentity (64 characters). */
export const USERNAME_MAX_LENGTH = 64;

/**
 * The floor of the minimum password length, in Unicode code points after normalisation. The
 * configured minimum (the `passwordMinCharacters` setting) may only raise it.
 */
export const PASSWORD_MIN_CHARACTERS = 8;
/**
 * Longest password in UTF-8 bytes after normalisation. Passwords are prehashed before bcrypt
 * (lambda/accounts/password-hash.ts), so every byte counts; the cap only bounds the work
 * (normalisation, HMAC, the common-password scan) and leaves room for 256 characters of any
 * script (at most 4 bytes each).
 */
export const PASSWORD_MAX_BYTES = 1024;

/** Longest device label, in characters. */
export const DEVICE_MAX_CHARACTERS = 64;

/** Characters of a reset code (Crockford base32, 5 bits each: 80 bits). */
export const RESET_CODE_CHARACTERS = 16;
/** Longest reset code as typed: the code with room for the dashes and spaces people add. */
export const RESET_CODE_INPUT_MAX_CHARACTERS = 40;

/**
 * Largest request body the functions read, in bytes. Real bodies are a few hundred; two
 * passwords of PASSWORD_MAX_BYTES each, even JSON-escaped as `\uXXXX` by clients that escape
 * non-ASCII (Python's json does), need about 6 KiB.
 */
export const MAX_BODY_BYTES = 8192;

/** A device token: 32 random bytes in base64url (device-trust.ts). */
export const DEVICE_TOKEN_CHARACTERS = 43;

/** Longest user agent kept in the audit trail, in characters: enough to identify a client. */
export const USER_AGENT_MAX_CHARACTERS = 256;

/** Digits of a TOTP code (RFC 6238 with every authenticator app's default). */
export const TOTP_DIGITS = 6;
/** Longest TOTP code as typed: six digits with room for a space between the groups. */
export const TOTP_CODE_INPUT_MAX_CHARACTERS = 8;
/**
 * Characters of a recovery code (Crockford base32, 5 bits each: 120 bits). ASVS 6.5.2 lets a
 * lookup secret of 112 bits or more be stored with a plain hash; a shorter one would need a
 * salted password hash per code.
 */
export const RECOVERY_CODE_CHARACTERS = 24;
/** Longest recovery code as typed: the code with room for dashes and spaces. */
export const RECOVERY_CODE_INPUT_MAX_CHARACTERS = 40;
/** Characters of a second-factor challenge token (256 bits, base64url). */
export const CHALLENGE_TOKEN_CHARACTERS = 43;
/**
 * How long one function invocation may run, in seconds (the stack sets it on every function).
 * It also bounds how long after its session check a /token call can still reach STS, which
 * the credential cut-off's margin must cover.
 */
export const FUNCTION_TIMEOUT_SECONDS = 10;
/** Longest WebAuthn response a body may carry, as JSON text: attestation "none" answers are about 1 KB. */
export const PASSKEY_RESPONSE_MAX_CHARACTERS = 3000;
/** Longest passkey label, in characters. */
export const PASSKEY_NAME_MAX_CHARACTERS = 64;

/**
 * Longest shared path (relative to the owner's folder), in bytes as a session policy carries it
 * (lambda/sharing/share-path.ts, policyBytes): AssumeRole takes a policy in ASCII, so a character
 * outside ASCII travels as a JSON escape and counts 6 (12 beyond U+FFFF); never fewer than its
 * UTF-8 bytes. The share's session policy names it up to three times beside the bucket ARN and
 * the owner's name; at this length the worst case (longest bucket name, username and path,
 * read-write, expiring) stays within AssumeRole's 2,048 characters and its packed size
 * (test/sharing/share-policy.unit.test.ts proves it).
 */
export const SHARE_PATH_MAX_BYTES = 256;
/** Most shares one owner may have given at a time (a revoked or expired one frees its place). */
export const SHARES_PER_OWNER_MAX = 100;
/** Most share links one owner may have at a time (a revoked or expired one frees its place). */
export const LINKS_PER_OWNER_MAX = 100;
/** Furthest ahead a share or link may expire, in days. */
export const SHARE_MAX_LIFETIME_DAYS = 365;
/** Longest `expiresAt` as sent (ISO 8601 with milliseconds and an offset is 29). */
export const EXPIRES_AT_MAX_CHARACTERS = 40;
/** How long the presigned URL a link redirects to stays valid, in seconds. */
export const LINK_URL_SECONDS = 300;
/** Characters of a share id or a link id: 24 random bytes in base64url (192 bits; a link id is a bearer secret). */
export const GRANT_ID_CHARACTERS = 32;

/**
 * Longest ID token a body may carry, in characters. Provider tokens are 1-2 KB (Google,
 * Apple, Auth0, Okta); Microsoft Entra's grow with group claims, which apps should not ask for.
 * Anything longer is refused before it is parsed or any key is fetched.
 */
export const OIDC_ID_TOKEN_MAX_CHARACTERS = 6144;
/** Longest provider name in `oidcProviders` and in a body. */
export const OIDC_PROVIDER_NAME_MAX_CHARACTERS = 32;
/** Characters of a sign-in nonce: 32 random bytes in base64url (256 bits). */
export const OIDC_NONCE_CHARACTERS = 43;
/** How long a nonce from `POST /login/oidc/nonce` can be used, in seconds. */
export const OIDC_NONCE_SECONDS = 600;
/** The clock skew allowed on an ID token's `exp`, `nbf` and `iat`, in seconds. */
export const OIDC_CLOCK_SKEW_SECONDS = 60;
/** The oldest `iat` an ID token may carry, in seconds before now (a token is used at once after sign-in). */
export const OIDC_TOKEN_MAX_AGE_SECONDS = 600;

/**
 * The largest quota (default or per user) the TVM accepts: 1 PiB. Larger is almost surely a
 * typo (`10PB` for `10TB`) and would make the quota meaningless.
 */
export const MAX_QUOTA_BYTES = 2 ** 50;
/** Characters of an invite code (`tvm-admin invites create`): 128 random bits in base64url. */
export const INVITE_CODE_CHARACTERS = 22;
/** The most invites one `tvm-admin invites create --count N` makes. */
export const INVITES_PER_COMMAND_MAX = 1000;
/** The longest an invite may stay valid (`--expires`), in days. */
export const INVITE_MAX_LIFETIME_DAYS = 365;
/** Days the per-user daily request counts (from the access logs) are kept; `usage report --since` reaches back at most this far. */
export const USAGE_DAY_RETENTION_DAYS = 400;
/** Days the marker of a counted access-log object is kept (longer than the log queue keeps a message). */
export const ACCESS_LOG_DONE_DAYS = 30;

/**
 * The TVM's wire shapes, as an app sees them. Duplicated from the server on purpose: the
 * client is a standalone package for browsers, React Native and Node, and must never pull in
 * server code.
 */

/**
 * The stable, machine-readable error codes the API sends in `{error: {code}}`: a copy of the
 * server's one list (lambda/contract/error-codes.ts), held to it by test/api/error-codes.unit.test.ts.
 */
export type ApiErrorCode =
  | 'invalid_request'
  | 'invalid_credentials'
  | 'username_taken'
  | 'not_found'
  | 'too_many_attempts'
  | 'second_factor_required'
  | 'already_enrolled'
  | 'limit_reached'
  | 'username_required'
  | 'registration_closed'
  | 'invite_required'
  | 'rate_limited'
  | 'passkeys_not_configured'
  | 'service_unavailable'
  | 'internal_error';

/** The JSON body of every API error response. */
export interface ApiErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string; readonly field?: string };
}

/**
 * Short-lived AWS credentials. The API sends `expiration` as ISO 8601; the client always hands
 * it out as a `Date`, the type AWS SDK v3 expects, so these credentials can be passed to an
 * SDK client as they are.
 */
export interface TvmCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When AWS stops accepting these credentials. */
  readonly expiration: Date;
}

/** Where this user's files live: apps never hard-code the bucket. */
export interface StorageInfo {
  readonly bucket: string;
  /** `<username>/`, always ending in `/`. Every key the user may touch starts with it. */
  readonly prefix: string;
  readonly region: string;
  /** Present only when S3 is not AWS's own endpoint (the local sandbox). */
  readonly endpoint?: string;
  /**
   * What the folder holds against its quota (on share credentials: the owner's folder), as the
   * TVM's meter last counted it; over quota, the credentials in the same answer carry no write.
   */
  readonly usage: StorageUsage;
}

/** What a folder holds against its quota: current object versions only. */
export interface StorageUsage {
  readonly bytes: number;
  readonly objects: number;
  /** Null when there is no quota. */
  readonly quotaBytes: number | null;
  /** True when the folder holds at least `quotaBytes`: the credentials carry no write. */
  readonly overQuota: boolean;
}

/** A login session: the bearer token for `/token` and `/logout`, and when it stops working. */
export interface SessionInfo {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** `POST /token`'s answer. */
export interface VendResult {
  readonly credentials: TvmCredentials;
  readonly storage: StorageInfo;
}

/** `POST /register` and `POST /login`'s answer. */
export interface SessionResult extends VendResult {
  /** The username as the TVM stores it (normalised to lower case). */
  readonly username: string;
  readonly session: SessionInfo;
  /** This device's token, for later logins (see {@link DeviceTokenStore}); the client keeps it itself. */
  readonly deviceToken?: string;
}

/** One of the caller's sessions, as `GET /sessions` lists them (times are ISO 8601). */
export interface SessionSummary {
  readonly id: string;
  readonly device?: string;
  readonly createdAt: string;
  /** Absent until the session's first /token call. */
  readonly lastUsedAt?: string;
  readonly expiresAt: string;
  /** True for the session this client holds. */
  readonly current: boolean;
}

/** One API call: method, path, body, auth and whether it may be retried. */
export interface RequestPlan {
  /** Default POST. */
  readonly method?: 'POST' | 'GET' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly bearer?: string;
  /**
   * Whether the call may be sent again after a transient failure; `'retry-after'`: only after
   * a 503 carrying Retry-After, which the TVM sends when it did nothing (see retryAfterOnlyDelayMs).
   */
  readonly retry: boolean | 'retry-after';
}

/** What a share lets its grantee do within the shared path: `read` (get, list) or `readwrite` (also put, delete). */
export type ShareAccess = 'read' | 'readwrite';

/** Every {@link ShareAccess}, in order (a copy of the server's, held to it by test/api/client-wire-shapes.unit.test.ts). */
export const SHARE_ACCESS_LEVELS: readonly ShareAccess[] = ['read', 'readwrite'];

/** A share as `POST /shares` answers it and `GET /shares` lists it (times are ISO 8601). */
export interface ShareSummary {
  readonly id: string;
  readonly owner: string;
  /** Relative to the owner's folder: `""` (all of it), a folder ending in `/`, or one file. */
  readonly path: string;
  readonly grantee: string;
  readonly access: ShareAccess;
  /** Null for a share that lasts until revoked. */
  readonly expiresAt: string | null;
  readonly createdAt: string;
  /** The last credential vend for this share; absent until the first (`GET /shares` only). */
  readonly lastUsedAt?: string;
  /** Who used it last (the grantee's username); absent until the first use. */
  readonly lastUsedBy?: string;
}

/** `GET /shares`' answer: the shares this user gave, and the ones they received. */
export interface ShareList {
  readonly given: readonly ShareSummary[];
  readonly received: readonly ShareSummary[];
}

/** Where a share's files are: `prefix` is the owner's folder plus the shared path (a file share: the file's key). */
export type ShareStorageInfo = StorageInfo;

/** `POST /shares/{id}/credentials`' answer, with `expiration` as a `Date` like {@link TvmCredentials}. */
export interface ShareCredentialsResult {
  readonly credentials: TvmCredentials;
  readonly storage: ShareStorageInfo;
  readonly access: ShareAccess;
  /** ISO 8601, or null: the share's own end, after which S3 refuses these credentials whatever their expiration. */
  readonly expiresAt: string | null;
}

/** A share link as `POST /links` answers it. */
export interface LinkCreated {
  /** At least 128 random bits: whoever holds the link can open the file until it ends. */
  readonly id: string;
  /** `<api>/l/<id>`: answers 302 to a presigned GET URL valid a few minutes; no login needed. */
  readonly url: string;
  /** ISO 8601, or null for a link that lasts until revoked. */
  readonly expiresAt: string | null;
}

/** One entry of `GET /links`. */
export interface LinkSummary extends LinkCreated {
  /** The file, relative to the owner's folder. */
  readonly path: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601 of the last open; absent until the first. */
  readonly lastUsedAt?: string;
  /** Where the last open came from (a source IP); absent until the first. */
  readonly lastUsedBy?: string;
}

/** `GET /links`' answer. */
export interface LinkList {
  readonly links: readonly LinkSummary[];
}

/** `POST /login/oidc/nonce`'s answer: pass `nonce` to the provider's sign-in as it is. */
export interface OidcNonce {
  /** 256 random bits, single use, stored only as a hash. */
  readonly nonce: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** One identity linked to an account (`GET /identities`). */
export interface IdentitySummary {
  /** Opaque and stable: derived from the issuer and subject, never the subject itself. */
  readonly id: string;
  /** The configured provider's name (`oidcProviders`). */
  readonly provider: string;
  /** ISO 8601. */
  readonly linkedAt: string;
}

/** `GET /identities`' answer. */
export interface IdentityList {
  readonly identities: readonly IdentitySummary[];
}

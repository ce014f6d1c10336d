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

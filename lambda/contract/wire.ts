/**
 * The API's response bodies as the domain returns them and the handlers send them (docs/api.md).
 * Plain data: the contract imports nothing from the domain.
 */

/** Temporary AWS credentials as the API returns them. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** ISO 8601. */
  readonly expiration: string;
}

/** Where an app's files live: apps never hard-code the bucket. */
export interface StorageInfo {
  readonly bucket: string;
  /** `<username>/`, always ending in `/`. */
  readonly prefix: string;
  readonly region: string;
  /** Present only when S3 is not AWS's own endpoint (the local sandbox). */
  readonly endpoint?: string;
}

/** `POST /token`'s answer. */
export interface VendResult {
  readonly credentials: IssuedCredentials;
  readonly storage: StorageInfo;
}

/** A session as its holder receives it. */
export interface SessionGrant {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** `POST /register`, `POST /login` and `POST /password/reset`'s answer. */
export interface SessionResult extends VendResult {
  readonly username: string;
  readonly session: SessionGrant;
  /**
   * Register and login: the token of the device this account now trusts. The app keeps it and
   * sends it as `deviceToken` on later logins, so a stranger's guesses never lock it out.
   */
  readonly deviceToken?: string;
}

/** One entry of `GET /sessions`. */
export interface SessionSummary {
  readonly id: string;
  readonly device?: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601; absent until the session's first /token call. */
  readonly lastUsedAt?: string;
  readonly expiresAt: string;
  /** True for the session that asked. */
  readonly current: boolean;
}

/** How a second factor can be given. */
export type MfaMethod = 'totp' | 'recovery_code' | 'passkey';

/** `POST /login`'s answer for a user with a second factor: no session, no credentials. */
export interface MfaChallengeResult {
  readonly mfaRequired: true;
  readonly challenge: {
    /** Opaque; send it back to `POST /login/mfa`. 256 random bits, stored only as a hash. */
    readonly token: string;
    /** ISO 8601. */
    readonly expiresAt: string;
  };
  /** Which second factors this user has. */
  readonly methods: readonly MfaMethod[];
  /** WebAuthn request options for a passkey answer, when the user has passkeys. */
  readonly passkeyOptions?: unknown;
}

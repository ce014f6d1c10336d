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
  /**
   * What the folder holds against its quota (on share credentials: the owner's folder), as the
   * meter last counted it; over quota, the credentials in the same answer carry no write.
   */
  readonly usage: StorageUsage;
}

/**
 * What a folder holds against its quota, as the meter last counted it (docs/operating.md#quotas):
 * current object versions only. `quotaBytes` is null when there is no quota; `overQuota` is
 * true when the folder holds at least `quotaBytes`, and then vended credentials carry no write.
 */
export interface StorageUsage {
  readonly bytes: number;
  readonly objects: number;
  readonly quotaBytes: number | null;
  readonly overQuota: boolean;
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

/** What a share lets its grantee do within the shared path. */
export type ShareAccess = 'read' | 'readwrite';

/** Every {@link ShareAccess}, for validation and docs. */
export const SHARE_ACCESS_LEVELS: readonly ShareAccess[] = ['read', 'readwrite'];

/** A share as `POST /shares` answers it and `GET /shares` lists it. */
export interface ShareSummary {
  readonly id: string;
  readonly owner: string;
  /** Relative to the owner's folder: `""` (all of it), a folder ending in `/`, or one file. */
  readonly path: string;
  readonly grantee: string;
  readonly access: ShareAccess;
  /** ISO 8601, or null for a share that lasts until revoked. */
  readonly expiresAt: string | null;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601 of the last credential vend for this share; absent until the first (`GET /shares` only). */
  readonly lastUsedAt?: string;
  /** Who used it last (the grantee's username); absent until the first use. */
  readonly lastUsedBy?: string;
}

/** `GET /shares`' answer. */
export interface ShareList {
  readonly given: readonly ShareSummary[];
  readonly received: readonly ShareSummary[];
}

/** Where a share's files are: `prefix` is the owner's folder plus the shared path (a file share: the file's key). */
export type ShareStorageInfo = StorageInfo;

/** `POST /shares/{id}/credentials`' answer. */
export interface ShareCredentialsResult {
  readonly credentials: IssuedCredentials;
  readonly storage: ShareStorageInfo;
  readonly access: ShareAccess;
  /** ISO 8601, or null: the share's own end, after which these credentials are refused whatever their expiration. */
  readonly expiresAt: string | null;
}

/** A share link as `POST /links` answers it. */
export interface LinkCreated {
  /** At least 128 random bits: whoever holds it can open the file until the link ends. */
  readonly id: string;
  /** `<api>/l/<id>`: answers 302 to a presigned GET URL valid at most LINK_URL_SECONDS. */
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
  /** Where the last open came from (source IP as API Gateway saw it); absent until the first. */
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

/**
 * The TVM client SDK: `TvmClient` for register, login, token, logout, passwords and sessions, `TvmShares` and
 * `TvmLinks` for sharing, `TvmIdentities` for outside identities (sign in with `loginWithIdToken`), and `fromTvm` (`fromShare` for a share) for AWS SDK v3 clients. Standalone: fetch only, no Node built-ins, no server imports, no
 * dependencies. The storage helpers (which need the AWS SDK) are in `@serverless-tvm/client/storage`.
 */
export { Connectivity } from './connectivity';
export type { ConnectivityListener, ConnectivityState } from './connectivity';
export { MemoryDeviceTokenStore } from './device-tokens';
export type { DeviceTokenStore } from './device-tokens';
export * from './errors';
export { fromShare } from './from-share';
export type { FromShareOptions, ShareCredentialProvider, ShareInfo } from './from-share';
export { fromTvm } from './from-tvm';
export {
  identityStepUpBody,
  parseIdentityList,
  parseIdentitySummary,
  parseOidcNonce,
  TvmIdentities,
} from './identities';
export type { IdentitiesClientSide, IdentityStepUp, IdTokenLogin, IdTokenSignIn } from './identities';
export type { FromTvmOptions, TvmCredentialIdentity, TvmCredentialProvider, TvmCredentialSnapshot } from './from-tvm';
export { DEFAULT_RETRY_POLICY, isTransient, parseRetryAfterMs, retryAfterOnlyDelayMs, retryDelayMs } from './retry';
export type { RetryPolicy } from './retry';
export { LocalStorageSessionStore, MemorySessionStore } from './session-store';
export type { KeyValueStorage, LocalStorageSessionStoreOptions, SessionStore, StoredSession } from './session-store';
export { TvmMfa, stepUpBody } from './mfa';
export type { LoginFactor, MfaStatus, PasskeyStepUp, SecondFactor, StepUp, TotpEnrolment } from './mfa';
export {
  parseLinkCreated,
  parseLinkList,
  parseLinkSummary,
  parseShareCredentials,
  parseShareList,
  parseShareSummary,
  TvmLinks,
  TvmShares,
} from './sharing';
export type { EndsAt, NewLink, NewShare, SharingClientSide } from './sharing';
export { TvmClient } from './tvm-client';
export type {
  CredentialsEvent,
  CredentialsListener,
  FetchFunction,
  SessionEvent,
  SessionListener,
  TvmClientOptions,
} from './tvm-client';
export { parseStorageUsage } from './usage';
export { SHARE_ACCESS_LEVELS } from './types';
export type {
  ApiErrorBody,
  ApiErrorCode,
  IdentityList,
  IdentitySummary,
  LinkCreated,
  LinkList,
  LinkSummary,
  OidcNonce,
  SessionInfo,
  SessionResult,
  SessionSummary,
  ShareAccess,
  ShareCredentialsResult,
  ShareList,
  ShareStorageInfo,
  ShareSummary,
  StorageInfo,
  StorageUsage,
  TvmCredentials,
  VendResult,
} from './types';

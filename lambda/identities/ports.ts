/**
 * What OpenID Connect sign-in needs from the outside: the configured providers, a verifier of
 * their ID tokens (lambda/adapters/oidc-verifier.ts, with `jose`), single-use nonces and the
 * links from an identity (issuer, subject) to an account (the TVM's table). DynamoDB here has
 * no transactions (dynalite has none): the link keyed by the identity is canonical, and the
 * entry in the user's partition is a pointer believed only once the canonical item confirms it.
 */
import type { Username } from '../platform/identity';

/** One configured provider (the `oidcProviders` setting). */
export interface OidcProvider {
  /** The name apps send (`provider`), e.g. `google`. */
  readonly name: string;
  /** Exactly the `iss` its tokens carry; https (the sandbox also allows http://127.0.0.1:<port>). */
  readonly issuer: string;
  /** The client ids its tokens may be issued to (`aud`; `azp` when there are several). */
  readonly audiences: readonly string[];
  /** Whether the provider's own MFA (the token's `amr`) stands in for the account's second factor. Default false. */
  readonly trustProviderMfa: boolean;
}

/** What a verified ID token says, as far as the TVM uses it. */
export interface VerifiedIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** The token's `nonce` claim (checked against the store by the domain). */
  readonly nonce: string;
  /** Authentication methods the provider reports (`amr`), if any. */
  readonly methods: readonly string[];
}

/**
 * Verifies an ID token for one provider: signature with a key from its JWKS (asymmetric
 * algorithms only), `iss`, `aud`/`azp`, `exp`/`nbf`/`iat` within the skew and age, `sub` and
 * `nonce` present. Throws AuthenticationError for any token problem, BackendUnavailableError
 * (503) when the provider's keys cannot be fetched.
 */
export interface IdTokenVerifier {
  verify(provider: OidcProvider, idToken: string): Promise<VerifiedIdentity>;
}

/** Single-use sign-in nonces. */
export interface NonceStore {
  /** Stores the nonce's hash until `expiresAt` (epoch ms). */
  put(nonceHash: string, expiresAt: number): Promise<void>;
  /** Whether the nonce exists and has not expired at `now` (a read: it stays usable). */
  isLive(nonceHash: string, now: number): Promise<boolean>;
  /** Deletes the nonce if it exists and has not expired at `now`; true only for the one caller that did. */
  consume(nonceHash: string, now: number): Promise<boolean>;
}

/** An identity linked to an account: the canonical record, keyed by (issuer, subject). */
export interface IdentityLink {
  /** Public and stable: derived from issuer and subject (lambda/identities/), never the subject itself. */
  readonly id: string;
  readonly issuer: string;
  readonly subject: string;
  /** The provider's name when it was linked. */
  readonly provider: string;
  readonly username: Username;
  /** The account's registration: a later account under the same name is not reachable with it. */
  readonly userId: string;
  /** Epoch ms. */
  readonly linkedAt: number;
}

/** Identity links in the TVM's table (lambda/adapters/dynamo/identity-store.ts). */
export interface IdentityStore {
  /** The link of an identity, if any. */
  get(issuer: string, subject: string): Promise<IdentityLink | undefined>;
  /** Writes the link only if the identity is linked to nobody; false when it already is. */
  create(link: IdentityLink): Promise<boolean>;
  /** Every identity linked to the account (confirmed by their canonical records), oldest first. */
  listByUser(username: Username, userId: string): Promise<IdentityLink[]>;
  /** Removes the link (canonical and pointer). Idempotent. */
  remove(link: IdentityLink): Promise<void>;
}

/**
 * Verifies OpenID Connect ID tokens with `jose` (docs/api.md#sign-in-with-a-provider). The only
 * module that imports jose: only the functions that verify tokens load it (see the handlers
 * that build it). Discovery documents and key sets are cached per function instance; a
 * provider that fails or answers slowly costs at most the timeout, then a 503 with Retry-After.
 */
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { OIDC_CLOCK_SKEW_SECONDS, OIDC_ID_TOKEN_MAX_CHARACTERS, OIDC_TOKEN_MAX_AGE_SECONDS } from '../contract/limits';
import { INVALID_ID_TOKEN_MESSAGE as INVALID_ID_TOKEN } from '../identities/messages';
import type { IdTokenVerifier, OidcProvider, VerifiedIdentity } from '../identities/ports';
import { AuthenticationError, BackendUnavailableError } from '../platform/errors';

/** The asymmetric algorithms the TVM accepts; `none` and HMAC (HS*) never. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Longest `sub` accepted (OpenID Connect Core 2: at most 255 ASCII characters). */
export const SUBJECT_MAX_CHARACTERS = 255;

/** Timing of the network calls to providers. */
export interface OidcVerifierOptions {
  /** Longest wait for a discovery document or a key set, ms (default 2000). */
  readonly timeoutMs?: number;
  /** Least time between two key set fetches, and how long a failed discovery is not retried, ms (default 30000). */
  readonly cooldownMs?: number;
  /** How long a key set and a discovery document are trusted before they are fetched again, ms (default 10 min). */
  readonly cacheMaxAgeMs?: number;
  /** Seconds a client is told to wait after a provider failure (Retry-After; default 5). */
  readonly retryAfterSeconds?: number;
  /** The clock (tests move it), epoch ms. */
  readonly now?: () => number;
}

interface ProviderKeys {
  readonly issuer: string;
  readonly algorithms: readonly string[];
  readonly keys: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** {@link IdTokenVerifier} over each provider's discovery document and JWKS. */
export class JoseIdTokenVerifier implements IdTokenVerifier {
  private readonly timeoutMs: number;
  private readonly cooldownMs: number;
  private readonly cacheMaxAgeMs: number;
  private readonly retryAfterSeconds: number;
  private readonly now: () => number;
  private readonly discovered = new Map<string, Promise<ProviderKeys>>();
  private readonly failedUntil = new Map<string, number>();

  constructor(options: OidcVerifierOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
    this.now = options.now ?? Date.now;
  }

  async verify(provider: OidcProvider, idToken: string): Promise<VerifiedIdentity> {
    // Everything that can be checked without the network is, first: garbage costs no fetch.
    precheck(provider, idToken);
    const keys = await this.keysOf(provider);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, keys.keys, {
        issuer: provider.issuer,
        audience: [...provider.audiences],
        algorithms: [...keys.algorithms],
        clockTolerance: OIDC_CLOCK_SKEW_SECONDS,
        maxTokenAge: OIDC_TOKEN_MAX_AGE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw this.mapped(error);
    }
    return claimsOf(provider, payload);
  }

  /** A jose failure: the provider's fault (503) or the token's (the one 401). */
  private mapped(error: unknown): Error {
    if (error instanceof AuthenticationError || error instanceof BackendUnavailableError) return error;
    const providerFault =
      error instanceof joseErrors.JWKSTimeout ||
      error instanceof joseErrors.JWKSInvalid ||
      !(error instanceof joseErrors.JOSEError) ||
      // jose's generic error is what a non-200 key set answer raises.
      error.code === 'ERR_JOSE_GENERIC';
    if (providerFault)
      return new BackendUnavailableError('identity provider keys', { cause: error }, this.retryAfterSeconds);
    return new AuthenticationError(INVALID_ID_TOKEN);
  }

  /** The provider's keys and algorithms, from its discovery document (cached; a failure is not retried for the cooldown). */
  private async keysOf(provider: OidcProvider): Promise<ProviderKeys> {
    const now = this.now();
    const blockedUntil = this.failedUntil.get(provider.issuer);
    if (blockedUntil !== undefined && now < blockedUntil)
      throw new BackendUnavailableError(
        'identity provider discovery',
        {},
        Math.max(1, Math.ceil((blockedUntil - now) / 1000)),
      );
    let entry = this.discovered.get(provider.issuer);
    const cached = entry ? await entry.catch(() => undefined) : undefined;
    if (!entry || !cached || now - cached.fetchedAt > this.cacheMaxAgeMs) {
      entry = this.discover(provider.issuer, now);
      this.discovered.set(provider.issuer, entry);
    }
    try {
      return await entry;
    } catch (error) {
      this.discovered.delete(provider.issuer);
      this.failedUntil.set(provider.issuer, now + this.cooldownMs);
      throw error instanceof BackendUnavailableError
        ? error
        : new BackendUnavailableError('identity provider discovery', { cause: error }, this.retryAfterSeconds);
    }
  }

  private async discover(issuer: string, now: number): Promise<ProviderKeys> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const document = (await response.json()) as Record<string, unknown>;
    // OpenID Connect Discovery 4.3: the document's issuer is exactly the configured one.
    if (document.issuer !== issuer) throw new Error('discovery names another issuer');
    const jwksUri = document.jwks_uri;
    if (typeof jwksUri !== 'string' || !sameSchemeClass(issuer, jwksUri))
      throw new Error('discovery has no usable jwks_uri');
    const published = document.id_token_signing_alg_values_supported;
    const offered = Array.isArray(published)
      ? published.filter((alg): alg is string => typeof alg === 'string')
      : ['RS256'];
    const algorithms = ASYMMETRIC_ALGORITHMS.filter((alg) => offered.includes(alg));
    if (algorithms.length === 0) throw new Error('the provider publishes no asymmetric algorithm');
    const keys = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.timeoutMs,
      cooldownDuration: this.cooldownMs,
      cacheMaxAge: this.cacheMaxAgeMs,
    });
    return { issuer, algorithms, keys, fetchedAt: now };
  }
}

/** An https issuer's keys come over https; the sandbox's loopback issuer may serve them over http on loopback. */
function sameSchemeClass(issuer: string, jwksUri: string): boolean {
  if (jwksUri.startsWith('https://')) return true;
  return issuer.startsWith('http://127.0.0.1:') && jwksUri.startsWith('http://127.0.0.1:');
}

/** The checks that need no key: size, shape, header (`alg`, `kid`) and `iss`. Throws the one 401. */
export function precheck(provider: OidcProvider, idToken: string): void {
  const refuse = () => new AuthenticationError(INVALID_ID_TOKEN);
  if (typeof idToken !== 'string' || idToken.length > OIDC_ID_TOKEN_MAX_CHARACTERS || !TOKEN_SHAPE.test(idToken))
    throw refuse();
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(idToken);
    payload = decodeJwt(idToken);
  } catch {
    throw refuse();
  }
  if (typeof header.alg !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(header.alg))
    throw refuse();
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256) throw refuse();
  if (payload.iss !== provider.issuer) throw refuse();
}

/** The claims the TVM uses, checked beyond what jwtVerify checks: `sub`, `nonce`, `azp`, `amr`. */
function claimsOf(provider: OidcProvider, payload: JWTPayload): VerifiedIdentity {
  const refuse = () => new AuthenticationError(INVALID_ID_TOKEN);
  const { sub, nonce, azp, aud, amr } = payload as JWTPayload & { nonce?: unknown; azp?: unknown; amr?: unknown };
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > SUBJECT_MAX_CHARACTERS) throw refuse();
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 256) throw refuse();
  // OpenID Connect Core 3.1.3.7: with several audiences, azp names the client; when present, it is ours.
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (audiences.length > 1 && azp === undefined) throw refuse();
  if (azp !== undefined && (typeof azp !== 'string' || !provider.audiences.includes(azp))) throw refuse();
  const methods = Array.isArray(amr) ? amr.filter((method): method is string => typeof method === 'string') : [];
  return { issuer: provider.issuer, subject: sub, nonce, methods };
}

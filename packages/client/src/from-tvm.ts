/**
 * An AWS SDK v3 credential provider backed by the TVM:
 *
 * ```ts
 * const credentials = fromTvm(tvm);
 * const s3 = new S3Client({ credentials, region: (await credentials.storage()).region });
 * ```
 *
 * The provider's shape is AWS SDK v3's `AwsCredentialIdentityProvider` (from `@smithy/types`),
 * restated here structurally so the client package depends on nothing.
 */
import { LoginRequiredError } from './errors';
import { isTransient } from './retry';
import type { SessionEvent, TvmClient } from './tvm-client';
import type { StorageInfo, VendResult } from './types';

/** AWS SDK v3's `AwsCredentialIdentity`, as this provider fills it. */
export interface TvmCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When AWS stops accepting these credentials. */
  readonly expiration: Date;
}

/** Options of {@link fromTvm}. */
export interface FromTvmOptions {
  /**
   * Fetch new credentials this long before the current ones expire, so no request is ever
   * signed with credentials about to lapse in flight. Default 300,000 ms (five minutes),
   * which matches when the AWS SDK itself starts asking for fresh credentials.
   */
  readonly refreshBeforeExpiryMs?: number;
  /**
   * When a refresh fails transiently (503, network, timeout) and the cached credentials are
   * still valid for at least this long, they are returned instead of the error, so a short
   * TVM outage does not stop S3 calls. Default 60,000 ms.
   */
  readonly minimumRemainingMs?: number;
  /**
   * After a refresh failed transiently while the cached credentials still work, the next
   * `/token` attempt waits this long, doubling per failure up to `maxRefreshBackoffMs`, so an
   * offline app does not spend every S3 call waiting for the TVM. Default 2,000 ms.
   */
  readonly refreshBackoffMs?: number;
  /** The longest wait between two refresh attempts while offline. Default 60,000 ms. */
  readonly maxRefreshBackoffMs?: number;
  /** The current time in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** A snapshot of what the provider holds, read without any network call. */
export interface TvmCredentialSnapshot {
  readonly expiration: Date;
  readonly storage: StorageInfo;
}

/**
 * An `AwsCredentialIdentityProvider` for AWS SDK v3 clients, plus the storage details that
 * came with the credentials.
 */
export interface TvmCredentialProvider {
  /**
   * Resolves credentials: cached while fresh, else one shared `/token` call. `{forceRefresh: true}`
   * skips the cache; add `credentialsRefused: true` when S3 refused the cached ones, so a failed
   * refresh is thrown rather than answered with them.
   */
  (identityProperties?: Record<string, unknown>): Promise<TvmCredentialIdentity>;
  /** This user's bucket, prefix, region and (locally) endpoint; fetches credentials first if none are cached. */
  storage(): Promise<StorageInfo>;
  /** What is cached now, or undefined. Never calls the TVM; for display ("valid until 14:05"). */
  cached(): TvmCredentialSnapshot | undefined;
  /** Drops the cached credentials; the next call fetches new ones. Logout does this by itself. */
  forget(): void;
  /** Stops listening to the client's login and logout events. */
  dispose(): void;
}

interface CacheEntry {
  readonly identity: TvmCredentialIdentity;
  readonly storage: StorageInfo;
}

/**
 * Creates a credential provider for AWS SDK v3 clients from a {@link TvmClient}.
 *
 * - Caches the credentials and refreshes them `refreshBeforeExpiryMs` before they expire.
 * - However many calls wait at once, only one `/token` request is in flight.
 * - A register or login seeds the cache with the credentials it returned (no extra round
 *   trip); a logout or a refused session forgets them at once, and a `/token` answer that
 *   arrives after the logout is thrown away.
 * - With no session, or when the TVM refuses it (401), it throws {@link LoginRequiredError}
 *   (`code: 'login_required'`): show the login screen.
 * - Offline (the TVM unreachable or answering 503), it keeps handing out the cached
 *   credentials while they still work, and tries `/token` again with a growing backoff; only
 *   once they have run out does it throw the network error. It never ends the session itself.
 * - A refresh for credentials S3 refused (`{forceRefresh: true, credentialsRefused: true}`, as
 *   the storage helpers send) never answers with the cached ones: a 503 (with the Retry-After
 *   the TVM sent, e.g. while a credential cut-off instant still lies ahead) is thrown for the
 *   caller to wait out.
 */
export function fromTvm(client: TvmClient, options: FromTvmOptions = {}): TvmCredentialProvider {
  const refreshBeforeExpiryMs = options.refreshBeforeExpiryMs ?? 300_000;
  const minimumRemainingMs = options.minimumRemainingMs ?? 60_000;
  const now = options.now ?? Date.now;
  const refreshBackoffMs = options.refreshBackoffMs ?? 2_000;
  const maxRefreshBackoffMs = options.maxRefreshBackoffMs ?? 60_000;

  let cache: CacheEntry | undefined;
  let inFlight: Promise<TvmCredentialIdentity> | undefined;
  // Bumped on every login and logout; a /token answer from an older generation is discarded.
  let generation = 0;
  // While offline: no /token attempt before this instant, and the wait after the next failure.
  let refreshNotBefore = 0;
  let nextBackoffMs = refreshBackoffMs;

  const remainingMs = (entry: CacheEntry): number => entry.identity.expiration.getTime() - now();

  const refresh = (refused: boolean): Promise<TvmCredentialIdentity> => {
    const started = generation;
    // Credentials S3 just refused are no fallback.
    const previous = refused ? undefined : cache;
    const request = client
      .token()
      .then(
        (vend) => {
          if (started !== generation) {
            // The session changed meanwhile: these credentials belong to the previous one. A new
            // login has seeded the cache with its own; after a logout there is nothing to give.
            const current = cache;
            if (current) return current.identity;
            throw new LoginRequiredError('Login required: the session ended while credentials were being fetched.');
          }
          cache = toCacheEntry(vend);
          refreshNotBefore = 0;
          nextBackoffMs = refreshBackoffMs;
          return cache.identity;
        },
        (error: unknown) => {
          if (started === generation && previous && isTransient(error) && remainingMs(previous) >= minimumRemainingMs) {
            refreshNotBefore = now() + nextBackoffMs;
            nextBackoffMs = Math.min(maxRefreshBackoffMs, nextBackoffMs * 2);
            return previous.identity;
          }
          throw error;
        },
      )
      .finally(() => {
        if (inFlight === request) inFlight = undefined;
      });
    inFlight = request;
    return request;
  };

  const provider = ((identityProperties?: Record<string, unknown>): Promise<TvmCredentialIdentity> => {
    const forceRefresh = identityProperties?.['forceRefresh'] === true;
    if (cache && !forceRefresh) {
      const left = remainingMs(cache);
      // Fresh; or due for renewal, but the TVM was unreachable a moment ago and these still work.
      if (left > refreshBeforeExpiryMs || (now() < refreshNotBefore && left >= minimumRemainingMs))
        return Promise.resolve(cache.identity);
    }
    return inFlight ?? refresh(identityProperties?.['credentialsRefused'] === true);
  }) as TvmCredentialProvider;
  // The AWS SDK wraps a plain provider in a cache of its own, kept per client until five minutes
  // before expiry, which would keep signing with the previous user's keys after a logout and a
  // new login. This flag (the one the SDK's own self-caching providers carry) tells it that the
  // provider caches already, so every request asks this provider and sees login and logout.
  Object.defineProperty(provider, 'memoized', { value: true, writable: true, configurable: true });

  const forget = (): void => {
    generation++;
    cache = undefined;
    inFlight = undefined;
    refreshNotBefore = 0;
    nextBackoffMs = refreshBackoffMs;
  };

  const unsubscribe = client.onSessionChange((event: SessionEvent) => {
    forget();
    if (event.type === 'signedIn') cache = toCacheEntry(event.result);
  });

  // A function, not a read of `cache`, because TypeScript keeps its narrowing across an await.
  const current = (): CacheEntry | undefined => cache;

  provider.storage = async () => {
    await provider();
    // A logout can land between the fetch and here.
    const entry = current();
    if (!entry) throw new LoginRequiredError();
    return entry.storage;
  };
  provider.cached = () => (cache ? { expiration: cache.identity.expiration, storage: cache.storage } : undefined);
  provider.forget = forget;
  provider.dispose = unsubscribe;
  return provider;
}

function toCacheEntry(vend: VendResult): CacheEntry {
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = vend.credentials;
  return {
    identity: { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration.getTime()) },
    storage: vend.storage,
  };
}

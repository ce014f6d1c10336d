/**
 * An AWS SDK v3 credential provider for a share this user received, like {@link fromTvm} for
 * the user's own folder:
 *
 * ```ts
 * const credentials = fromShare(tvm, shareId);
 * const info = await credentials.storage(); // bucket, prefix (the shared path), access, expiresAt
 * const s3 = new S3Client({ credentials, region: info.region });
 * ```
 */
import { InvalidCredentialsError, LoginRequiredError, NotFoundError, ShareEndedError } from './errors';
import type { TvmCredentialIdentity, TvmCredentialProvider, TvmCredentialSnapshot } from './from-tvm';
import { isTransient } from './retry';
import { TvmShares } from './sharing';
import type { TvmClient } from './tvm-client';
import type { ShareAccess, ShareCredentialsResult, ShareStorageInfo } from './types';

/** Options of {@link fromShare}. */
export interface FromShareOptions {
  /** Fetch new credentials this long before the current ones expire. Default 300,000 ms (five minutes). */
  readonly refreshBeforeExpiryMs?: number;
  /**
   * When a refresh fails transiently and the cached credentials still work for at least this
   * long, they are returned instead of the error. Default 60,000 ms.
   */
  readonly minimumRemainingMs?: number;
  /**
   * The share's end as the app already knows it (`ShareSummary.expiresAt` from `TvmShares.list`),
   * so a share that is over is refused before any call. The TVM's answer replaces it.
   */
  readonly expiresAt?: string | Date | null;
  /** The current time in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** Where a share's files are, and what the share allows. */
export interface ShareInfo extends ShareStorageInfo {
  readonly shareId: string;
  readonly access: ShareAccess;
  /** When the share ends, or null when it lasts until revoked. */
  readonly expiresAt: Date | null;
  /** `file` when the share is one object (`prefix` is its key; no listing), else `folder`. */
  readonly kind: 'file' | 'folder';
}

/** A credential provider for one share: the AWS SDK's provider shape, plus the share's details. */
export interface ShareCredentialProvider extends TvmCredentialProvider {
  /** The share's bucket, prefix, access and end; fetches credentials first if none are cached. */
  storage(): Promise<ShareInfo>;
  cached(): (TvmCredentialSnapshot & { readonly storage: ShareInfo }) | undefined;
}

interface CacheEntry {
  readonly identity: TvmCredentialIdentity;
  readonly info: ShareInfo;
}

/**
 * Creates a credential provider for the share `shareId` (one received by the logged-in user).
 *
 * - The credentials handed out never outlast the share: their `expiration` is the earlier of
 *   STS's and the share's end (S3 refuses them after the share's end in any case).
 * - Cached, and refreshed `refreshBeforeExpiryMs` before they expire, unless that expiry is the
 *   share's end (nothing newer could last longer); one call in flight however many wait.
 * - After the share's end it throws {@link ShareEndedError} without calling the TVM; a 404 from
 *   the TVM (revoked, left, expired, an account gone) throws it too, and is remembered.
 * - A refused session (401) is judged by `client.token()`, which ends the session and throws
 *   LoginRequiredError; a login or logout forgets everything cached.
 * - Offline, it keeps the cached credentials while they still work (`minimumRemainingMs`).
 */
export function fromShare(client: TvmClient, shareId: string, options: FromShareOptions = {}): ShareCredentialProvider {
  const refreshBeforeExpiryMs = options.refreshBeforeExpiryMs ?? 300_000;
  const minimumRemainingMs = options.minimumRemainingMs ?? 60_000;
  const now = options.now ?? Date.now;
  const shares = new TvmShares(client);
  const hinted = options.expiresAt;

  let cache: CacheEntry | undefined;
  let inFlight: Promise<TvmCredentialIdentity> | undefined;
  let generation = 0;
  // The share's end as last known (the hint, then the TVM's answer); null: until revoked.
  let shareEnd: number | null | undefined =
    hinted === undefined ? undefined : hinted === null ? null : new Date(hinted).getTime();
  let ended: ShareEndedError | undefined;

  const over = (): ShareEndedError | undefined => {
    if (ended) return ended;
    if (typeof shareEnd === 'number' && now() >= shareEnd) {
      return new ShareEndedError(shareId, `This share ended at ${new Date(shareEnd).toISOString()}.`);
    }
    return undefined;
  };

  const fetchFresh = async (): Promise<ShareCredentialsResult> => {
    try {
      return await shares.credentials(shareId);
    } catch (error) {
      if (error instanceof NotFoundError) {
        ended = new ShareEndedError(shareId, undefined, { status: 404, cause: error });
        throw ended;
      }
      if (error instanceof InvalidCredentialsError) {
        // The session is refused: /token says so for the whole client (and ends the session).
        await client.token();
        throw new LoginRequiredError(undefined, { status: 401, cause: error });
      }
      throw error;
    }
  };

  const refresh = (refused: boolean): Promise<TvmCredentialIdentity> => {
    const started = generation;
    const previous = refused ? undefined : cache;
    const request = fetchFresh()
      .then(
        (result) => {
          if (started !== generation)
            throw new LoginRequiredError('The session changed while share credentials were being fetched.');
          cache = toCacheEntry(shareId, result);
          shareEnd = cache.info.expiresAt === null ? null : cache.info.expiresAt.getTime();
          return cache.identity;
        },
        (error: unknown) => {
          if (
            started === generation &&
            previous &&
            isTransient(error) &&
            previous.identity.expiration.getTime() - now() >= minimumRemainingMs
          ) {
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
    const stop = over();
    if (stop) {
      cache = undefined;
      return Promise.reject(stop);
    }
    const forceRefresh = identityProperties?.['forceRefresh'] === true;
    if (cache && !forceRefresh) {
      const expiresAt = cache.identity.expiration.getTime();
      const endsWithShare = typeof shareEnd === 'number' && expiresAt >= shareEnd;
      // Fresh; or due, but these already last as long as the share itself.
      if (expiresAt - now() > refreshBeforeExpiryMs || (endsWithShare && expiresAt > now()))
        return Promise.resolve(cache.identity);
    }
    return inFlight ?? refresh(identityProperties?.['credentialsRefused'] === true);
  }) as ShareCredentialProvider;
  // As in fromTvm: this provider caches, so the SDK must ask it on every request.
  Object.defineProperty(provider, 'memoized', { value: true, writable: true, configurable: true });

  const forget = (): void => {
    generation++;
    cache = undefined;
    inFlight = undefined;
    ended = undefined;
  };
  const unsubscribe = client.onSessionChange(forget);
  const current = (): CacheEntry | undefined => cache;

  provider.storage = async () => {
    await provider();
    const entry = current();
    if (!entry) throw new LoginRequiredError();
    return entry.info;
  };
  provider.cached = () => (cache ? { expiration: cache.identity.expiration, storage: cache.info } : undefined);
  provider.forget = forget;
  provider.dispose = unsubscribe;
  return provider;
}

function toCacheEntry(shareId: string, result: ShareCredentialsResult): CacheEntry {
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = result.credentials;
  const end = result.expiresAt === null ? null : new Date(result.expiresAt);
  // Never hand out an expiration past the share's end: S3 refuses them from then on anyway.
  const until = end && end.getTime() < expiration.getTime() ? end : expiration;
  return {
    identity: { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(until.getTime()) },
    info: {
      ...result.storage,
      shareId,
      access: result.access,
      expiresAt: end,
      kind: result.storage.prefix.endsWith('/') ? 'folder' : 'file',
    },
  };
}

/**
 * How one S3 request survives what a phone or a laptop meets: credentials cut off or rotated
 * under it (fetch fresh ones once and send again), and the network or the TVM dropping for a
 * while (wait with backoff, report offline, send again when it is back). Only a 401 from the
 * TVM ends the session; the wait never does.
 */
import {
  AccessCutOffError,
  isTransient,
  LoginRequiredError,
  QuotaExceededError,
  TvmClientError,
  type Connectivity,
  type StorageUsage,
} from '../index';
import { AbortedError, StorageUnreachableError } from './errors';

/** How long and how often to try again while the network is down. */
export interface RecoveryPolicy {
  /** The first wait after a failure. Default 500 ms; it doubles per failure. */
  readonly initialDelayMs: number;
  /** The longest wait between two attempts. Default 15,000 ms. */
  readonly maxDelayMs: number;
  /** How long to keep trying before giving up with StorageUnreachableError. Default 15 minutes. */
  readonly patienceMs: number;
}

/** The defaults of {@link RecoveryPolicy}. */
export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  patienceMs: 15 * 60_000,
};

/** What {@link sendWithRecovery} needs besides the request. */
export interface RecoveryContext {
  readonly policy: RecoveryPolicy;
  readonly connectivity: Connectivity;
  /**
   * Fetches fresh credentials, skipping the cache and never falling back to it (the provider's
   * `{forceRefresh: true, credentialsRefused: true}`).
   */
  readonly refreshCredentials: () => Promise<unknown>;
  /**
   * Given for a write (an upload, a new folder): the `storage.usage` that came with the
   * credentials held now, so a refusal of an over-quota folder is told apart from a cut-off.
   */
  readonly writeUsage?: () => StorageUsage | undefined;
  readonly signal?: AbortSignal;
  readonly now: () => number;
  readonly random: () => number;
}

/** S3's answers that mean "these credentials are no good (any more)". */
const CREDENTIAL_REFUSALS = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
]);

/** Error codes of a request that got no answer at all (Node's sockets, browsers' fetch). */
const NO_ANSWER_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

interface ErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function shape(error: unknown): ErrorShape {
  return typeof error === 'object' && error !== null ? (error as ErrorShape) : {};
}

function statusOf(error: unknown): number | undefined {
  return shape(error).$metadata?.httpStatusCode;
}

/** S3 refused the request's credentials (a 403 on one's own folder, an expired or unknown key). */
export function isCredentialRefusal(error: unknown): boolean {
  const { name } = shape(error);
  if (typeof name === 'string' && CREDENTIAL_REFUSALS.has(name)) return true;
  // A HEAD has no body, so S3 can only say 403.
  return statusOf(error) === 403;
}

/** The request never got an answer: no network, a reset connection, a timeout. */
export function isNoAnswer(error: unknown): boolean {
  for (
    let current: unknown = error, depth = 0;
    current !== undefined && depth < 4;
    current = shape(current).cause, depth++
  ) {
    const { name, code, message } = shape(current);
    if (typeof code === 'string' && NO_ANSWER_CODES.has(code)) return true;
    // Browsers' fetch says only "TypeError: Failed to fetch"; Node's says "fetch failed".
    if (name === 'TypeError' && statusOf(current) === undefined) return true;
    if (name === 'TimeoutError' || name === 'RequestTimeout') return true;
    if (
      typeof message === 'string' &&
      /socket hang up|network|ECONNRESET|ECONNREFUSED/i.test(message) &&
      statusOf(current) === undefined
    )
      return true;
  }
  return false;
}

/** Worth waiting for: no answer, a 5xx or throttling from S3, or the TVM unreachable or busy. */
export function isWorthWaitingFor(error: unknown): boolean {
  if (isTransient(error) || isNoAnswer(error)) return true;
  const status = statusOf(error);
  return (status !== undefined && status >= 500) || shape(error).name === 'SlowDown';
}

/** A QuotaExceededError when the request is a write and the held credentials' usage is over quota. */
function overQuota(
  context: RecoveryContext,
  details: { status: number; cause: unknown },
): QuotaExceededError | undefined {
  const usage = context.writeUsage?.();
  return usage?.overQuota ? new QuotaExceededError(usage, undefined, details) : undefined;
}

/** Resolves after `ms`, or rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sends with recovery:
 * - a credential refusal: fresh credentials are fetched once (a 401 there ends the session
 *   with LoginRequiredError; a 503, e.g. while a cut-off instant still lies ahead, is waited
 *   out for at least its Retry-After and the fetch tried again), then the request is sent
 *   again; refused again with those fresh credentials, access was cut off: AccessCutOffError,
 *   never retried;
 * - a refused write while the fresh (or, refused again, the latest) credentials' `usage` says
 *   the folder is over its quota: QuotaExceededError, never retried (the TVM vends no write
 *   until files are deleted below the quota);
 * - no answer, a 5xx, throttling, or the TVM unreachable: connectivity goes offline, and the
 *   request is sent again after an exponential backoff with jitter, until it gets through
 *   (online again) or `patienceMs` has passed (StorageUnreachableError);
 * - an abort: AbortedError at once, also in the middle of a wait;
 * - anything else (NoSuchKey, a 4xx): thrown as it is.
 */
export async function sendWithRecovery<T>(send: () => Promise<T>, context: RecoveryContext): Promise<T> {
  const { policy, connectivity, signal } = context;
  let refreshed = false;
  let delayMs = policy.initialDelayMs;
  let firstFailureAt: number | undefined;
  for (;;) {
    if (signal?.aborted) throw new AbortedError();
    let failure: unknown;
    try {
      const result = await send();
      connectivity.markOnline();
      return result;
    } catch (error) {
      failure = error;
    }
    if (signal?.aborted) throw new AbortedError();
    if (failure instanceof LoginRequiredError || failure instanceof AccessCutOffError) throw failure;
    if (isCredentialRefusal(failure)) {
      const details = { status: statusOf(failure) ?? 403, cause: failure };
      // Refused with credentials the TVM issued just now: no wait or retry will change that.
      if (refreshed) throw overQuota(context, details) ?? new AccessCutOffError(undefined, details);
      let fetched = false;
      try {
        await context.refreshCredentials();
        fetched = true;
      } catch (error) {
        if (!isWorthWaitingFor(error)) throw error;
        // Waited out below; the next refusal fetches again.
        failure = error;
      }
      if (fetched) {
        // The fresh credentials carry no write while the folder is over its quota: sending again cannot work.
        const quota = overQuota(context, details);
        if (quota) throw quota;
        refreshed = true;
        continue;
      }
    }
    if (!isWorthWaitingFor(failure)) {
      if (statusOf(failure) !== undefined) connectivity.markOnline();
      throw failure;
    }
    if (isNoAnswer(failure)) connectivity.markOffline();
    firstFailureAt ??= context.now();
    const waitedMs = context.now() - firstFailureAt;
    if (waitedMs >= policy.patienceMs) throw new StorageUnreachableError(waitedMs, failure);
    // Half fixed, half random: a crowd coming back from one outage spreads out. A Retry-After
    // from the TVM is a floor.
    const retryAfterMs =
      failure instanceof TvmClientError && failure.retryAfterSeconds !== undefined
        ? failure.retryAfterSeconds * 1000
        : 0;
    await sleep(Math.max(retryAfterMs, delayMs / 2 + context.random() * (delayMs / 2)), signal);
    delayMs = Math.min(policy.maxDelayMs, delayMs * 2);
  }
}

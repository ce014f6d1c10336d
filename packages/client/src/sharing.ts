/**
 * Sharing from an app: shares of a file or folder with another user (`TvmShares`) and links
 * to one file that anyone holding them can open (`TvmLinks`). The contract is the server's
 * docs/api.md; the credentials of a share are {@link fromShare}'s business.
 *
 * ```ts
 * const shares = new TvmShares(client);
 * const share = await shares.create({ path: 'photos/', grantee: 'bob', access: 'read' });
 * const { given, received } = await shares.list();
 * await shares.revoke(share.id);
 * ```
 */
import { parseStorageUsage } from './usage';
import { UnexpectedResponseError } from './errors';
import {
  SHARE_ACCESS_LEVELS,
  type LinkCreated,
  type LinkList,
  type LinkSummary,
  type RequestPlan,
  type ShareAccess,
  type ShareCredentialsResult,
  type ShareList,
  type ShareSummary,
} from './types';

/**
 * What the sharing helpers need of their client: its transport with the session's bearer
 * token (a `TvmClient`, named by shape so this module and the client's do not import each other).
 */
export interface SharingClientSide {
  call(plan: Omit<RequestPlan, 'bearer'> & { readonly bearer?: boolean }): Promise<unknown>;
}

/** When a share or link ends: a `Date`, an ISO 8601 string, or nothing (until revoked). */
export type EndsAt = Date | string | undefined;

/** What {@link TvmShares.create} takes. */
export interface NewShare {
  /** Relative to the caller's folder: `""` (all of it), a folder ending in `/` (`photos/`), or one file (`photos/a.jpg`). */
  readonly path: string;
  /** The username of the person the share is for. */
  readonly grantee: string;
  readonly access: ShareAccess;
  /** In the future, at most a year ahead; absent for a share that lasts until revoked. */
  readonly expiresAt?: EndsAt;
}

/** What {@link TvmLinks.create} takes. */
export interface NewLink {
  /** One file, relative to the caller's folder (`photos/a.jpg`). */
  readonly path: string;
  /** In the future, at most a year ahead; absent for a link that lasts until revoked. */
  readonly expiresAt?: EndsAt;
}

function malformed(what: string): UnexpectedResponseError {
  return new UnexpectedResponseError(`The token vending machine sent a malformed ${what}.`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

const isIso = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));
const isEnd = (value: unknown): value is string | null => value === null || isIso(value);

function optionalStrings<K extends string>(
  body: Record<string, unknown>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw malformed('share or link');
    out[key] = value;
  }
  return out;
}

/** Reads one share as the API sends it, keeping only the documented fields. */
export function parseShareSummary(body: unknown): ShareSummary {
  if (!isRecord(body)) throw malformed('share');
  const { id, owner, path, grantee, access, expiresAt, createdAt } = body;
  if (
    typeof id !== 'string' ||
    typeof owner !== 'string' ||
    typeof path !== 'string' ||
    typeof grantee !== 'string' ||
    !SHARE_ACCESS_LEVELS.includes(access as ShareAccess) ||
    !isEnd(expiresAt) ||
    !isIso(createdAt)
  ) {
    throw malformed('share');
  }
  return {
    id,
    owner,
    path,
    grantee,
    access: access as ShareAccess,
    expiresAt,
    createdAt,
    ...optionalStrings(body, ['lastUsedAt', 'lastUsedBy'] as const),
  };
}

/** Reads `GET /shares`' answer. */
export function parseShareList(body: unknown): ShareList {
  if (!isRecord(body) || !Array.isArray(body['given']) || !Array.isArray(body['received']))
    throw malformed('share list');
  return { given: body['given'].map(parseShareSummary), received: body['received'].map(parseShareSummary) };
}

/** Reads `POST /shares/{id}/credentials`' answer; `expiration` becomes a `Date`. */
export function parseShareCredentials(body: unknown): ShareCredentialsResult {
  if (!isRecord(body)) throw malformed('share credentials answer');
  const { credentials, storage, access, expiresAt } = body;
  if (
    !isRecord(credentials) ||
    typeof credentials['accessKeyId'] !== 'string' ||
    typeof credentials['secretAccessKey'] !== 'string' ||
    typeof credentials['sessionToken'] !== 'string' ||
    !isIso(credentials['expiration'])
  ) {
    throw malformed('share credentials answer');
  }
  if (
    !isRecord(storage) ||
    typeof storage['bucket'] !== 'string' ||
    typeof storage['prefix'] !== 'string' ||
    typeof storage['region'] !== 'string' ||
    (storage['endpoint'] !== undefined && typeof storage['endpoint'] !== 'string') ||
    !SHARE_ACCESS_LEVELS.includes(access as ShareAccess) ||
    !isEnd(expiresAt)
  ) {
    throw malformed('share credentials answer');
  }
  const endpoint = storage['endpoint'];
  return {
    credentials: {
      accessKeyId: credentials['accessKeyId'],
      secretAccessKey: credentials['secretAccessKey'],
      sessionToken: credentials['sessionToken'],
      expiration: new Date(credentials['expiration']),
    },
    storage: {
      bucket: storage['bucket'],
      prefix: storage['prefix'],
      region: storage['region'],
      ...(typeof endpoint === 'string' ? { endpoint } : {}),
      usage: parseStorageUsage(storage['usage']),
    },
    access: access as ShareAccess,
    expiresAt,
  };
}

/** Reads `POST /links`' answer. */
export function parseLinkCreated(body: unknown): LinkCreated {
  if (!isRecord(body)) throw malformed('link');
  const { id, url, expiresAt } = body;
  if (typeof id !== 'string' || typeof url !== 'string' || !isEnd(expiresAt)) throw malformed('link');
  return { id, url, expiresAt };
}

/** Reads one entry of `GET /links`. */
export function parseLinkSummary(body: unknown): LinkSummary {
  const created = parseLinkCreated(body);
  const { path, createdAt } = body as Record<string, unknown>;
  if (typeof path !== 'string' || !isIso(createdAt)) throw malformed('link');
  return {
    ...created,
    path,
    createdAt,
    ...optionalStrings(body as Record<string, unknown>, ['lastUsedAt', 'lastUsedBy'] as const),
  };
}

/** Reads `GET /links`' answer. */
export function parseLinkList(body: unknown): LinkList {
  if (!isRecord(body) || !Array.isArray(body['links'])) throw malformed('link list');
  return { links: body['links'].map(parseLinkSummary) };
}

/** The wire form of an end: ISO 8601, or nothing. */
function endField(expiresAt: EndsAt): { expiresAt?: string } {
  if (expiresAt === undefined) return {};
  return { expiresAt: typeof expiresAt === 'string' ? expiresAt : expiresAt.toISOString() };
}

/** The id in a route's path; ids are base64url, but encoding keeps any other string a single segment. */
const segment = (id: string): string => encodeURIComponent(id);

/**
 * Shares on a `TvmClient`'s transport and session. Errors are the client's: InvalidRequestError
 * (`field` says which: `path`, `grantee` "no such user", `access`, `expiresAt`),
 * LimitReachedError (the per-owner limit), NotFoundError (an id that is not one of yours),
 * LoginRequiredError without a session.
 */
export class TvmShares {
  constructor(private readonly client: SharingClientSide) {}

  /**
   * Shares a file or folder of the caller's own with another user. Retried only on a 503 with
   * Retry-After (the TVM did nothing): a lost answer may already have created the share.
   */
  async create(share: NewShare): Promise<ShareSummary> {
    const body = { path: share.path, grantee: share.grantee, access: share.access, ...endField(share.expiresAt) };
    return parseShareSummary(await this.client.call({ path: '/shares', body, bearer: true, retry: 'retry-after' }));
  }

  /** The shares this user gave (`given`, with when and by whom each was last used) and received. Retried on transient failures. */
  async list(): Promise<ShareList> {
    return parseShareList(await this.client.call({ method: 'GET', path: '/shares', bearer: true, retry: true }));
  }

  /**
   * Ends a share: the owner revokes it, the grantee leaves it (the same call). Credentials
   * already issued for it stop working (docs/api.md says how soon on AWS). Retried on transient
   * failures; a NotFoundError then may mean an earlier attempt already ended it.
   */
  async revoke(id: string): Promise<void> {
    await this.client.call({ method: 'DELETE', path: `/shares/${segment(id)}`, bearer: true, retry: true });
  }

  /** The grantee's word for {@link revoke}: the share leaves their list (and the owner's). */
  async leave(id: string): Promise<void> {
    await this.revoke(id);
  }

  /**
   * AWS credentials for a share received: they reach exactly the shared path, with the shared
   * access, and stop at the share's end. Retried on transient failures. For an AWS SDK client
   * use {@link fromShare}, which caches and refreshes them.
   * @throws NotFoundError when the share is not one received by this user, or is over.
   */
  async credentials(id: string): Promise<ShareCredentialsResult> {
    return parseShareCredentials(
      await this.client.call({ path: `/shares/${segment(id)}/credentials`, bearer: true, retry: true }),
    );
  }
}

/** Share links (one file, opened by anyone holding the URL) on a `TvmClient`'s transport and session. */
export class TvmLinks {
  constructor(private readonly client: SharingClientSide) {}

  /**
   * A link to one of the caller's files: `url` answers with a redirect to the file, valid a few
   * minutes each time, until the link is revoked or ends. Retried only on a 503 with Retry-After.
   */
  async create(link: NewLink): Promise<LinkCreated> {
    const body = { path: link.path, ...endField(link.expiresAt) };
    return parseLinkCreated(await this.client.call({ path: '/links', body, bearer: true, retry: 'retry-after' }));
  }

  /** This user's links, with when and from where each was last opened. Retried on transient failures. */
  async list(): Promise<LinkList> {
    return parseLinkList(await this.client.call({ method: 'GET', path: '/links', bearer: true, retry: true }));
  }

  /** Revokes a link: its URL answers 404 from now on (a redirect already followed lives out its few minutes). */
  async revoke(id: string): Promise<void> {
    await this.client.call({ method: 'DELETE', path: `/links/${segment(id)}`, bearer: true, retry: true });
  }
}

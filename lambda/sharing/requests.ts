/**
 * Sharing's part of a request: the bodies of `POST /shares` and `POST /links`, an expiry as
 * sent, and a share or link id from a path. Shapes and ranges only; whether the grantee exists
 * or the share is the caller's is the service's to say.
 */
import { randomBytes } from 'node:crypto';
import { parseUsername, type Username } from '../accounts/username';
import { EXPIRES_AT_MAX_CHARACTERS, GRANT_ID_CHARACTERS, SHARE_MAX_LIFETIME_DAYS } from '../contract/limits';
import { SHARE_ACCESS_LEVELS, type ShareAccess } from '../contract/wire';
import { ValidationError } from '../platform/errors';
import { parseSharePath, type SharePath } from './share-path';

const DAY_MS = 86_400_000;

/**
 * RFC 3339's date-time (the ISO 8601 profile the web uses): a full date, a time to the second
 * with an optional fraction, and `Z` or a numeric offset. Checked before Date.parse, which
 * accepts other forms that name different instants on different engines.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** Days in a month of the proleptic Gregorian calendar (`month` 1-12). */
function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Reads an optional expiry: an RFC 3339 date-time with `Z` or an offset, strictly after `now`
 * and at most SHARE_MAX_LIFETIME_DAYS ahead. Returns epoch ms, or undefined when absent.
 * Throws {@link ValidationError} (field `expiresAt`) otherwise.
 */
export function parseExpiresAt(raw: unknown, now: number): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  const field = 'expiresAt';
  if (typeof raw !== 'string' || raw.length > EXPIRES_AT_MAX_CHARACTERS) {
    throw new ValidationError(`${field} must be an ISO 8601 date-time such as 2030-01-31T18:00:00Z.`, field);
  }
  const match = RFC3339.exec(raw);
  const [year, month, day, hour, minute, second] = (match?.slice(1, 7) ?? []).map(Number) as number[];
  const offsetHours = Number(match?.[9] ?? 0);
  const offsetMinutes = Number(match?.[10] ?? 0);
  const valid =
    match !== null &&
    month !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day !== undefined &&
    day >= 1 &&
    day <= daysIn(year as number, month) &&
    (hour as number) <= 23 &&
    (minute as number) <= 59 &&
    (second as number) <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  const at = valid ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(at)) {
    throw new ValidationError(
      `${field} must be an ISO 8601 date-time with Z or an offset, such as 2030-01-31T18:00:00Z.`,
      field,
    );
  }
  if (at <= now) throw new ValidationError(`${field} must be in the future.`, field);
  if (at > now + SHARE_MAX_LIFETIME_DAYS * DAY_MS) {
    throw new ValidationError(`${field} must be at most ${SHARE_MAX_LIFETIME_DAYS} days ahead.`, field);
  }
  return at;
}

/** `POST /shares`, checked. */
export interface ShareCreateRequest {
  readonly path: SharePath;
  readonly grantee: Username;
  readonly access: ShareAccess;
  readonly expiresAt?: number;
}

/** `POST /links`, checked. */
export interface LinkCreateRequest {
  readonly path: SharePath;
  readonly expiresAt?: number;
}

/** Checks the grantee's name (field `grantee`); whether it exists is the service's to say. */
export function parseGrantee(raw: unknown): Username {
  try {
    return parseUsername(raw);
  } catch (error) {
    if (error instanceof ValidationError)
      throw new ValidationError(error.message.replace(/^username/, 'grantee'), 'grantee');
    throw error;
  }
}

/** Checks an access level (field `access`). */
export function parseAccess(raw: unknown): ShareAccess {
  if (typeof raw !== 'string' || !(SHARE_ACCESS_LEVELS as readonly string[]).includes(raw)) {
    throw new ValidationError(`access must be one of ${SHARE_ACCESS_LEVELS.join(', ')}.`, 'access');
  }
  return raw as ShareAccess;
}

/** Reads `POST /shares`' body: the path, the grantee, the access and the optional expiry. */
export function parseShareCreate(
  body: { path?: unknown; grantee?: unknown; access?: unknown; expiresAt?: unknown },
  now: number,
): ShareCreateRequest {
  const path = parseSharePath(body.path);
  const grantee = parseGrantee(body.grantee);
  const access = parseAccess(body.access);
  const expiresAt = parseExpiresAt(body.expiresAt, now);
  return { path, grantee, access, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

/** Reads `POST /links`' body: one file of the caller's folder and the optional expiry. */
export function parseLinkCreate(body: { path?: unknown; expiresAt?: unknown }, now: number): LinkCreateRequest {
  const path = parseSharePath(body.path, 'path', { file: true });
  const expiresAt = parseExpiresAt(body.expiresAt, now);
  return { path, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

const GRANT_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${GRANT_ID_CHARACTERS}}$`);

/** Whether `raw` has the shape of a share or link id (a path parameter): anything else is a 404, never a 400. */
export function isGrantId(raw: unknown): raw is string {
  return typeof raw === 'string' && GRANT_ID_PATTERN.test(raw);
}

/** A new share or link id: 24 random bytes in base64url (192 bits; a link id is a bearer secret). */
export function newGrantId(): string {
  return randomBytes((GRANT_ID_CHARACTERS * 3) / 4).toString('base64url');
}

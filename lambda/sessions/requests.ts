/**
 * The sessions' part of a request: the bearer token of the `Authorization` header and a
 * session id from a path. Shapes only; whether the session exists is the service's to say.
 */
import { ValidationError } from '../platform/errors';
import { isWellFormedSessionToken } from './session-token';

/**
 * Extracts the session token from an `Authorization: Bearer <token>` header. A missing or
 * malformed header is a 401, the same as a wrong token, so probing learns nothing.
 */
export function parseBearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '');
  const token = match?.[1];
  return token !== undefined && isWellFormedSessionToken(token) ? token : undefined;
}

const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** Checks a session id from a path (`DELETE /sessions/{id}`). */
export function parseSessionId(raw: unknown): string {
  if (typeof raw !== 'string' || !SESSION_ID_PATTERN.test(raw)) {
    throw new ValidationError('The session id is not valid.', 'id');
  }
  return raw;
}

/** The derived values of sign-in with a provider: link ids and nonces. Free of HTTP and AWS. */
import { createHash, randomBytes } from 'node:crypto';
import { OIDC_NONCE_CHARACTERS } from '../contract/limits';

/** Characters of a link's public id: a prefix of the base64url SHA-256 of (issuer, subject) (192 bits). */
export const IDENTITY_ID_CHARACTERS = 32;

const IDENTITY_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${IDENTITY_ID_CHARACTERS}}$`);

/**
 * The public, stable id of an identity: a hash of the issuer and the subject, never the subject
 * itself (a subject may be a provider's internal id that apps should not learn from us).
 */
export function identityId(issuer: string, subject: string): string {
  return identityHash(issuer, subject).slice(0, IDENTITY_ID_CHARACTERS);
}

/** The full SHA-256 (base64url) of (issuer, subject): the canonical link's key. */
export function identityHash(issuer: string, subject: string): string {
  return createHash('sha256').update(`${issuer}\n${subject}`, 'utf8').digest('base64url');
}

/** Whether a path's id has the shape of an identity id. */
export function isIdentityId(value: unknown): value is string {
  return typeof value === 'string' && IDENTITY_ID_PATTERN.test(value);
}

/** A new sign-in nonce: 32 random bytes, base64url (43 characters). */
export function newNonce(): string {
  const nonce = randomBytes(32).toString('base64url');
  if (nonce.length !== OIDC_NONCE_CHARACTERS) throw new Error('nonce length drifted from OIDC_NONCE_CHARACTERS');
  return nonce;
}

/** What the store keeps of a nonce: its SHA-256 (base64url), so a table read cannot replay it. */
export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce, 'utf8').digest('base64url');
}

/**
 * Invite codes (docs/operating.md#invites): 128 random bits in base64url, stored only as their
 * SHA-256. Free of HTTP and AWS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { INVITE_CODE_CHARACTERS } from '../contract/limits';
import { ValidationError } from '../platform/errors';

const INVITE_CODE_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${INVITE_CODE_CHARACTERS}}$`);

/** Characters of an invite's public id (`tvm-admin invites list`): a prefix of its hash, never the code. */
export const INVITE_ID_CHARACTERS = 16;

const INVITE_ID_PATTERN = new RegExp(`^[0-9a-f]{${INVITE_ID_CHARACTERS}}$`);

/** A new invite code: 16 random bytes, base64url. */
export function newInviteCode(): string {
  const code = randomBytes(16).toString('base64url');
  if (code.length !== INVITE_CODE_CHARACTERS) throw new Error('invite length drifted from INVITE_CODE_CHARACTERS');
  return code;
}

/** Whether `value` has the shape of an invite code this TVM issues. */
export function isWellFormedInviteCode(value: unknown): value is string {
  return typeof value === 'string' && INVITE_CODE_PATTERN.test(value);
}

/** An optional invite from a request body: absent, or the shape this TVM issues (anything else is a 400). */
export function parseInviteCode(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!isWellFormedInviteCode(raw))
    throw new ValidationError(
      `invite must be an invite code from the operator (${INVITE_CODE_CHARACTERS} characters).`,
      'invite',
    );
  return raw;
}

/** What the store keeps of a code: its SHA-256 (hex), so a table read cannot sign anyone up. */
export function hashInviteCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/** The public id of an invite: the first {@link INVITE_ID_CHARACTERS} hex characters of its hash. */
export function inviteId(codeHash: string): string {
  return codeHash.slice(0, INVITE_ID_CHARACTERS);
}

/** Whether `value` has the shape of an invite id. */
export function isInviteId(value: unknown): value is string {
  return typeof value === 'string' && INVITE_ID_PATTERN.test(value);
}

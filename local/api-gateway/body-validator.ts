/**
 * API Gateway's request validator, for the sandbox: each route's body model (from the one
 * route table) compiled once with ajv, a maintained JSON Schema validator, so the sandbox
 * checks exactly the models the stack deploys and keeps no checker of its own.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { BodySchema } from '../../lambda/contract/routes';

// ajv counts a string's length in code points, as API Gateway's validator does.
const ajv = new Ajv({ allErrors: false, strict: true });
const compiled = new WeakMap<BodySchema, ValidateFunction>();

function describe(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `"${String(params.missingProperty)}" is required`;
    case 'additionalProperties':
      return `"${String(params.additionalProperty)}" is not allowed`;
    case 'type':
      return field === ''
        ? `the body must be a JSON ${String(params.type)}`
        : `"${field}" must be a ${String(params.type)}`;
    case 'minLength':
      return `"${field}" must be at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `"${field}" must be at most ${String(params.limit)} characters`;
    default:
      return `${field === '' ? 'the body' : `"${field}"`} ${error.message ?? 'is not valid'}`;
  }
}

/**
 * Checks a JSON body against a route's model the way API Gateway's request validator does.
 * Returns the first problem in words, or undefined when the body fits the model.
 */
export function bodyModelProblem(schema: BodySchema, body: string | null): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return 'the body is not valid JSON';
  }
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return undefined;
  const [first] = validate.errors ?? [];
  return first ? describe(first) : 'the body does not match the model';
}

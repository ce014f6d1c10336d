/**
 * The function's check of a request body against its one declaration (lambda/contract/bodies.ts),
 * the same declaration API Gateway's model and the sandbox are made from, with messages that
 * name the field and say why.
 */
import type { Static } from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { BodySchema } from '../contract/bodies';
import { ValidationError } from './errors';

// ajv counts a string's length in code points, as API Gateway's validator does (TypeBox's own
// checker counts UTF-16 units, which would refuse astral characters the gateway lets through).
// No meta-schema check at cold start (it cost about 50 ms of the first compile): the sandbox's
// ajv checks the same declarations against the meta-schema in every test run.
const ajv = new Ajv({ allErrors: true, strict: true, validateSchema: false });
const compiled = new WeakMap<BodySchema, ValidateFunction>();

/** The first problem of a body, in the order a reader fixes them: not an object, an unknown field, then field by field. */
function firstProblem(schema: BodySchema, errors: readonly ErrorObject[]): ValidationError {
  const allowed = Object.keys(schema.properties);
  const notObject = errors.find((error) => error.instancePath === '' && error.keyword === 'type');
  if (notObject) return new ValidationError('The body must be a JSON object.');
  const extra = errors.find((error) => error.keyword === 'additionalProperties');
  if (extra) {
    const field = String((extra.params as { additionalProperty: string }).additionalProperty);
    return new ValidationError(`Unexpected field "${field}"; allowed: ${allowed.join(', ')}.`, field);
  }
  const fieldOf = (error: ErrorObject): string =>
    error.keyword === 'required'
      ? String((error.params as { missingProperty: string }).missingProperty)
      : error.instancePath.slice(1);
  const [error] = [...errors].sort((a, b) => allowed.indexOf(fieldOf(a)) - allowed.indexOf(fieldOf(b)));
  if (error === undefined) return new ValidationError('The body is not valid.');
  const field = fieldOf(error);
  const limit = String((error.params as { limit?: number }).limit);
  switch (error.keyword) {
    case 'required':
      return new ValidationError(`${field} is required.`, field);
    case 'type':
      return new ValidationError(`${field} must be a string.`, field);
    case 'minLength':
      return new ValidationError(`${field} must be at least ${limit} characters.`, field);
    case 'maxLength':
      return new ValidationError(`${field} must be at most ${limit} characters.`, field);
    default:
      return new ValidationError(`${field} is not valid.`, field);
  }
}

/**
 * Checks a parsed JSON body against its one declaration (the model API Gateway also checks)
 * and returns it typed. A body whose fields are all optional (a step-up) may be left out.
 */
export function checkBody<T extends BodySchema>(schema: T, body: unknown): Static<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const value = body === undefined || body === null ? (schema.required?.length ? body : {}) : body;
  if (!validate(value)) throw firstProblem(schema, validate.errors ?? []);
  return value as Static<T>;
}

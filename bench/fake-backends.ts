/**
 * In-memory stand-ins for DynamoDB and STS at the SDK client level, for the benchmarks that
 * measure the TVM's own code without any backend: `bench:handlers` (through
 * aws-sdk-client-mock) and the cold starts of `npm run bench` (through cold-start-fakes.ts).
 * The table keeps items in a Map and evaluates the adapter's condition and update expressions,
 * so the handlers take their real success and refusal paths.
 */
import { answerBatchGet, type BatchGetRequestItems } from '../test/support/batch-get';
import { TABLE_LAYOUT } from '../lambda/adapters/dynamo/table-layout';

/** An item as the DocumentClient sees it. */
export type Item = Record<string, unknown>;

class ConditionFailed extends Error {
  override readonly name = 'ConditionalCheckFailedException';
}

interface ExpressionInput {
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** A DynamoDB table in a Map, at the DocumentClient level (native JS values, no marshalling). */
export class FakeTable {
  readonly items = new Map<string, Item>();
  readonly counts: Record<string, number> = {};

  static key(key: { readonly pk?: unknown; readonly sk?: unknown }): string {
    return `${String(key.pk)}\u0000${String(key.sk)}`;
  }

  get(input: { Key: Item }): { Item?: Item } {
    this.count('Get');
    const item = this.items.get(FakeTable.key(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  }

  /** Every key of every table's request is answered from this one table; nothing is left unprocessed. */
  batchGet(input: { RequestItems: BatchGetRequestItems }): object {
    this.count('BatchGet');
    return answerBatchGet(input.RequestItems, (key) => {
      const item = this.items.get(FakeTable.key(key));
      return item ? structuredClone(item) : undefined;
    });
  }

  put(input: { Item: Item; ConditionExpression?: string } & ExpressionInput): object {
    this.count('Put');
    const key = FakeTable.key(input.Item);
    this.check(this.items.get(key), input.ConditionExpression, input);
    this.items.set(key, structuredClone(input.Item));
    return {};
  }

  delete(input: { Key: Item; ConditionExpression?: string } & ExpressionInput): object {
    this.count('Delete');
    const key = FakeTable.key(input.Key);
    this.check(this.items.get(key), input.ConditionExpression, input);
    this.items.delete(key);
    return {};
  }

  update(input: { Key: Item; UpdateExpression: string; ConditionExpression?: string; ReturnValues?: string } & ExpressionInput): {
    Attributes?: Item;
  } {
    this.count('Update');
    const key = FakeTable.key(input.Key);
    const current = this.items.get(key);
    this.check(current, input.ConditionExpression, input);
    const next: Item = current ? { ...current } : { ...input.Key };
    const updated: Item = {};
    const { set, remove } = splitUpdate(input.UpdateExpression);
    for (const assignment of set) {
      const [left, right] = assignment.split(/\s*=\s*/, 2) as [string, string];
      const name = resolveName(left, input);
      next[name] = evaluateValue(right, next, input);
      updated[name] = next[name];
    }
    for (const name of remove) delete next[resolveName(name, input)];
    this.items.set(key, next);
    switch (input.ReturnValues) {
      case 'UPDATED_NEW':
        return { Attributes: updated };
      case 'ALL_NEW':
        return { Attributes: structuredClone(next) };
      case 'ALL_OLD':
        return current ? { Attributes: structuredClone(current) } : {};
      default:
        return {};
    }
  }

  /**
   * `key = :v` with an optional `AND begins_with(sortKey, :w)`, on the table or on the
   * sessions index, in sort-key order (ScanIndexForward), with Limit and ExclusiveStartKey.
   */
  query(
    input: { IndexName?: string; KeyConditionExpression: string; ScanIndexForward?: boolean; Limit?: number; ExclusiveStartKey?: Item } & ExpressionInput,
  ): { Items: Item[]; Count: number; LastEvaluatedKey?: Item } {
    this.count('Query');
    const index = input.IndexName === undefined ? undefined : TABLE_LAYOUT.sessionsByOwnerIndex;
    if (input.IndexName !== undefined && input.IndexName !== index?.name) throw new Error(`The fake table has no index ${input.IndexName}`);
    const sortKey = index?.sortKey ?? TABLE_LAYOUT.sortKey;
    const match = /^\s*([#\w]+)\s*=\s*(:\w+)\s*(?:AND\s+begins_with\(\s*([#\w]+)\s*,\s*(:\w+)\s*\))?\s*$/i.exec(input.KeyConditionExpression);
    if (!match) throw new Error(`Unsupported KeyConditionExpression: ${input.KeyConditionExpression}`);
    const partitionName = resolveName(match[1] ?? '', input);
    const partitionValue = resolveValue(match[2] ?? '', input);
    const prefix = match[4] === undefined ? undefined : String(resolveValue(match[4], input));
    const prefixName = match[3] === undefined ? undefined : resolveName(match[3], input);
    let found = [...this.items.values()]
      .filter((item) => item[partitionName] === partitionValue && (prefix === undefined || String(item[prefixName ?? sortKey] ?? '').startsWith(prefix)))
      .sort((a, b) => compareKeys(a[sortKey], b[sortKey]) || compareKeys(FakeTable.key(a), FakeTable.key(b)));
    if (input.ScanIndexForward === false) found.reverse();
    if (input.ExclusiveStartKey) {
      const after = FakeTable.key(input.ExclusiveStartKey);
      found = found.slice(found.findIndex((item) => FakeTable.key(item) === after) + 1);
    }
    const page = input.Limit === undefined ? found : found.slice(0, input.Limit);
    const last = page.length < found.length ? page[page.length - 1] : undefined;
    return {
      Items: page.map((item) => structuredClone(item)),
      Count: page.length,
      ...(last ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk, ...(index ? { [index.partitionKey]: last[index.partitionKey], [index.sortKey]: last[index.sortKey] } : {}) } } : {}),
    };
  }

  /** Serves a DocumentClient command by its class name (GetCommand, PutCommand, ...). */
  serve(commandName: string, input: never): object {
    switch (commandName) {
      case 'GetCommand':
        return this.get(input);
      case 'BatchGetCommand':
        return this.batchGet(input);
      case 'PutCommand':
        return this.put(input);
      case 'UpdateCommand':
        return this.update(input);
      case 'DeleteCommand':
        return this.delete(input);
      case 'QueryCommand':
        return this.query(input);
      default:
        throw new Error(`The fake table does not serve ${commandName}`);
    }
  }

  private check(item: Item | undefined, condition: string | undefined, input: ExpressionInput): void {
    if (condition !== undefined && !evaluateCondition(condition, item ?? {}, input)) {
      throw new ConditionFailed('The conditional request failed');
    }
  }

  private count(operation: string): void {
    this.counts[operation] = (this.counts[operation] ?? 0) + 1;
  }
}

function resolveName(token: string, input: ExpressionInput): string {
  const trimmed = token.trim();
  return trimmed.startsWith('#') ? (input.ExpressionAttributeNames?.[trimmed] ?? trimmed) : trimmed;
}

function resolveValue(token: string, input: ExpressionInput): unknown {
  const values = input.ExpressionAttributeValues ?? {};
  if (!(token in values)) throw new Error(`The fake table has no value for ${token}`);
  const value = values[token];
  // What the document client's marshaller would refuse before DynamoDB is ever called.
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`Special numeric value ${value} is not allowed`);
  return value;
}

/** `SET a = x, b = y REMOVE c, d` (either clause optional). */
function splitUpdate(expression: string): { set: string[]; remove: string[] } {
  const match = /^\s*(?:SET\s+(.*?))?\s*(?:REMOVE\s+(.*))?$/i.exec(expression);
  if (!match) throw new Error(`Unsupported UpdateExpression: ${expression}`);
  const list = (clause: string | undefined) => (clause ? splitTopLevel(clause, ',') : []);
  return { set: list(match[1]), remove: list(match[2]) };
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of text) {
    if (character === '(') depth += 1;
    if (character === ')') depth -= 1;
    if (character === separator && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += character;
    }
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** `:v`, `name`, `if_not_exists(name, :v)`, and `+` between them. */
function evaluateValue(expression: string, item: Item, input: ExpressionInput): unknown {
  const terms = splitTopLevel(expression, '+');
  if (terms.length > 1) return terms.reduce((sum, term) => sum + Number(evaluateValue(term, item, input)), 0);
  const term = expression.trim();
  const ifNotExists = /^if_not_exists\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)$/.exec(term);
  if (ifNotExists) {
    const existing = item[resolveName(ifNotExists[1] ?? '', input)];
    return existing !== undefined ? existing : resolveValue(ifNotExists[2] ?? '', input);
  }
  if (term.startsWith(':')) return resolveValue(term, input);
  return item[resolveName(term, input)];
}

/** OR of ANDs of `attribute_(not_)exists(x)` and `x <op> :v`, with parentheses. */
function evaluateCondition(expression: string, item: Item, input: ExpressionInput): boolean {
  let text = expression.trim();
  while (text.startsWith('(') && text.endsWith(')') && balanced(text.slice(1, -1))) {
    text = text.slice(1, -1).trim();
  }
  const ors = splitKeyword(text, 'OR');
  if (ors.length > 1) return ors.some((part) => evaluateCondition(part, item, input));
  const ands = splitKeyword(text, 'AND');
  if (ands.length > 1) return ands.every((part) => evaluateCondition(part, item, input));
  const exists = /^attribute_(not_)?exists\(\s*([#\w]+)\s*\)$/.exec(text);
  if (exists) {
    const present = item[resolveName(exists[2] ?? '', input)] !== undefined;
    return exists[1] ? !present : present;
  }
  const comparison = /^([#\w]+)\s*(<=|>=|<>|=|<|>)\s*(:\w+)$/.exec(text);
  if (!comparison) throw new Error(`Unsupported ConditionExpression: ${text}`);
  const left = item[resolveName(comparison[1] ?? '', input)];
  const right = resolveValue(comparison[3] ?? '', input);
  // A comparison with a missing attribute is false in DynamoDB.
  if (left === undefined) return false;
  switch (comparison[2]) {
    case '=':
      return left === right;
    case '<>':
      return left !== right;
    case '<':
      return (left as number) < (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>':
      return (left as number) > (right as number);
    default:
      return (left as number) >= (right as number);
  }
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const character of text) {
    if (character === '(') depth += 1;
    if (character === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function splitKeyword(text: string, keyword: 'AND' | 'OR'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const pattern = new RegExp(`\\s${keyword}\\s`, 'y');
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === '(') depth += 1;
    if (character === ')') depth -= 1;
    pattern.lastIndex = index;
    if (depth === 0 && pattern.test(text)) {
      parts.push(text.slice(start, index).trim());
      start = pattern.lastIndex;
      index = start - 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '') < String(b ?? '') ? -1 : String(a ?? '') > String(b ?? '') ? 1 : 0;
}

/** What STS AssumeRole answers, for a request the TVM makes; the keys are obviously fake. */
export function fakeAssumeRole(input: { DurationSeconds?: number; Policy?: string; RoleSessionName?: string }, serial: number): object {
  if (!input.Policy) throw new Error('AssumeRole without a session policy');
  return {
    Credentials: {
      AccessKeyId: `ASIABENCH${String(serial).padStart(11, '0')}`,
      SecretAccessKey: 'bench-secret-access-key-0000000000000000',
      SessionToken: 'bench-session-token',
      Expiration: new Date(Date.now() + (input.DurationSeconds ?? 3600) * 1000),
    },
    AssumedRoleUser: { AssumedRoleId: `AROABENCH:${input.RoleSessionName ?? 'bench'}`, Arn: `arn:aws:sts::000000000000:assumed-role/bench/${input.RoleSessionName ?? 'bench'}` },
  };
}


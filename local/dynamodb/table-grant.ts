/**
 * What the sandbox's DynamoDB lets the functions' key do: what the stack grants the functions'
 * roles (`tableActions` in lambda/contract/routes.ts; lib/tvm-api.ts turns the same into IAM), on the
 * one table, and Query on the sessions-by-owner index (and on the table where granted: a user's
 * shares and links). A handler that sends an action no
 * route lists then fails here as it would on AWS, instead of only once deployed. The sandbox
 * has one key for both function roles, so it allows their union: whatever it refuses, AWS
 * refuses to either role. Loaded by the DynamoDB thread (thread.ts); no imports.
 */

/** The actions a key may send, and where. */
export interface TableGrant {
  /** DynamoDB action names (`GetItem`, `BatchGetItem`, ...); `Query` here is Query on the table itself. */
  readonly actions: readonly string[];
  /** The only table the key may use. */
  readonly table: string;
  /** The index Query may read, if the key may Query at all (never the table itself). */
  readonly queryIndex?: string;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';

/** Why `grant` refuses the request (the `X-Amz-Target` header and the JSON body), or undefined if it allows it. */
export function tableGrantRefusal(target: string | undefined, body: Buffer, grant: TableGrant): string | undefined {
  const action = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  if (!action) return 'The functions are not authorized to perform this request.';
  let input: { TableName?: unknown; IndexName?: unknown; RequestItems?: unknown };
  try {
    input = JSON.parse(body.toString('utf8')) as typeof input;
  } catch {
    input = {};
  }
  const denied = (resource: string) =>
    `The functions are not authorized to perform: dynamodb:${action} on resource: ${resource}`;
  const tables =
    action === 'BatchGetItem' || action === 'BatchWriteItem'
      ? Object.keys(typeof input.RequestItems === 'object' && input.RequestItems !== null ? input.RequestItems : {})
      : [input.TableName];
  const foreign = tables.findIndex((table) => table !== grant.table);
  if (tables.length === 0 || foreign !== -1)
    return denied(`table/${typeof tables[foreign] === 'string' ? tables[foreign] : ''}`);
  if (action === 'Query') {
    // On the table itself only when granted there (a user's own partition: shares, links).
    if (input.IndexName === undefined)
      return grant.actions.includes('Query') ? undefined : denied(`table/${grant.table}`);
    return grant.queryIndex !== undefined && input.IndexName === grant.queryIndex
      ? undefined
      : denied(`table/${grant.table}${typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : ''}`);
  }
  return grant.actions.includes(action) ? undefined : denied(`table/${grant.table}`);
}

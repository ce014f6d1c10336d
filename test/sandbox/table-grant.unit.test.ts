/**
 * The sandbox's DynamoDB grant for the functions' key (local/dynamodb/table-grant.ts): the union of
 * what the stack grants the functions' roles, on the one table, Query on the index only.
 */
import fc from 'fast-check';
import { ROUTES, tableActionsFor } from '../../lambda/contract/routes';
import { functionsTableGrant } from '../../local/dynamodb/functions-grant';
import { tableGrantRefusal, type TableGrant } from '../../local/dynamodb/table-grant';
import { TABLE_LAYOUT } from '../../lambda/adapters/dynamo/table-layout';

const grant: TableGrant = {
  actions: ['BatchGetItem', 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'],
  table: 'tvm-local-users',
  queryIndex: 'sessionsByOwner',
};
const request = (action: string, input: unknown) =>
  tableGrantRefusal(`DynamoDB_20120810.${action}`, Buffer.from(JSON.stringify(input)), grant);

it('allows each granted action on the table, and refuses it on any other table', () => {
  for (const action of grant.actions.filter((name) => name !== 'BatchGetItem')) {
    expect(request(action, { TableName: grant.table })).toBeUndefined();
    expect(request(action, { TableName: 'tvm-other' })).toContain(`dynamodb:${action} on resource: table/tvm-other`);
  }
  expect(request('BatchGetItem', { RequestItems: { [grant.table]: { Keys: [] } } })).toBeUndefined();
  expect(request('BatchGetItem', { RequestItems: { [grant.table]: { Keys: [] }, other: { Keys: [] } } })).toContain(
    'table/other',
  );
  expect(request('BatchGetItem', { RequestItems: {} })).toBeDefined();
});

it('with no Query granted on the table, allows Query on the sessions index only', () => {
  expect(request('Query', { TableName: grant.table, IndexName: 'sessionsByOwner' })).toBeUndefined();
  expect(request('Query', { TableName: grant.table })).toContain('dynamodb:Query');
  expect(request('Query', { TableName: grant.table, IndexName: 'another' })).toContain('/index/another');
  expect(
    tableGrantRefusal(
      'DynamoDB_20120810.Query',
      Buffer.from(JSON.stringify({ TableName: grant.table, IndexName: 'sessionsByOwner' })),
      { ...grant, queryIndex: undefined },
    ),
  ).toBeDefined();
});

it('allows Query on the table itself only when the grant lists Query (a user partition: shares and links)', () => {
  const withQuery: TableGrant = { ...grant, actions: [...grant.actions, 'Query'] };
  const query = (input: unknown, to: TableGrant) =>
    tableGrantRefusal('DynamoDB_20120810.Query', Buffer.from(JSON.stringify(input)), to);
  expect(query({ TableName: grant.table }, withQuery)).toBeUndefined();
  expect(query({ TableName: grant.table }, grant)).toContain('dynamodb:Query on resource: table/tvm-local-users');
  expect(query({ TableName: 'tvm-other' }, withQuery)).toContain('table/tvm-other');
  expect(query({ TableName: grant.table, IndexName: 'another' }, withQuery)).toContain('/index/another');
  expect(query({ TableName: grant.table, IndexName: null }, withQuery)).toBeDefined();
});

it('refuses every action it does not list, a missing or foreign target, and a body it cannot read', () => {
  for (const action of [
    'Scan',
    'BatchWriteItem',
    'TransactWriteItems',
    'TransactGetItems',
    'DeleteTable',
    'CreateTable',
    'DescribeTable',
    'UpdateTable',
    'ExecuteStatement',
    'ListTables',
  ]) {
    expect(request(action, { TableName: grant.table })).toBeDefined();
  }
  expect(tableGrantRefusal(undefined, Buffer.from('{}'), grant)).toBeDefined();
  expect(
    tableGrantRefusal('DynamoDB_20111205.GetItem', Buffer.from(JSON.stringify({ TableName: grant.table })), grant),
  ).toBeDefined();
  expect(tableGrantRefusal('DynamoDB_20120810.GetItem', Buffer.from('not json'), grant)).toBeDefined();
});

it('never allows what it was not granted, whatever the target and body (property)', () => {
  const actionNames = fc.oneof(
    fc.constantFrom(...grant.actions, 'Query', 'Scan', 'BatchWriteItem', 'DeleteTable'),
    fc.string(),
  );
  fc.assert(
    fc.property(
      actionNames,
      fc.option(fc.string()),
      fc.option(fc.string()),
      fc.jsonValue(),
      (action, table, index, extra) => {
        const body = Buffer.from(
          JSON.stringify({
            ...(typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? extra : {}),
            TableName: table ?? undefined,
            IndexName: index ?? undefined,
          }),
        );
        const allowed = tableGrantRefusal(`DynamoDB_20120810.${action}`, body, grant) === undefined;
        if (!allowed) return;
        const parsed = JSON.parse(body.toString()) as {
          TableName?: string;
          IndexName?: string;
          RequestItems?: Record<string, unknown>;
        };
        const tables = action === 'BatchGetItem' ? Object.keys(parsed.RequestItems ?? {}) : [parsed.TableName];
        expect(tables.every((name) => name === grant.table)).toBe(true);
        expect(
          action === 'Query'
            ? parsed.IndexName === grant.queryIndex ||
                (parsed.IndexName === undefined && grant.actions.includes('Query'))
            : grant.actions.includes(action),
        ).toBe(true);
      },
    ),
    { numRuns: 2000 },
  );
});

it('is built from the route table the stack grants from', () => {
  // The grant the sandbox gives its functions' key (local/sandbox.ts); the stack's roles get the same actions (lib/tvm-api.ts).
  const built = functionsTableGrant(ROUTES, grant.table);
  expect(built.actions.map((action) => `dynamodb:${action}`)).toEqual(tableActionsFor(ROUTES));
  expect(built.actions).toEqual(
    expect.arrayContaining(['BatchGetItem', 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']),
  );
  expect(built.actions).not.toContain('Scan');
  // Query on the table: the routes that list a user's shares and links (QueryPartition).
  expect(built.actions).toContain('Query');
  expect(built).toMatchObject({ table: grant.table, queryIndex: TABLE_LAYOUT.sessionsByOwnerIndex.name });
  expect(grant.queryIndex).toBe(TABLE_LAYOUT.sessionsByOwnerIndex.name);
});

/**
 * The sandbox's DynamoDB grant for the functions' key (checked by table-grant.ts): what the
 * stack grants the functions' roles, from the same route table (lambda/contract/routes.ts).
 */
import { TABLE_LAYOUT } from '../../lambda/adapters/dynamo/table-layout';
import { queriesSessionIndex, tableItemActions, type RouteDefinition } from '../../lambda/contract/routes';
import type { TableGrant } from './table-grant';

/** The union of what `routes` may do on `table`: their item actions, and Query on the sessions index if any of them queries. */
export function functionsTableGrant(routes: readonly RouteDefinition[], table: string): TableGrant {
  return {
    actions: tableItemActions(routes),
    table,
    ...(queriesSessionIndex(routes) ? { queryIndex: TABLE_LAYOUT.sessionsByOwnerIndex.name } : {}),
  };
}

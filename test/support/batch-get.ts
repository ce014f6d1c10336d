/** A BatchGetItem answer for DocumentClient fakes, built from a lookup of single items. */

/** A table key as the TVM's table uses it. */
export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** The `RequestItems` of a document-level BatchGetCommand. */
export type BatchGetRequestItems = Record<string, { readonly Keys: readonly ItemKey[] }>;

/**
 * Answers every table's keys with the items `lookup` finds (missing ones left out, as
 * DynamoDB does), and nothing unprocessed.
 */
export function answerBatchGet(
  requestItems: BatchGetRequestItems,
  lookup: (key: ItemKey) => Record<string, unknown> | undefined,
) {
  return {
    Responses: Object.fromEntries(
      Object.entries(requestItems).map(([table, { Keys }]) => [
        table,
        Keys.flatMap((key) => {
          const found = lookup(key);
          return found ? [found] : [];
        }),
      ]),
    ),
    UnprocessedKeys: {},
  };
}

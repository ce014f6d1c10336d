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

/** The UpdateItem input fields a session-use fake reads. */
interface UpdateInput {
  readonly Key: ItemKey;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * An UpdateItem fake for DocumentClient mocks: /token's first-stage update of a session item
 * answers the item `lookup` finds with its use recorded (ALL_NEW: `lastUsedAt` and a first vend in
 * the minute), or fails its condition when there is none; any other update answers `otherwise`.
 */
export function answerSessionUse(
  lookup: (key: ItemKey) => Record<string, unknown> | undefined,
  otherwise: Record<string, unknown> = { Attributes: { attempts: 1 } },
) {
  return async (input: UpdateInput) => {
    if (input.Key.sk !== 'SESSION') return otherwise;
    const found = lookup(input.Key);
    if (!found)
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    const counter = input.ExpressionAttributeNames?.['#counter'];
    return {
      Attributes: {
        ...input.Key,
        ...found,
        lastUsedAt: input.ExpressionAttributeValues?.[':now'],
        ...(counter ? { [counter]: 1 } : {}),
      },
    };
  };
}

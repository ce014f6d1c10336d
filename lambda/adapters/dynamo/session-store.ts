/** Login sessions on DynamoDB (layout in table-layout.ts), listed per user through the `sessionsByOwner` index. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import type {
  SessionRecord,
  SessionStore,
  SessionWithUser,
  SessionWithUserReader,
  VendLedger,
  VendStart,
} from '../../sessions/ports';
import { DynamoTable, isConditionFailure, storedUsername, ttlSeconds, unavailable } from './helpers';
import { KEYS, TABLE_LAYOUT, sessionVendsAttribute, sessionVendsWindow, type ItemKey } from './table-layout';
import { toUsageTotals } from './usage-totals';
import { isHold, toUser } from './user-store';

/** How often a BatchGetItem is sent before keys it leaves unprocessed make a 503. */
const BATCH_GET_ATTEMPTS = 3;
/** The wait before asking again for unprocessed keys, doubled each time (AWS advises backing off). */
const BATCH_GET_BACKOFF_MS = 25;
/**
 * Stage one removes the previous minute's counter from a session; a counter older than that
 * (the session sat unused for a while) stays until this many have piled up, then one write
 * alongside stage two removes them: most vends pay no write for tidying.
 */
const STALE_COUNTERS_TIDIED_AT = 4;
/** How long a user's minute counter outlives its minute before DynamoDB's TTL may delete it. */
const USER_VENDS_KEPT_MS = 60_000;

/**
 * {@link SessionStore} on DynamoDB, the session-with-user read of authenticated routes in one
 * BatchGetItem, and /token's vend counts ({@link VendLedger}).
 */
export class DynamoSessionStore implements SessionStore, SessionWithUserReader, VendLedger {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  /**
   * Writes a new session. Its token hash is random, so the condition can only fail because
   * this very write already happened: the SDK retried an attempt that timed out after DynamoDB
   * applied it. The stored item is then read back, and the write counts as done if it is this
   * session; anything else is a 503.
   */
  async putSession(session: SessionRecord): Promise<void> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...KEYS.session(session.tokenHash),
            ...session,
            [TABLE_LAYOUT.sessionsByOwnerIndex.partitionKey]: KEYS.sessionOwner(session.username),
            [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(session.expiresAt),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
      const stored = await this.table.get(KEYS.session(session.tokenHash));
      if (stored?.sessionId !== session.sessionId || stored.userId !== session.userId) throw unavailable(error);
    }
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const item = await this.table.get(KEYS.session(tokenHash));
    return item ? toSession(item) : undefined;
  }

  /** One consistent BatchGetItem for the session, the user and the folder's totals (every vend reads them). */
  async getSessionWithUser(tokenHash: string, username: Username): Promise<SessionWithUser> {
    const wantedSession = KEYS.session(tokenHash);
    const wantedUser = KEYS.user(username);
    const wantedUsage = KEYS.usage(username);
    const items = await this.batchGet([wantedSession, wantedUser, wantedUsage]);
    const find = (key: ItemKey) => items.find((item) => item.pk === key.pk && item.sk === key.sk);
    const sessionItem = find(wantedSession);
    const userItem = find(wantedUser);
    return {
      ...(sessionItem ? { session: toSession(sessionItem) } : {}),
      ...(userItem && !isHold(userItem)
        ? { user: toUser(userItem), usage: toUsageTotals(find(wantedUsage), String(userItem.userId)) }
        : {}),
    };
  }

  /**
   * The session's conditional UpdateItem (ALL_NEW: it replaces the session read) and one
   * consistent BatchGetItem of the user, their minute counter and their folder's totals, sent together.
   */
  async startVend(
    tokenHash: string,
    username: Username,
    window: number,
    now: number,
    idleSince: number,
  ): Promise<VendStart> {
    const counter = sessionVendsAttribute(window);
    const wantedUser = KEYS.user(username);
    const wantedVends = KEYS.userVends(username, window);
    const wantedUsage = KEYS.usage(username);
    const [updated, items] = await Promise.all([
      this.useSession(tokenHash, counter, sessionVendsAttribute(window - 1), now, idleSince),
      this.batchGet([wantedUser, wantedVends, wantedUsage]),
    ]);
    const find = (key: ItemKey) => items.find((item) => item.pk === key.pk && item.sk === key.sk);
    const userItem = find(wantedUser);
    const stale = updated
      ? Object.keys(updated).filter((name) => {
          const counted = sessionVendsWindow(name);
          return counted !== undefined && counted !== window;
        })
      : [];
    return {
      ...(updated ? { session: toSession(updated) } : {}),
      sessionVends: updated ? Number(updated[counter] ?? 0) : 0,
      ...(userItem && !isHold(userItem)
        ? { user: toUser(userItem), usage: toUsageTotals(find(wantedUsage), String(userItem.userId)) }
        : {}),
      userVends: Number(find(wantedVends)?.count ?? 0),
      ...(stale.length >= STALE_COUNTERS_TIDIED_AT ? { tidy: () => this.removeCounters(tokenHash, stale) } : {}),
    };
  }

  async countUserVend(username: Username, window: number, windowEndsAt: number, limit: number): Promise<boolean> {
    return this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.userVends(username, window),
        UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
        ExpressionAttributeValues: {
          ':one': 1,
          ':limit': limit,
          ':ttl': ttlSeconds(windowEndsAt + USER_VENDS_KEPT_MS),
        },
      }),
    );
  }

  /**
   * Counts a vend on the session and records its use, only if the session is there, unexpired
   * and not idle: a dead session is neither counted nor revived. The whole item, or undefined
   * when the condition failed.
   */
  private async useSession(
    tokenHash: string,
    counter: string,
    previousCounter: string,
    now: number,
    idleSince: number,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.session(tokenHash),
          UpdateExpression: 'ADD #counter :one SET lastUsedAt = :now REMOVE #previous',
          // A missing item or attribute fails a comparison, so this also requires the session to
          // exist. createdAt <= lastUsedAt, so "either after idleSince" is "the later one after it".
          ConditionExpression: 'expiresAt > :now AND (lastUsedAt > :idle OR createdAt > :idle)',
          ExpressionAttributeNames: { '#counter': counter, '#previous': previousCounter },
          ExpressionAttributeValues: { ':one': 1, ':now': now, ':idle': idleSince },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw unavailable(error);
    }
  }

  /** Removes old minute counters from a session; a failure only leaves them for next time. */
  private async removeCounters(tokenHash: string, counters: readonly string[]): Promise<void> {
    const names = Object.fromEntries(counters.map((name, index) => [`#c${index}`, name]));
    await this.table
      .conditional(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.session(tokenHash),
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
        }),
      )
      .catch(() => undefined);
  }

  async listSessions(username: Username): Promise<SessionRecord[]> {
    const index = TABLE_LAYOUT.sessionsByOwnerIndex;
    const sessions: SessionRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.table.documents.send(
          new QueryCommand({
            TableName: this.table.name,
            IndexName: index.name,
            KeyConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': index.partitionKey },
            ExpressionAttributeValues: { ':owner': KEYS.sessionOwner(username) },
            ExclusiveStartKey: startKey,
          }),
        );
        sessions.push(...(page.Items ?? []).map(toSession));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw error instanceof BackendUnavailableError ? error : unavailable(error);
    }
    return sessions;
  }

  async touchSession(tokenHash: string, at: number): Promise<void> {
    // A session revoked a moment ago fails the condition: nothing to record.
    await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.session(tokenHash),
        UpdateExpression: 'SET lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.table.write(new DeleteCommand({ TableName: this.table.name, Key: KEYS.session(tokenHash) }));
  }

  /**
   * A consistent BatchGetItem of a few keys. Keys DynamoDB leaves unprocessed (throttling) are
   * asked again after a short, doubling wait, at most BATCH_GET_ATTEMPTS times in all; any
   * still left make a 503.
   */
  private async batchGet(keys: readonly ItemKey[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = keys.map((key) => ({ ...key }));
    try {
      for (let attempt = 0; attempt < BATCH_GET_ATTEMPTS && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(BATCH_GET_BACKOFF_MS * 2 ** (attempt - 1));
        const result = await this.table.documents.send(
          new BatchGetCommand({ RequestItems: { [this.table.name]: { Keys: pending, ConsistentRead: true } } }),
        );
        items.push(...(result.Responses?.[this.table.name] ?? []));
        pending = result.UnprocessedKeys?.[this.table.name]?.Keys ?? [];
      }
    } catch (error) {
      throw unavailable(error);
    }
    if (pending.length > 0) throw unavailable(new Error(`BatchGetItem left ${pending.length} keys unprocessed`));
    return items;
  }
}

function toSession(item: Record<string, unknown>): SessionRecord {
  return {
    tokenHash: String(item.tokenHash),
    sessionId: String(item.sessionId),
    username: storedUsername(item.username),
    userId: String(item.userId),
    generation: Number(item.generation ?? 0),
    createdAt: Number(item.createdAt),
    expiresAt: Number(item.expiresAt),
    ...(item.lastUsedAt !== undefined ? { lastUsedAt: Number(item.lastUsedAt) } : {}),
    ...(typeof item.device === 'string' ? { device: item.device } : {}),
  };
}

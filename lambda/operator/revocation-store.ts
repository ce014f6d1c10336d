/**
 * The credential cut-off list in the TVM's table, the lock that serialises changes to the
 * vending role's revocation policy, and DynamoDB's own clock: everything tvm-admin needs to
 * revoke credentials without trusting the operator's clock or losing a concurrent entry.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { BackendUnavailableError } from '../platform/errors';
import type { RevokedUser } from '../credentials/revocation';
import { isGrantId } from '../sharing/requests';
import type { RevokedShare } from '../sharing/ports';
import type { OverQuotaEntry, OverQuotaEntryStore } from '../usage/quota-enforcer';
import { isUsername, type Username } from '../accounts/username';
import { documentClient, guarded, isConditionFailure, queryPartition, unavailable } from '../adapters/dynamo/helpers';
import { KEYS, TABLE_LAYOUT } from '../adapters/dynamo/table-layout';

const lockKey = KEYS.revocationLock;
const entryKey = KEYS.revocation;
const shareEntryKey = KEYS.shareRevocation;
const quotaEntryKey = KEYS.quotaRevocation;
/** `under` is one of DynamoDB's reserved words: the over-quota entry's fields go by name placeholders. */
const QUOTA_ENTRY_NAMES = { '#since': 'since', '#under': 'under' };

/** A share's cut-off entry as stored. */
export interface StoredShareRevocation extends RevokedShare {
  /** True until the worker has put the entry on the vending role. */
  readonly pending: boolean;
}

/**
 * Revocation entries (users' and shares') and the revocation lock, in the TVM's table (layout in
 * table-layout.ts). The API functions use only {@link serverDate} and {@link recordShare}; the
 * over-quota entries are written by the quota cut-off (lambda/usage/quota-enforcer.ts).
 */
export class DynamoRevocationStore implements OverQuotaEntryStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = documentClient(client);
  }

  /**
   * DynamoDB's clock: the `Date` header of a strongly consistent read, sent after every
   * write this caller made before has committed. Epoch ms, truncated to the second.
   */
  async serverDate(): Promise<number> {
    let date: string | undefined;
    const command = new GetItemCommand({
      TableName: this.tableName,
      Key: { pk: { S: lockKey.pk }, sk: { S: lockKey.sk } },
      ConsistentRead: true,
    });
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const headers = (result.response as { headers?: Record<string, string> }).headers ?? {};
        date = headers.date ?? headers.Date;
        return result;
      },
      { step: 'deserialize', name: 'tvmCaptureServerDate' },
    );
    await guarded(() => this.client.send(command));
    const parsed = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isNaN(parsed)) throw new BackendUnavailableError('DynamoDB (no Date header to read its clock from)');
    return parsed;
  }

  /** Records a cut-off for the user; an entry with a later cut-off already there wins. */
  async record(entry: RevokedUser, expiresAt: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: entryKey(entry.username),
          UpdateExpression: 'SET username = :username, cutOffAt = :cutOffAt, expiresAt = :expiresAt, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(cutOffAt) OR cutOffAt < :cutOffAt',
          ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
          ExpressionAttributeValues: {
            ':username': entry.username,
            ':cutOffAt': entry.cutOffAt,
            ':expiresAt': expiresAt,
            ':ttl': Math.ceil(expiresAt / 1000),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  /** The user's entry, if any. */
  async get(username: Username): Promise<RevokedUser | undefined> {
    const { Item } = await guarded(() =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: entryKey(username), ConsistentRead: true })),
    );
    return Item ? toEntry(Item) : undefined;
  }

  /** Every entry, expired or not (pruning is the caller's, by its own rule). */
  async list(): Promise<RevokedUser[]> {
    return (
      await queryPartition(this.documents, this.tableName, KEYS.revocationEntries.pk, KEYS.revocationEntries.skPrefix)
    ).map(toEntry);
  }

  /** Removes an entry only if it still has this cut-off (a newer revocation keeps it). */
  async remove(entry: RevokedUser): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: entryKey(entry.username),
          ConditionExpression: 'cutOffAt = :cutOffAt',
          ExpressionAttributeValues: { ':cutOffAt': entry.cutOffAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  /**
   * Records a share's cut-off, pending until the worker has put it on the role (see
   * {@link markShareApplied}); an entry with a later cut-off already there wins.
   */
  async recordShare(entry: RevokedShare, expiresAt: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: shareEntryKey(entry.shareId),
          UpdateExpression:
            'SET shareId = :shareId, cutOffAt = :cutOffAt, expiresAt = :expiresAt, pending = :pending, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(cutOffAt) OR cutOffAt < :cutOffAt',
          ExpressionAttributeNames: { '#ttl': TABLE_LAYOUT.timeToLiveAttribute },
          ExpressionAttributeValues: {
            ':shareId': entry.shareId,
            ':cutOffAt': entry.cutOffAt,
            ':expiresAt': expiresAt,
            ':pending': true,
            ':ttl': Math.ceil(expiresAt / 1000),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  /** Every share entry, expired or not, with whether it still waits for the worker. */
  async listShares(): Promise<StoredShareRevocation[]> {
    return (
      await queryPartition(
        this.documents,
        this.tableName,
        KEYS.shareRevocationEntries.pk,
        KEYS.shareRevocationEntries.skPrefix,
      )
    ).map(toShareEntry);
  }

  /** Marks the entry as on the role, only if it still has this cut-off (a newer one stays pending). */
  async markShareApplied(entry: RevokedShare): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: shareEntryKey(entry.shareId),
          UpdateExpression: 'REMOVE pending',
          ConditionExpression: 'cutOffAt = :cutOffAt',
          ExpressionAttributeValues: { ':cutOffAt': entry.cutOffAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  /** Removes a share entry only if it still has this cut-off. */
  async removeShare(entry: RevokedShare): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: shareEntryKey(entry.shareId),
          ConditionExpression: 'cutOffAt = :cutOffAt',
          ExpressionAttributeValues: { ':cutOffAt': entry.cutOffAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw unavailable(error);
    }
  }

  /** The user's over-quota entry, if any. */
  async getQuotaEntry(username: Username): Promise<OverQuotaEntry | undefined> {
    const { Item } = await guarded(() =>
      this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: quotaEntryKey(username), ConsistentRead: true }),
      ),
    );
    return Item ? toQuotaEntry(Item) : undefined;
  }

  async recordOverQuota(username: Username, since: number, previous: OverQuotaEntry | undefined): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...quotaEntryKey(username), username, since, under: false, pending: true },
        ...(previous === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#since = :since AND #under = :under',
              ExpressionAttributeNames: QUOTA_ENTRY_NAMES,
              ExpressionAttributeValues: { ':since': previous.since, ':under': previous.under },
            }),
      }),
    );
  }

  async recordUnderQuota(entry: OverQuotaEntry): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: quotaEntryKey(entry.username),
        UpdateExpression: 'SET #under = :true, pending = :true',
        ConditionExpression: '#since = :since AND #under = :false',
        ExpressionAttributeNames: QUOTA_ENTRY_NAMES,
        ExpressionAttributeValues: { ':since': entry.since, ':true': true, ':false': false },
      }),
    );
  }

  /** Every over-quota entry, over or marked under, with whether it waits for the worker. */
  async listQuotaEntries(): Promise<OverQuotaEntry[]> {
    return (
      await queryPartition(
        this.documents,
        this.tableName,
        KEYS.quotaRevocationEntries.pk,
        KEYS.quotaRevocationEntries.skPrefix,
      )
    ).map(toQuotaEntry);
  }

  /** Marks the entry as on the role, only if it is still in the state the worker rendered. */
  async markQuotaApplied(entry: OverQuotaEntry): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: quotaEntryKey(entry.username),
        UpdateExpression: 'REMOVE pending',
        ConditionExpression: '#since = :since AND #under = :under',
        ExpressionAttributeNames: QUOTA_ENTRY_NAMES,
        ExpressionAttributeValues: { ':since': entry.since, ':under': entry.under },
      }),
    );
  }

  /** Removes an entry marked under once its statement is off the role, only if it is still that entry. */
  async removeQuotaEntry(entry: OverQuotaEntry): Promise<void> {
    await this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: quotaEntryKey(entry.username),
        ConditionExpression: '#since = :since AND #under = :true',
        ExpressionAttributeNames: QUOTA_ENTRY_NAMES,
        ExpressionAttributeValues: { ':since': entry.since, ':true': true },
      }),
    );
  }

  /** A conditional write: false when its condition failed, 503 on any other fault. */
  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.documents.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }

  /**
   * Takes the revocation lock for `owner` until `until` (DynamoDB clock, epoch ms) if nobody
   * holds it or the holder's lease has run out. Returns whether it did.
   */
  async acquireLock(owner: string, now: number, until: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...lockKey, owner, until, [TABLE_LAYOUT.timeToLiveAttribute]: Math.ceil(until / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }

  /** Gives the lock back. False when it was no longer `owner`'s (its lease ran out and someone took it). */
  async releaseLock(owner: string): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: lockKey,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw unavailable(error);
    }
  }
}

function toEntry(item: Record<string, unknown>): RevokedUser {
  if (typeof item.username !== 'string' || !isUsername(item.username) || typeof item.cutOffAt !== 'number') {
    throw new BackendUnavailableError('DynamoDB (corrupt revocation item)');
  }
  return { username: item.username, cutOffAt: item.cutOffAt };
}

function toShareEntry(item: Record<string, unknown>): StoredShareRevocation {
  if (typeof item.shareId !== 'string' || !isGrantId(item.shareId) || typeof item.cutOffAt !== 'number') {
    throw new BackendUnavailableError('DynamoDB (corrupt share revocation item)');
  }
  return { shareId: item.shareId, cutOffAt: item.cutOffAt, pending: item.pending === true };
}

function toQuotaEntry(item: Record<string, unknown>): OverQuotaEntry {
  if (typeof item.username !== 'string' || !isUsername(item.username) || typeof item.since !== 'number') {
    throw new BackendUnavailableError('DynamoDB (corrupt over-quota item)');
  }
  return { username: item.username, since: item.since, under: item.under === true, pending: item.pending === true };
}

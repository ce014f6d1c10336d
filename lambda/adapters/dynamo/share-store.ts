/**
 * Shares on DynamoDB (layout in table-layout.ts): the canonical record in the owner's partition,
 * a pointer in the grantee's, the owner's count on their user item. No transactions: the pointer
 * is written first and removed last, and is believed only once the canonical record confirms it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Username } from '../../accounts/username';
import type { ShareRecord, ShareStore } from '../../sharing/ports';
import { DynamoTable, queryPartition, storedUsername, ttlSeconds, unavailable } from './helpers';
import {
  batchGetItems,
  optionalTime,
  releasePlace,
  reservePlace,
  setPlaces,
  storedAccess,
  storedSharePath,
  storedString,
  storedTime,
} from './sharing-items';
import { KEYS, TABLE_LAYOUT } from './table-layout';

const COUNT = 'shareCount';

/** {@link ShareStore} on the TVM's table. */
export class DynamoShareStore implements ShareStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  reserve(owner: Username, ownerUserId: string, max: number): Promise<boolean> {
    return reservePlace(this.table, COUNT, owner, ownerUserId, max);
  }

  recount(owner: Username, ownerUserId: string, count: number): Promise<void> {
    return setPlaces(this.table, COUNT, owner, ownerUserId, count);
  }

  async put(share: ShareRecord): Promise<void> {
    // An ended share is refused on every read; TTL only tidies it away, some time later.
    const ttl =
      share.expiresAt !== undefined ? { [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(share.expiresAt) } : {};
    await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.shareReceived(share.grantee, share.id), shareId: share.id, owner: share.owner, ...ttl },
      }),
    );
    await this.table.write(
      new PutCommand({ TableName: this.table.name, Item: { ...KEYS.share(share.owner, share.id), ...share, ...ttl } }),
    );
  }

  async get(owner: Username, id: string): Promise<ShareRecord | undefined> {
    const item = await this.table.get(KEYS.share(owner, id));
    return item ? toShare(item) : undefined;
  }

  async receivedFrom(grantee: Username, id: string): Promise<Username | undefined> {
    const item = await this.table.get(KEYS.shareReceived(grantee, id));
    return item ? storedUsername(item.owner, 'share pointer') : undefined;
  }

  async recordUse(share: ShareRecord, at: number, by: Username): Promise<void> {
    await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.share(share.owner, share.id),
        UpdateExpression: 'SET lastUsedAt = :at, lastUsedBy = :by',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at, ':by': by },
      }),
    );
  }

  async listGiven(owner: Username): Promise<ShareRecord[]> {
    const { pk, skPrefix } = KEYS.sharesGiven(owner);
    const items = await queryPartition(this.table.documents, this.table.name, pk, skPrefix);
    return items.map(toShare).sort((a, b) => a.createdAt - b.createdAt);
  }

  async listReceived(grantee: Username): Promise<ShareRecord[]> {
    const { pk, skPrefix } = KEYS.sharesReceived(grantee);
    const pointers = await queryPartition(this.table.documents, this.table.name, pk, skPrefix);
    const keys = pointers.map((pointer) =>
      KEYS.share(storedUsername(pointer.owner, 'share pointer'), storedString(pointer.shareId, 'share pointer')),
    );
    const canonical = (await batchGetItems(this.table, keys)).map(toShare);
    // A pointer is believed only when the canonical record names the same grantee.
    return canonical.filter((share) => share.grantee === grantee).sort((a, b) => a.createdAt - b.createdAt);
  }

  async remove(share: ShareRecord): Promise<void> {
    let existed: boolean;
    try {
      const result = await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: KEYS.share(share.owner, share.id),
          ReturnValues: 'ALL_OLD',
        }),
      );
      existed = result.Attributes !== undefined;
    } catch (error) {
      throw unavailable(error);
    }
    await this.table.write(
      new DeleteCommand({ TableName: this.table.name, Key: KEYS.shareReceived(share.grantee, share.id) }),
    );
    if (existed) await releasePlace(this.table, COUNT, share.owner, share.ownerUserId);
  }
}

/** A canonical share item, re-checked field by field. */
function toShare(item: Record<string, unknown>): ShareRecord {
  const expiresAt = optionalTime(item.expiresAt, 'share');
  const lastUsedAt = optionalTime(item.lastUsedAt, 'share');
  return {
    id: storedString(item.id, 'share'),
    owner: storedUsername(item.owner, 'share'),
    ownerUserId: storedString(item.ownerUserId, 'share'),
    grantee: storedUsername(item.grantee, 'share'),
    granteeUserId: storedString(item.granteeUserId, 'share'),
    path: storedSharePath(item.path, 'share'),
    access: storedAccess(item.access),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    createdAt: storedTime(item.createdAt, 'share'),
    ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
    ...(item.lastUsedBy !== undefined ? { lastUsedBy: storedUsername(item.lastUsedBy, 'share') } : {}),
  };
}

/**
 * Share links on DynamoDB (layout in table-layout.ts): the canonical record under the link's own
 * key (one GetItem opens it), an entry in the owner's partition for their listing, the owner's
 * count on their user item. The entry is written first and removed last; a listing reads the
 * canonical records, so an entry alone shows nothing.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Username } from '../../accounts/username';
import type { LinkRecord, LinkStore } from '../../sharing/ports';
import { DynamoTable, queryPartition, storedUsername, ttlSeconds, unavailable } from './helpers';
import {
  batchGetItems,
  optionalTime,
  releasePlace,
  reservePlace,
  setPlaces,
  storedSharePath,
  storedString,
  storedTime,
} from './sharing-items';
import { KEYS, TABLE_LAYOUT } from './table-layout';

const COUNT = 'linkCount';

/** {@link LinkStore} on the TVM's table. */
export class DynamoLinkStore implements LinkStore {
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

  async put(link: LinkRecord): Promise<void> {
    const ttl = link.expiresAt !== undefined ? { [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(link.expiresAt) } : {};
    await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.ownedLink(link.owner, link.id), linkId: link.id, ...ttl },
      }),
    );
    await this.table.write(
      new PutCommand({ TableName: this.table.name, Item: { ...KEYS.link(link.id), ...link, ...ttl } }),
    );
  }

  async get(id: string): Promise<LinkRecord | undefined> {
    const item = await this.table.get(KEYS.link(id));
    return item ? toLink(item) : undefined;
  }

  async recordOpen(link: LinkRecord, at: number, by: string): Promise<void> {
    await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.link(link.id),
        UpdateExpression: 'SET lastUsedAt = :at, lastUsedBy = :by',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at, ':by': by },
      }),
    );
  }

  async listByOwner(owner: Username): Promise<LinkRecord[]> {
    const { pk, skPrefix } = KEYS.ownedLinks(owner);
    const entries = await queryPartition(this.table.documents, this.table.name, pk, skPrefix);
    const keys = entries.map((entry) => KEYS.link(storedString(entry.linkId, 'link entry')));
    const links = (await batchGetItems(this.table, keys)).map(toLink);
    return links.filter((link) => link.owner === owner).sort((a, b) => a.createdAt - b.createdAt);
  }

  async remove(link: LinkRecord): Promise<void> {
    let existed: boolean;
    try {
      const result = await this.table.documents.send(
        new DeleteCommand({ TableName: this.table.name, Key: KEYS.link(link.id), ReturnValues: 'ALL_OLD' }),
      );
      existed = result.Attributes !== undefined;
    } catch (error) {
      throw unavailable(error);
    }
    await this.table.write(new DeleteCommand({ TableName: this.table.name, Key: KEYS.ownedLink(link.owner, link.id) }));
    if (existed) await releasePlace(this.table, COUNT, link.owner, link.ownerUserId);
  }
}

/** A canonical link item, re-checked field by field. */
function toLink(item: Record<string, unknown>): LinkRecord {
  const expiresAt = optionalTime(item.expiresAt, 'link');
  const lastUsedAt = optionalTime(item.lastUsedAt, 'link');
  return {
    id: storedString(item.id, 'link'),
    owner: storedUsername(item.owner, 'link'),
    ownerUserId: storedString(item.ownerUserId, 'link'),
    path: storedSharePath(item.path, 'link'),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    createdAt: storedTime(item.createdAt, 'link'),
    ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
    ...(typeof item.lastUsedBy === 'string' ? { lastUsedBy: item.lastUsedBy } : {}),
  };
}

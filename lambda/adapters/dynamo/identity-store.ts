/**
 * Identity links on DynamoDB (layout in table-layout.ts). No transactions: the canonical record,
 * keyed by (issuer, subject), is written first with `attribute_not_exists` (one identity, one
 * account, race-safe) and removed first; the pointer in the account's partition, for its
 * listing, is believed only when the canonical record names the same account.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Username } from '../../accounts/username';
import { identityHash } from '../../identities/identity-id';
import type { IdentityLink, IdentityStore } from '../../identities/ports';
import { DynamoTable, queryPartition, storedUsername } from './helpers';
import { storedString, storedTime } from './sharing-items';
import { KEYS } from './table-layout';

/** {@link IdentityStore} on the TVM's table. */
export class DynamoIdentityStore implements IdentityStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async get(issuer: string, subject: string): Promise<IdentityLink | undefined> {
    const item = await this.table.get(KEYS.identity(identityHash(issuer, subject)));
    return item ? toLink(item) : undefined;
  }

  async create(link: IdentityLink): Promise<boolean> {
    const created = await this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.identity(identityHash(link.issuer, link.subject)), ...link },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!created) return false;
    await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.userIdentity(link.username, link.id), issuer: link.issuer, subject: link.subject },
      }),
    );
    return true;
  }

  async listByUser(username: Username, userId: string): Promise<IdentityLink[]> {
    const { pk, skPrefix } = KEYS.userIdentities(username);
    const pointers = await queryPartition(this.table.documents, this.table.name, pk, skPrefix);
    // An account has a handful of identities: one strongly consistent read each.
    const links = await Promise.all(
      pointers.map((pointer) =>
        this.get(storedString(pointer.issuer, 'identity pointer'), storedString(pointer.subject, 'identity pointer')),
      ),
    );
    return links
      .filter(
        (link): link is IdentityLink => link !== undefined && link.username === username && link.userId === userId,
      )
      .sort((a, b) => a.linkedAt - b.linkedAt);
  }

  async remove(link: IdentityLink): Promise<void> {
    // Only the canonical record of this very link: one made since for another account stays.
    await this.table.conditional(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEYS.identity(identityHash(link.issuer, link.subject)),
        ConditionExpression: 'userId = :userId',
        ExpressionAttributeValues: { ':userId': link.userId },
      }),
    );
    await this.table.write(
      new DeleteCommand({ TableName: this.table.name, Key: KEYS.userIdentity(link.username, link.id) }),
    );
  }
}

/** A canonical link item, re-checked field by field. */
function toLink(item: Record<string, unknown>): IdentityLink {
  return {
    id: storedString(item.id, 'identity link'),
    issuer: storedString(item.issuer, 'identity link'),
    subject: storedString(item.subject, 'identity link'),
    provider: storedString(item.provider, 'identity link'),
    username: storedUsername(item.username, 'identity link'),
    userId: storedString(item.userId, 'identity link'),
    linkedAt: storedTime(item.linkedAt, 'identity link'),
  };
}

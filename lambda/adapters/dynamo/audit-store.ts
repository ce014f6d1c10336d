/** The per-user audit trail on DynamoDB (layout in table-layout.ts), newest first. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType, type AuditTrail } from '../../platform/audit';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import { DynamoTable, storedUsername, ttlSeconds, unavailable } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

/** {@link AuditTrail} on DynamoDB. */
export class DynamoAuditTrail implements AuditTrail {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async record(event: AuditEvent, expiresAt: number, entryId?: string): Promise<void> {
    await this.table.write(new PutCommand({ TableName: this.table.name, Item: auditItem(event, expiresAt, entryId) }));
  }

  async recordNothing(event: AuditEvent, expiresAt: number): Promise<void> {
    await this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: auditItem(event, expiresAt),
        // The sort key is new and random, so the item cannot exist: the write always fails.
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }

  async list(username: Username, limit: number): Promise<AuditEvent[]> {
    try {
      const page = await this.table.documents.send(
        new QueryCommand({
          TableName: this.table.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
          ExpressionAttributeValues: {
            ':pk': KEYS.auditEntries(username).pk,
            ':audit': KEYS.auditEntries(username).skPrefix,
          },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (page.Items ?? []).map(toAuditEvent);
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/**
 * The time-ordered tail of an audit entry's sort key. Within one millisecond the process's monotonic clock keeps this
 * instance's events in order (login_failed before locked); the random tail keeps events of
 * two instances apart.
 */
function auditSortKeyTail(at: number): string {
  const tick = (process.hrtime.bigint() % 1_000_000_000_000n).toString().padStart(12, '0');
  return `${String(at).padStart(13, '0')}#${tick}#${randomBytes(4).toString('hex')}`;
}

function toAuditEvent(item: Record<string, unknown>): AuditEvent {
  const type = item.type as AuditEventType;
  if (!AUDIT_EVENT_TYPES.includes(type)) throw new BackendUnavailableError('DynamoDB (corrupt audit item)');
  return {
    username: storedUsername(item.username),
    type,
    at: Number(item.at),
    ...(typeof item.sourceIp === 'string' ? { sourceIp: item.sourceIp } : {}),
    ...(typeof item.userAgent === 'string' ? { userAgent: item.userAgent } : {}),
    ...(item.details && typeof item.details === 'object'
      ? { details: item.details as Record<string, string | number> }
      : {}),
  };
}

/**
 * One audit entry as stored: the event under a new, random sort key (or, given `entryId`, the
 * key that id and the event's time fix, so the entry can be rewritten), gone with DynamoDB's
 * TTL at `expiresAt`.
 */
function auditItem(event: AuditEvent, expiresAt: number, entryId?: string): Record<string, unknown> {
  const tail = entryId === undefined ? auditSortKeyTail(event.at) : `${String(event.at).padStart(13, '0')}#${entryId}`;
  return {
    ...KEYS.audit(event.username, tail),
    ...event,
    [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(expiresAt),
  };
}

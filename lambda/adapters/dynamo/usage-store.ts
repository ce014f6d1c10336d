/**
 * The storage meter's state on DynamoDB (layout in table-layout.ts): one item per object of a
 * folder (`OBJECT#<key>`) and the folder's totals (`USAGE`), which also holds the meter's lease.
 *
 * No transactions (the sandbox's dynalite has none), yet a change is counted exactly once:
 * only the lease holder writes a folder's items (every totals write is conditional on its
 * lease), and a change is written in three steps, each safe to repeat:
 * 1. the object's new state, with the change it makes to the totals as `pending` (a token);
 * 2. the totals: ADD the change, SET `lastApplied` to the token, only under the lease;
 * 3. REMOVE `pending` from the object.
 * A holder that dies between steps leaves `pending` behind: the next one to read the object
 * (or the next lease holder, for the object `lastAppliedKey` names) finishes it, applying the
 * change to the totals only if `lastApplied` is not already its token.
 * Items carry the account's `userId`: what an earlier account of the same name left counts
 * for nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import type { Clock } from '../../platform/clock';
import { TOMBSTONE_DAYS } from '../../usage/meter';
import type { FolderLease, MeterStore, ObjectState, UsageDelta } from '../../usage/ports';
import type { UsageTotals } from '../../usage/quota';
import { toUsageTotals } from './usage-totals';
import { parseSequencer } from '../../usage/sequencer';
import { DynamoTable, queryPartition, ttlSeconds } from './helpers';
import { KEYS, TABLE_LAYOUT, type ItemKey } from './table-layout';

/** Keys of at most this many UTF-8 bytes are their own sort key; longer ones (S3 allows 1,024) go by hash, under DynamoDB's 1,024. */
const MAX_PLAIN_KEY_BYTES = 900;
const DAY_MS = 86_400_000;

/** The sort-key name of a key in the folder (the full key is kept in the item's `key` attribute). */
function storedKeyName(keyInFolder: string): string {
  if (Buffer.byteLength(keyInFolder, 'utf8') <= MAX_PLAIN_KEY_BYTES) return keyInFolder;
  return `~sha256:${createHash('sha256').update(keyInFolder, 'utf8').digest('base64url')}`;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** The totals of a USAGE item, for `registration` (empty for another account's): the one reading, shared with the vend. */
const totalsOf = toUsageTotals;

interface StoredObject {
  readonly key: string;
  readonly state: ObjectState;
  readonly rev: number;
  readonly pending?: { readonly token: string; readonly bytes: number; readonly objects: number };
}

/** An object item read back, checked; undefined when it belongs to another registration. */
function toStoredObject(item: Record<string, unknown>, registration: string): StoredObject | undefined {
  if (item.userId !== registration) return undefined;
  const sequencer = parseSequencer(item.sequencer);
  if (typeof item.key !== 'string' || sequencer === undefined || typeof item.present !== 'boolean')
    throw new BackendUnavailableError('DynamoDB (corrupt meter object item)');
  const state: ObjectState = {
    present: item.present,
    size: num(item.size),
    sequencer,
    changedAt: num(item.changedAt),
    ...(typeof item.versionId === 'string' ? { versionId: item.versionId } : {}),
  };
  const pending = item.pending as Record<string, unknown> | undefined;
  return {
    key: item.key,
    state,
    rev: num(item.rev),
    ...(pending && typeof pending.token === 'string'
      ? { pending: { token: pending.token, bytes: num(pending.bytes), objects: num(pending.objects) } }
      : {}),
  };
}

/** {@link MeterStore} on the TVM's table. */
export class DynamoUsageStore implements MeterStore {
  private readonly table: DynamoTable;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly clock: Clock,
  ) {
    this.table = new DynamoTable(client, tableName);
  }

  async totals(username: Username, registration: string): Promise<UsageTotals> {
    return totalsOf(await this.table.get(KEYS.usage(username)), registration);
  }

  async lease(
    username: Username,
    registration: string,
    holder: string,
    leaseMs: number,
  ): Promise<FolderLease | undefined> {
    const now = this.clock.now();
    const leaseId = randomUUID();
    let item: Record<string, unknown>;
    try {
      const answer = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.usage(username),
          // The totals exist from the first lease on, so a reader never finds a USAGE item without them.
          UpdateExpression:
            'SET leaseId = :id, leaseHolder = :holder, leaseUntil = :until, bytes = if_not_exists(bytes, :zero), objects = if_not_exists(objects, :zero)',
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
          ExpressionAttributeValues: {
            ':id': leaseId,
            ':holder': holder,
            ':until': now + leaseMs,
            ':now': now,
            ':zero': 0,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      item = answer.Attributes ?? {};
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return undefined;
      throw new BackendUnavailableError('DynamoDB', { cause: error });
    }
    const lease = new DynamoFolderLease(this.table, this.clock, username, registration, leaseId, leaseMs, item);
    await lease.start();
    return lease;
  }
}

/** One holder's lease on one folder. */
class DynamoFolderLease implements FolderLease {
  /** Each key's `rev` as last read or written here: every object write is conditional on it. */
  private readonly revs = new Map<string, number>();
  private lastApplied: string | undefined;

  constructor(
    private readonly table: DynamoTable,
    private readonly clock: Clock,
    private readonly username: Username,
    private readonly registration: string,
    private readonly leaseId: string,
    private readonly leaseMs: number,
    private usage: Record<string, unknown>,
  ) {
    this.lastApplied = typeof usage.lastApplied === 'string' ? usage.lastApplied : undefined;
  }

  /** Starts the lease: an earlier account's totals are zeroed; a change a dead holder left half-done is finished. */
  async start(): Promise<void> {
    if (this.usage.userId !== this.registration) {
      await this.updateUsage('SET bytes = :zero, objects = :zero, userId = :reg REMOVE lastApplied, lastAppliedKey', {
        ':zero': 0,
        ':reg': this.registration,
      });
      this.lastApplied = undefined;
      return;
    }
    if (typeof this.usage.lastAppliedKey === 'string') await this.read(this.usage.lastAppliedKey);
  }

  async read(keyInFolder: string): Promise<ObjectState | undefined> {
    const item = await this.table.get(this.objectKey(keyInFolder));
    const stored = item ? toStoredObject(item, this.registration) : undefined;
    this.revs.set(keyInFolder, item ? num(item.rev) : 0);
    if (stored === undefined) return undefined;
    if (stored.pending) await this.finish(keyInFolder, stored.pending);
    return stored.state;
  }

  async write(keyInFolder: string, next: ObjectState, delta: UsageDelta): Promise<void> {
    const changes = delta.bytes !== 0 || delta.objects !== 0;
    const pending = changes ? { token: randomUUID(), bytes: delta.bytes, objects: delta.objects } : undefined;
    await this.putObject(keyInFolder, next, pending);
    if (pending) await this.finish(keyInFolder, pending);
  }

  async states(): Promise<Map<string, ObjectState>> {
    const { pk, skPrefix } = KEYS.meteredObjects(this.username);
    const items = await queryPartition(this.table.documents, this.table.name, pk, skPrefix);
    const states = new Map<string, ObjectState>();
    for (const item of items) {
      const stored = toStoredObject(item, this.registration);
      if (stored === undefined) continue;
      this.revs.set(stored.key, stored.rev);
      if (stored.pending) await this.finish(stored.key, stored.pending);
      states.set(stored.key, stored.state);
    }
    return states;
  }

  async replace(keyInFolder: string, next: ObjectState): Promise<void> {
    if (!this.revs.has(keyInFolder)) await this.read(keyInFolder);
    await this.putObject(keyInFolder, next, undefined);
  }

  async setTotals(totals: UsageTotals): Promise<void> {
    await this.updateUsage('SET bytes = :bytes, objects = :objects, updatedAt = :now REMOVE lastAppliedKey', {
      ':bytes': totals.bytes,
      ':objects': totals.objects,
      ':now': this.clock.now(),
    });
  }

  async totals(): Promise<UsageTotals> {
    return totalsOf(await this.table.get(KEYS.usage(this.username)), this.registration);
  }

  async renew(): Promise<void> {
    await this.updateUsage('SET leaseUntil = :until', { ':until': this.clock.now() + this.leaseMs });
  }

  async release(): Promise<void> {
    // A lease lost meanwhile (it outlived its time) is someone else's now: nothing to release.
    await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.usage(this.username),
        UpdateExpression: 'REMOVE leaseId, leaseHolder, leaseUntil, lastAppliedKey',
        ConditionExpression: 'leaseId = :id',
        ExpressionAttributeValues: { ':id': this.leaseId },
      }),
    );
  }

  /** Steps 2 and 3 of a change (see the module comment), for a pending change just written or found. */
  private async finish(keyInFolder: string, pending: NonNullable<StoredObject['pending']>): Promise<void> {
    if (this.lastApplied !== pending.token) {
      await this.updateUsage(
        'ADD bytes :bytes, objects :objects SET lastApplied = :token, lastAppliedKey = :key, updatedAt = :now',
        {
          ':bytes': pending.bytes,
          ':objects': pending.objects,
          ':token': pending.token,
          ':key': keyInFolder,
          ':now': this.clock.now(),
        },
      );
      this.lastApplied = pending.token;
    }
    const rev = this.revs.get(keyInFolder) ?? 0;
    const cleared = await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: this.objectKey(keyInFolder),
        UpdateExpression: 'REMOVE pending SET rev = :next',
        ConditionExpression: 'rev = :rev AND pending.#token = :token',
        ExpressionAttributeNames: { '#token': 'token' },
        ExpressionAttributeValues: { ':rev': rev, ':next': rev + 1, ':token': pending.token },
      }),
    );
    if (!cleared) throw new BackendUnavailableError('DynamoDB (meter object changed under the lease)');
    this.revs.set(keyInFolder, rev + 1);
  }

  /** Step 1: the object's state (and its pending change), conditional on the rev last seen here. */
  private async putObject(
    keyInFolder: string,
    next: ObjectState,
    pending: StoredObject['pending'] | undefined,
  ): Promise<void> {
    const rev = this.revs.get(keyInFolder) ?? 0;
    const ttl = next.present
      ? {}
      : { [TABLE_LAYOUT.timeToLiveAttribute]: ttlSeconds(this.clock.now() + TOMBSTONE_DAYS * DAY_MS) };
    const written = await this.table.conditional(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...this.objectKey(keyInFolder),
          key: keyInFolder,
          userId: this.registration,
          present: next.present,
          size: next.size,
          sequencer: next.sequencer,
          changedAt: next.changedAt,
          ...(next.versionId !== undefined ? { versionId: next.versionId } : {}),
          rev: rev + 1,
          ...(pending ? { pending } : {}),
          ...ttl,
        },
        ConditionExpression: rev === 0 ? 'attribute_not_exists(pk) OR rev = :rev' : 'rev = :rev',
        ExpressionAttributeValues: { ':rev': rev },
      }),
    );
    if (!written) throw new BackendUnavailableError('DynamoDB (meter object changed under the lease)');
    this.revs.set(keyInFolder, rev + 1);
  }

  /** A write to the totals item, only while this lease holds: otherwise a 503 and the batch is retried. */
  private async updateUsage(expression: string, values: Record<string, unknown>): Promise<void> {
    const held = await this.table.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEYS.usage(this.username),
        UpdateExpression: expression,
        ConditionExpression: 'leaseId = :leaseId',
        ExpressionAttributeValues: { ...values, ':leaseId': this.leaseId },
      }),
    );
    if (!held) throw new BackendUnavailableError('DynamoDB (meter lease lost)');
  }

  private objectKey(keyInFolder: string): ItemKey {
    return KEYS.meteredObject(this.username, storedKeyName(keyInFolder));
  }
}

/**
 * The share and link stores against dynalite: the items each write leaves, the per-owner count
 * on the user item (tied to the registration), pointers believed only when the canonical record
 * confirms them, idempotent removal, and a tampered item refused as a 503.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { UserRecord } from '../../lambda/accounts/ports';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { documentClient } from '../../lambda/adapters/dynamo/helpers';
import { DynamoLinkStore } from '../../lambda/adapters/dynamo/link-store';
import { DynamoShareStore } from '../../lambda/adapters/dynamo/share-store';
import { dynamoStores } from '../../lambda/adapters/dynamo/stores';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { BackendUnavailableError } from '../../lambda/platform/errors';
import type { LinkRecord, ShareRecord } from '../../lambda/sharing/ports';
import { newGrantId } from '../../lambda/sharing/requests';
import type { SharePath } from '../../lambda/sharing/share-path';
import { thrown } from '../support/async';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-sharing-stores';
const NOW = Date.UTC(2026, 11, 2);
let dynamo: TestDynamoDb;
let shares: DynamoShareStore;
let links: DynamoLinkStore;
let serial = 0;

/** A fresh registered user (each test its own names). */
async function user(prefix: string): Promise<UserRecord> {
  const record: UserRecord = {
    username: parseUsername(`${prefix}${++serial}`),
    userId: `id-${prefix}-${serial}`,
    passwordHash: 'tvm2$not-a-real-hash',
    createdAt: NOW,
    disabled: false,
    sessionGeneration: 0,
  };
  await dynamoStores(dynamo.client, TABLE).users.createUser(record);
  return record;
}

function share(owner: UserRecord, grantee: UserRecord, overrides: Partial<ShareRecord> = {}): ShareRecord {
  return {
    id: newGrantId(),
    owner: owner.username,
    ownerUserId: owner.userId,
    grantee: grantee.username,
    granteeUserId: grantee.userId,
    path: 'photos/' as SharePath,
    access: 'read',
    createdAt: NOW + serial++,
    ...overrides,
  };
}

function link(owner: UserRecord, overrides: Partial<LinkRecord> = {}): LinkRecord {
  return {
    id: newGrantId(),
    owner: owner.username,
    ownerUserId: owner.userId,
    path: 'photos/a.jpg' as SharePath,
    createdAt: NOW + serial++,
    ...overrides,
  };
}

const count = async (owner: Username, attribute: 'shareCount' | 'linkCount') =>
  (await documentClient(dynamo.client).send(new GetCommand({ TableName: TABLE, Key: KEYS.user(owner) }))).Item?.[
    attribute
  ] as number | undefined;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  shares = new DynamoShareStore(dynamo.client, TABLE);
  links = new DynamoLinkStore(dynamo.client, TABLE);
});

afterAll(() => dynamo.stop());

describe('DynamoShareStore', () => {
  it('stores a share as a canonical record and a pointer; both sides list it; removing it removes both', async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    const record = share(alice, bob, { expiresAt: NOW + 86_400_000 });
    await shares.put(record);
    expect(await shares.get(alice.username, record.id)).toEqual(record);
    expect(await shares.receivedFrom(bob.username, record.id)).toBe(alice.username);
    expect(await shares.listGiven(alice.username)).toEqual([record]);
    expect(await shares.listReceived(bob.username)).toEqual([record]);
    expect(await shares.listReceived(alice.username)).toEqual([]);
    await shares.recordUse(record, NOW + 5, bob.username);
    expect(await shares.get(alice.username, record.id)).toEqual({
      ...record,
      lastUsedAt: NOW + 5,
      lastUsedBy: bob.username,
    });
    await shares.remove(record);
    await shares.remove(record);
    expect(await shares.get(alice.username, record.id)).toBeUndefined();
    expect(await shares.receivedFrom(bob.username, record.id)).toBeUndefined();
    expect(await shares.listReceived(bob.username)).toEqual([]);
  });

  it('the count: reserved below the limit only, tied to the registration, lowered once per removal, never below zero', async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    expect(await shares.reserve(alice.username, alice.userId, 2)).toBe(true);
    expect(await shares.reserve(alice.username, alice.userId, 2)).toBe(true);
    expect(await shares.reserve(alice.username, alice.userId, 2)).toBe(false);
    expect(await shares.reserve(alice.username, 'another-registration', 5)).toBe(false);
    expect(await shares.reserve(parseUsername('nobody-registered'), 'x', 5)).toBe(false);
    const record = share(alice, bob);
    await shares.put(record);
    await shares.remove(record);
    await shares.remove(record);
    expect(await count(alice.username, 'shareCount')).toBe(1);
    await shares.recount(alice.username, alice.userId, 0);
    await shares.remove({ ...record, id: newGrantId() });
    expect(await count(alice.username, 'shareCount')).toBe(0);
    // A recount for another registration changes nothing.
    await shares.recount(alice.username, 'another-registration', 7);
    expect(await count(alice.username, 'shareCount')).toBe(0);
  });

  it('a pointer the canonical record does not confirm is not a received share', async () => {
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    const record = share(alice, bob);
    await shares.put(record);
    // Carol writes herself a pointer to it (as a crash or a forged item would leave one).
    await documentClient(dynamo.client).send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...KEYS.shareReceived(carol.username, record.id), shareId: record.id, owner: alice.username },
      }),
    );
    expect(await shares.listReceived(carol.username)).toEqual([]);
    expect(await shares.listReceived(bob.username)).toEqual([record]);
  });

  it('lists more received shares than one BatchGetItem reads (100)', async () => {
    const bob = await user('bob');
    const owners = await Promise.all(Array.from({ length: 3 }, () => user('owner')));
    const given = owners.flatMap((owner) => Array.from({ length: 40 }, () => share(owner, bob)));
    for (const record of given) await shares.put(record);
    const received = await shares.listReceived(bob.username);
    expect(received).toHaveLength(120);
    expect(received.map((record) => record.id).sort()).toEqual(given.map((record) => record.id).sort());
  });

  it('a tampered canonical record (a path with a wildcard) is a 503, never a share', async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    const record = share(alice, bob);
    await documentClient(dynamo.client).send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...KEYS.share(alice.username, record.id), ...record, path: 'photos/*' },
      }),
    );
    expect(await thrown(shares.get(alice.username, record.id))).toBeInstanceOf(BackendUnavailableError);
  });
});

describe('DynamoLinkStore', () => {
  it('stores a link under its own key and in the owner listing; opens are recorded; removal is idempotent', async () => {
    const alice = await user('alice');
    const record = link(alice, { expiresAt: NOW + 3_600_000 });
    expect(await links.reserve(alice.username, alice.userId, 100)).toBe(true);
    await links.put(record);
    expect(await links.get(record.id)).toEqual(record);
    expect(await links.listByOwner(alice.username)).toEqual([record]);
    await links.recordOpen(record, NOW + 9, '198.51.100.7');
    expect(await links.get(record.id)).toEqual({ ...record, lastUsedAt: NOW + 9, lastUsedBy: '198.51.100.7' });
    await links.remove(record);
    await links.remove(record);
    expect(await links.get(record.id)).toBeUndefined();
    expect(await links.listByOwner(alice.username)).toEqual([]);
    expect(await count(alice.username, 'linkCount')).toBe(0);
    // An open after the removal records nothing (no item is created again).
    await links.recordOpen(record, NOW + 10, '198.51.100.7');
    expect(await links.get(record.id)).toBeUndefined();
  });

  it("an owner's listing shows their links only", async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    const mine = link(alice);
    await links.put(mine);
    await links.put(link(bob));
    expect(await links.listByOwner(alice.username)).toEqual([mine]);
  });
});

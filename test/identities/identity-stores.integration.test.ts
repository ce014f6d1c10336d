/**
 * The nonce and identity-link stores against dynalite: a nonce is consumed once (of parallel
 * consumes exactly one wins) and never after its expiry; one identity links to one account
 * (parallel creates: one wins); pointers are believed only when the canonical link confirms
 * them; removal leaves a newer link of the same identity alone; a tampered link is a 503.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { parseUsername } from '../../lambda/accounts/username';
import { documentClient } from '../../lambda/adapters/dynamo/helpers';
import { DynamoIdentityStore } from '../../lambda/adapters/dynamo/identity-store';
import { DynamoNonceStore } from '../../lambda/adapters/dynamo/nonce-store';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { hashNonce, identityHash, identityId, newNonce } from '../../lambda/identities/identity-id';
import type { IdentityLink } from '../../lambda/identities/ports';
import { BackendUnavailableError } from '../../lambda/platform/errors';
import { thrown } from '../support/async';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-identity-stores';
const NOW = Date.UTC(2026, 11, 7);
const ISSUER = 'https://accounts.example.com';
let dynamo: TestDynamoDb;
let nonces: DynamoNonceStore;
let identities: DynamoIdentityStore;
let serial = 0;

function link(username: string, overrides: Partial<IdentityLink> = {}): IdentityLink {
  const subject = overrides.subject ?? `sub-${++serial}`;
  return {
    id: identityId(ISSUER, subject),
    issuer: ISSUER,
    subject,
    provider: 'acme',
    username: parseUsername(username),
    userId: `id-${username}`,
    linkedAt: NOW + serial,
    ...overrides,
  };
}

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  nonces = new DynamoNonceStore(dynamo.client, TABLE);
  identities = new DynamoIdentityStore(dynamo.client, TABLE);
});

afterAll(() => dynamo.stop());

describe('DynamoNonceStore', () => {
  it('stores only the hash, with a TTL; a nonce is consumed once', async () => {
    const nonce = newNonce();
    await nonces.put(hashNonce(nonce), NOW + 600_000);
    const item = await documentClient(dynamo.client).send(
      new GetCommand({ TableName: TABLE, Key: KEYS.oidcNonce(hashNonce(nonce)) }),
    );
    expect(item.Item).toEqual({
      ...KEYS.oidcNonce(hashNonce(nonce)),
      expiresAt: NOW + 600_000,
      ttl: (NOW + 600_000) / 1000,
    });
    expect(JSON.stringify(item.Item)).not.toContain(nonce);
    expect(await nonces.consume(hashNonce(nonce), NOW)).toBe(true);
    expect(await nonces.consume(hashNonce(nonce), NOW)).toBe(false);
  });

  it('of ten parallel consumes of one nonce, exactly one wins', async () => {
    const hash = hashNonce(newNonce());
    await nonces.put(hash, NOW + 600_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => nonces.consume(hash, NOW)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('an expired nonce (TTL not yet run) and an unknown one are not consumed', async () => {
    const hash = hashNonce(newNonce());
    await nonces.put(hash, NOW + 600_000);
    expect(await nonces.consume(hash, NOW + 600_000)).toBe(false);
    expect(await nonces.consume(hashNonce(newNonce()), NOW)).toBe(false);
  });
});

describe('DynamoIdentityStore', () => {
  it('writes the canonical link by (issuer, subject) and a pointer in the account; lists and removes both', async () => {
    const record = link('alice');
    expect(await identities.create(record)).toBe(true);
    expect(await identities.get(ISSUER, record.subject)).toEqual(record);
    expect(await identities.listByUser(record.username, record.userId)).toEqual([record]);
    const pointer = await documentClient(dynamo.client).send(
      new GetCommand({ TableName: TABLE, Key: KEYS.userIdentity(record.username, record.id) }),
    );
    expect(pointer.Item).toBeDefined();
    await identities.remove(record);
    await identities.remove(record);
    expect(await identities.get(ISSUER, record.subject)).toBeUndefined();
    expect(await identities.listByUser(record.username, record.userId)).toEqual([]);
  });

  it('one identity, one account: of parallel creates for two accounts exactly one wins', async () => {
    const subject = `contested-${++serial}`;
    const results = await Promise.all(
      ['bob', 'carol', 'dave'].map((name) => identities.create(link(name, { subject }))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('the same subject at another issuer is another identity', async () => {
    const subject = `shared-${++serial}`;
    expect(await identities.create(link('erin', { subject }))).toBe(true);
    expect(
      await identities.create(
        link('frank', { subject, issuer: 'https://other.example', id: identityId('https://other.example', subject) }),
      ),
    ).toBe(true);
  });

  it('a pointer the canonical link does not confirm (another registration) lists nothing', async () => {
    const record = link('gina');
    await identities.create(record);
    expect(await identities.listByUser(record.username, 'a-later-registration')).toEqual([]);
  });

  it("removing an old account's link leaves a newer link of the same identity alone", async () => {
    const old = link('hank');
    await identities.create(old);
    await identities.remove(old);
    const newer = link('ivan', { subject: old.subject, id: old.id });
    await identities.create(newer);
    await identities.remove(old);
    expect(await identities.get(ISSUER, old.subject)).toEqual(newer);
  });

  it('a tampered link item is a 503, never a link', async () => {
    const record = link('judy');
    await documentClient(dynamo.client).send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...KEYS.identity(identityHash(ISSUER, record.subject)), ...record, username: '../admin' },
      }),
    );
    expect(await thrown(identities.get(ISSUER, record.subject))).toBeInstanceOf(BackendUnavailableError);
  });
});

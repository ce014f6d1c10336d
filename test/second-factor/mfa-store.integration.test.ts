/**
 * Issue 21 on DynamoDB's semantics (dynalite): a passkey credential id is claimed by one
 * account only, even when several race for it, and only its owner's removal releases it;
 * factor counters are kept per scope, reserve atomically and stop at the consecutive ceiling;
 * a login challenge keeps the counter its answers are charged to.
 */
import { PutCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoChallengeStore } from '../../lambda/adapters/dynamo/challenge-store';
import { DynamoFactorStore } from '../../lambda/adapters/dynamo/factor-store';
import type { PasskeyRecord } from '../../lambda/second-factor/ports';
import { parseUsername } from '../../lambda/accounts/username';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-mfa-store';
const NOW = Date.UTC(2026, 11, 7);
const DAY = 86_400_000;
let dynamo: TestDynamoDb;
let store: DynamoFactorStore;
let challenges: DynamoChallengeStore;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  store = new DynamoFactorStore(dynamo.client, TABLE);
  challenges = new DynamoChallengeStore(dynamo.client, TABLE);
});
afterAll(() => dynamo.stop());

const passkey = (id: string): PasskeyRecord => ({ id, publicKey: 'pk', counter: 0, name: 'key', createdAt: NOW });

describe('a passkey credential id is owned once', () => {
  it('of eight accounts racing to claim one id, exactly one gets it, and it stays theirs', async () => {
    const names = Array.from({ length: 8 }, (_, i) => parseUsername(`racer${i}`));
    const claimed = await Promise.all(names.map((name) => store.claimPasskeyId('shared-id', name, `id-${name}`)));
    expect(claimed.filter(Boolean)).toHaveLength(1);
    const winner = names[claimed.indexOf(true)]!;
    expect(await store.passkeyOwner('shared-id')).toEqual({ username: winner, userId: `id-${winner}` });
    expect(await store.claimPasskeyId('shared-id', winner, `id-${winner}`)).toBe(false);
  });

  it("another registration's release or removal never deletes the owner record; the owner's removal does", async () => {
    const alice = parseUsername('alice');
    const mallory = parseUsername('mallory');
    await store.putPendingPasskey(alice, 'id-alice', { challenge: 'c1', expiresAt: NOW + 60_000 });
    expect(await store.claimPasskeyId('alice-key', alice, 'id-alice')).toBe(true);
    expect(await store.addPasskey(alice, 'id-alice', 'c1', passkey('alice-key'))).toBe(true);
    await store.releasePasskeyId('alice-key', 'id-mallory');
    expect(await store.removePasskey(mallory, 'id-mallory', 'alice-key', false)).toBe(false);
    await store.deleteFactors(mallory);
    expect(await store.passkeyOwner('alice-key')).toEqual({ username: alice, userId: 'id-alice' });
    expect(await store.removePasskey(alice, 'id-alice', 'alice-key', false)).toBe(true);
    expect(await store.passkeyOwner('alice-key')).toBeUndefined();
  });
});

describe('a passkey signature counter only grows', () => {
  it('of parallel uses with one counter value (a cloned key), exactly one is recorded; a counter-less key (0) may repeat 0', async () => {
    const carol = parseUsername('carol');
    await store.putPendingPasskey(carol, 'id-carol', { challenge: 'c2', expiresAt: NOW + 60_000 });
    expect(await store.addPasskey(carol, 'id-carol', 'c2', passkey('carol-key'))).toBe(true);
    expect(await store.usePasskey(carol, 'id-carol', 'carol-key', 0, NOW)).toBe(true);
    const uses = await Promise.all(
      Array.from({ length: 6 }, () => store.usePasskey(carol, 'id-carol', 'carol-key', 7, NOW)),
    );
    expect(uses.filter(Boolean)).toHaveLength(1);
    expect(await store.usePasskey(carol, 'id-carol', 'carol-key', 6, NOW)).toBe(false);
    expect(await store.usePasskey(carol, 'id-carol', 'carol-key', 0, NOW)).toBe(false);
    expect(await store.usePasskey(carol, 'id-carol', 'carol-key', 8, NOW)).toBe(true);
    expect(await store.usePasskey(carol, 'id-other', 'carol-key', 9, NOW)).toBe(false);
  });
});

describe('a factor added voids the other pending ceremony', () => {
  it('confirming an app drops a pending passkey registration, and adding a passkey drops a pending app', async () => {
    const dave = parseUsername('dave');
    await store.putPendingPasskey(dave, 'id-dave', { challenge: 'c3', expiresAt: NOW + 60_000 });
    await store.putPendingTotp(dave, 'id-dave', { secret: 'S1', expiresAt: NOW + 60_000 });
    expect(await store.confirmTotp(dave, 'id-dave', 'S1', { secret: 'S1', confirmedAt: NOW, lastUsedStep: 1 })).toBe(
      true,
    );
    expect((await store.getFactors(dave))?.pendingPasskey).toBeUndefined();
    expect(await store.addPasskey(dave, 'id-dave', 'c3', passkey('dave-key'))).toBe(false);
    const erin = parseUsername('erin');
    await store.putPendingTotp(erin, 'id-erin', { secret: 'S2', expiresAt: NOW + 60_000 });
    await store.putPendingPasskey(erin, 'id-erin', { challenge: 'c4', expiresAt: NOW + 60_000 });
    expect(await store.addPasskey(erin, 'id-erin', 'c4', passkey('erin-key'))).toBe(true);
    expect((await store.getFactors(erin))?.pendingTotp).toBeUndefined();
    expect(await store.confirmTotp(erin, 'id-erin', 'S2', { secret: 'S2', confirmedAt: NOW, lastUsedStep: 1 })).toBe(
      false,
    );
  });
});

describe('factor counters', () => {
  const limits = { perWindow: 5, consecutive: 100 };

  it('twenty parallel reservations on one counter take exactly five; another scope of the same user is untouched', async () => {
    const bob = parseUsername('bob');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.tryReserveAttempt(bob, 'unknown-device', limits, NOW, NOW + 900_000, NOW + 30 * DAY),
      ),
    );
    expect(results.filter((result) => result.reserved)).toHaveLength(5);
    expect(await store.tryReserveAttempt(bob, 'device:abc', limits, NOW, NOW + 900_000, NOW + 30 * DAY)).toEqual({
      reserved: true,
    });
    expect(await store.tryReserveAttempt(bob, 'session:s1', limits, NOW, NOW + 900_000, NOW + 30 * DAY)).toEqual({
      reserved: true,
    });
    await store.clearAttempts(bob, 'device:abc');
    const refused = await store.tryReserveAttempt(bob, 'unknown-device', limits, NOW, NOW + 900_000, NOW + 30 * DAY);
    expect(refused).toEqual({
      reserved: false,
      state: { attempts: 5, consecutive: 5, windowEndsAt: NOW + 900_000, keepUntil: NOW + 30 * DAY },
    });
  });

  it('stops at the consecutive ceiling across windows until the counter is forgotten or cleared', async () => {
    const carol = parseUsername('carol');
    const tight = { perWindow: 2, consecutive: 3 };
    const keep = NOW + 30 * DAY;
    expect((await store.tryReserveAttempt(carol, 'reset', tight, NOW, NOW + 1000, keep)).reserved).toBe(true);
    expect((await store.tryReserveAttempt(carol, 'reset', tight, NOW, NOW + 1000, keep)).reserved).toBe(true);
    // The window ends: a restart carries the consecutive count on.
    expect(await store.restartAttempts(carol, 'reset', NOW + 1000, NOW + 3000, keep, tight.consecutive, false)).toBe(
      true,
    );
    const atCeiling = await store.tryReserveAttempt(carol, 'reset', tight, NOW + 2000, NOW + 4000, keep);
    expect(atCeiling).toMatchObject({ reserved: false, state: { consecutive: 3 } });
    expect(await store.restartAttempts(carol, 'reset', NOW + 3000, NOW + 5000, keep, tight.consecutive, false)).toBe(
      false,
    );
    // Past keepUntil, a fresh restart starts over.
    expect(await store.restartAttempts(carol, 'reset', NOW + 3000, NOW + 5000, keep, tight.consecutive, true)).toBe(
      true,
    );
    expect(await store.tryReserveAttempt(carol, 'reset', tight, NOW + 4000, NOW + 6000, keep)).toEqual({
      reserved: true,
    });
  });

  it('reads a counter written before the ceiling existed (no consecutive, no keepUntil) as one that lives as long as its window', async () => {
    const documents = DynamoDBDocumentClient.from(dynamo.client);
    await documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'USER#dave', sk: 'MFALOCK', attempts: 5, windowEndsAt: NOW + 1000, ttl: 1 },
      }),
    );
    const refused = await store.tryReserveAttempt(
      parseUsername('dave'),
      'unknown-device',
      limits,
      NOW,
      NOW + 900_000,
      NOW + 30 * DAY,
    );
    expect(refused).toEqual({
      reserved: false,
      state: { attempts: 5, consecutive: 5, windowEndsAt: NOW + 1000, keepUntil: NOW + 1000 },
    });
  });
});

it('a login challenge keeps the counter its answers are charged to and the trusted device it came from', async () => {
  await challenges.putChallenge({
    tokenHash: 'h1',
    username: parseUsername('erin'),
    userId: 'id-erin',
    generation: 0,
    expiresAt: NOW + 300_000,
    attempts: 0,
    kind: 'login',
    lockoutScope: 'device:0123456789abcdef01234567',
    trustedDeviceHash: 'f'.repeat(64),
  });
  expect(await challenges.takeChallengeAttempt('h1', 3, NOW)).toMatchObject({
    lockoutScope: 'device:0123456789abcdef01234567',
    trustedDeviceHash: 'f'.repeat(64),
    attempts: 1,
  });
});
